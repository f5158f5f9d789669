#include "serve/classifier_backend.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/errors.h"
#include "common/files.h"

namespace bcd::serve {
namespace {

namespace fs = std::filesystem;

std::string model_name(const std::string& model_dir) {
  const fs::path config_path = fs::path(model_dir) / "config.json";
  const auto config = nlohmann::json::parse(read_file_text(config_path.string()), nullptr, false);
  if (config.is_object() && config.contains("_name_or_path") &&
      config["_name_or_path"].is_string() && !config["_name_or_path"].get<std::string>().empty()) {
    return config["_name_or_path"].get<std::string>();
  }
  return fs::weakly_canonical(fs::path(model_dir)).filename().string();
}

nlohmann::json model_card(const std::string& model_dir) {
  const fs::path readme = fs::path(model_dir) / "README.md";
  if (!fs::is_regular_file(readme)) return nullptr;
  return read_file_text(readme.string());
}

nlohmann::json describe(const Classifier& classifier, const ModelInfo& info) {
  const ViTConfig& config = classifier.config();
  const PreprocessorConfig& pre = classifier.preprocessor();
  return {
      {"name", info.name},
      {"revision", info.revision},
      {"architecture",
       config.architectures.empty() ? "ViTForImageClassification" : config.architectures[0]},
      {"model_type", config.model_type},
      {"labels", info.labels},
      {"num_labels", info.labels.size()},
      {"input_size",
       {{"channels", config.num_channels}, {"height", pre.height}, {"width", pre.width}}},
      {"image_size", config.image_size},
      {"patch_size", config.patch_size},
      {"hidden_size", config.hidden_size},
      {"num_hidden_layers", config.num_hidden_layers},
      {"num_attention_heads", config.num_attention_heads},
      {"num_parameters", classifier.n_parameters()},
      {"preprocessing",
       {{"resize", pre.do_resize},
        {"resample", "bilinear"},
        {"rescale_factor", pre.rescale_factor},
        {"normalize", pre.do_normalize},
        {"image_mean", pre.image_mean},
        {"image_std", pre.image_std}}},
      {"model_card", model_card(classifier.model_dir())},
  };
}

}  // namespace

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open to compute its fingerprint");
  std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a offset basis and prime
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    for (std::size_t i = 0; i < n; ++i) {
      hash = (hash ^ static_cast<unsigned char>(buffer[i])) * 0x100000001b3ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

ModelBackend load_classifier_backend(const std::string& model_dir,
                                     const ClassifierOptions& options) {
  std::shared_ptr<const Classifier> classifier = Classifier::load(model_dir, options);
  ModelInfo info;
  info.name = model_name(model_dir);
  info.revision = file_fingerprint((fs::path(model_dir) / "model.safetensors").string());
  info.labels = classifier->labels();
  info.description = describe(*classifier, info);
  // Preprocessing runs on the handler threads, in parallel; the batch then
  // needs only the forward pass, the one step that cannot overlap.
  auto prepare = [classifier](const Image& image) {
    return preprocess(image, classifier->preprocessor());
  };
  auto classify = [classifier](const std::vector<ModelInput>& inputs) {
    std::vector<float> pixels;
    pixels.reserve(inputs.empty() ? 0 : inputs.size() * inputs[0].size());
    for (const auto& input : inputs) pixels.insert(pixels.end(), input.begin(), input.end());
    return classifier->classify_pixels(pixels, static_cast<int>(inputs.size()));
  };
  return ModelBackend{std::move(info), std::move(prepare), std::move(classify)};
}

}  // namespace bcd::serve
