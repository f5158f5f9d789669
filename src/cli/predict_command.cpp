// bcd predict: every label with its softmax score, highest first, for each
// image, as transformers' pipeline("image-classification") answers.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <future>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "common/errors.h"
#include "common/files.h"
#include "common/log.h"
#include "data/dataset.h"
#include "image/image.h"
#include "image/preprocess.h"
#include "model/classifier.h"

namespace bcd::cli {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keeps "path" first, as written

namespace {

struct PredictArgs {
  std::string model_dir;
  std::vector<std::string> inputs;
  int top_k = 0;
  int threads = 0;
  int batch_size = 16;
};

/// Files named on the command line, and the images found (recursively, sorted)
/// in folders named there. BUSI lesion masks inside folders are left out.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!fs::is_directory(input, ec)) {
      paths.push_back(input);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(input)) {
      const auto p = e.path().string();
      if (e.is_regular_file() && has_image_extension(p) && !is_mask_file(p)) found.push_back(p);
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) spdlog::warn("{}: folder holds no .png, .jpg, .jpeg or .bmp image", input);
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

json scores_json(const Prediction& prediction, int k) {
  json scores = json::array();
  for (const auto& ls : top_k(prediction, k)) {
    scores.push_back({{"label", ls.label}, {"score", ls.score}});
  }
  return scores;
}

/// One chunk of paths, decoded and preprocessed: the model's input for the images that
/// could be read, and an error message for those that could not.
struct PreparedChunk {
  std::vector<std::string> paths;
  std::vector<std::string> errors;  // by path; empty: the image is in `pixels`
  std::vector<float> pixels;        // n_images x C x H x W, in path order
  int n_images = 0;
};

PreparedChunk prepare_chunk(std::vector<std::string> paths, const PreprocessorConfig& config) {
  const std::size_t per_image = 3 * static_cast<std::size_t>(config.height) * config.width;
  PreparedChunk chunk;
  chunk.errors.resize(paths.size());
  chunk.pixels.resize(paths.size() * per_image);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    try {
      const Image image = load_image(paths[i]);
      preprocess_into(image, config, chunk.pixels.data() + chunk.n_images * per_image);
      ++chunk.n_images;
    } catch (const InputError& e) {
      chunk.errors[i] = e.what();
    }
  }
  chunk.pixels.resize(chunk.n_images * per_image);  // the failed images' slots
  chunk.paths = std::move(paths);
  return chunk;
}

/// Classifies a prepared chunk; failures become error entries in `results`.
void predict_chunk(const Classifier& classifier, const PreparedChunk& chunk, int top_k_labels,
                   json& results, int& n_failed) {
  std::vector<Prediction> predictions;
  if (chunk.n_images > 0) predictions = classifier.classify_pixels(chunk.pixels, chunk.n_images);
  std::size_t next = 0;
  for (std::size_t i = 0; i < chunk.paths.size(); ++i) {
    json entry = {{"path", chunk.paths[i]}};
    if (chunk.errors[i].empty()) {
      entry["scores"] = scores_json(predictions[next++], top_k_labels);
    } else {
      entry["error"] = chunk.errors[i];
      spdlog::error("{}", chunk.errors[i]);
      ++n_failed;
    }
    results.push_back(std::move(entry));
  }
}

int run_predict(const PredictArgs& args) {
  const auto paths = expand_inputs(args.inputs);
  if (paths.empty()) throw InputError("no images to classify in the paths given");

  ClassifierOptions options;
  options.threads = args.threads;
  options.max_batch_size = args.batch_size;
  const auto classifier = Classifier::load(args.model_dir, options);

  // While the model runs on one chunk, the next is decoded and resized on another thread:
  // decoding a large original costs a tenth of a ViT-B forward pass, and hides behind it.
  const auto chunk = static_cast<std::size_t>(args.batch_size);
  const auto prepare_from = [&](std::size_t begin) {
    std::vector<std::string> part(paths.begin() + begin,
                                  paths.begin() + std::min(paths.size(), begin + chunk));
    return std::async(std::launch::async, prepare_chunk, std::move(part),
                      std::cref(classifier->preprocessor()));
  };
  json results = json::array();
  int n_failed = 0;
  Progress progress("predict", paths.size());
  auto next = prepare_from(0);
  for (std::size_t begin = 0; begin < paths.size(); begin += chunk) {
    const PreparedChunk current = next.get();
    if (begin + chunk < paths.size()) next = prepare_from(begin + chunk);
    predict_chunk(*classifier, current, args.top_k, results, n_failed);
    progress.advance(current.paths.size());
  }
  progress.finish();

  write_stdout(results.dump(2) + "\n");
  if (n_failed > 0) {
    spdlog::error("{} of {} images could not be classified (see their \"error\" entries)", n_failed,
                  paths.size());
    return kExitPartialFailure;
  }
  return kExitOk;
}

}  // namespace

RunFn add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand(
      "predict", "Classify images: every label with its score, highest first, as JSON on stdout");
  add_model_option(*cmd, args->model_dir);
  cmd->add_option("images", args->inputs, "Image files (PNG, JPEG, BMP) or folders of them")
      ->required();
  cmd->add_option("-k,--top-k", args->top_k, "Labels per image, highest first (0: all)")
      ->check(at_least(0))
      ->capture_default_str();
  add_threads_option(*cmd, args->threads);
  add_batch_size_option(*cmd, args->batch_size);
  return [args] { return run_predict(*args); };
}

}  // namespace bcd::cli
