#include "model/classifier.h"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <thread>

#include "common/errors.h"
#include "common/log.h"
#include "model/vit.h"

namespace bcd {

int Prediction::predicted_id() const {
  if (ranked.empty()) return -1;
  const auto it = std::find_if(probabilities.begin(), probabilities.end(),
                               [&](float p) { return p == ranked.front().score; });
  // ranked.front() is the lowest id with the highest score, and so is the first match here.
  return static_cast<int>(it - probabilities.begin());
}

Prediction make_prediction(const float* logits, const std::vector<std::string>& labels) {
  Prediction prediction;
  const std::size_t n = labels.size();
  prediction.logits.assign(logits, logits + n);
  if (n == 0) return prediction;

  // Softmax in double after subtracting the maximum: no overflow, sums to 1 within float rounding.
  const double max_logit = *std::max_element(logits, logits + n);
  std::vector<double> exps(n);
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    exps[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
    sum += exps[i];
  }
  prediction.probabilities.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    prediction.probabilities[i] = static_cast<float>(exps[i] / sum);
  }

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return prediction.probabilities[a] > prediction.probabilities[b];
  });
  for (const auto id : order)
    prediction.ranked.push_back({labels[id], prediction.probabilities[id]});
  return prediction;
}

std::vector<LabelScore> top_k(const Prediction& prediction, int k) {
  if (k <= 0 || static_cast<std::size_t>(k) >= prediction.ranked.size()) return prediction.ranked;
  return {prediction.ranked.begin(), prediction.ranked.begin() + k};
}

// ---------------------------------------------------------------------------------------------
// Threads

namespace {

using SetThreadsFn = void (*)(int);

/// Calls openblas_set_num_threads in every loaded shared object that defines it. A process can
/// hold two OpenBLAS builds (libblas.so.3 and libopenblas.so.0 may resolve to different
/// ones), and dlsym(RTLD_DEFAULT) would reach only the first.
void set_openblas_threads_everywhere(int n_threads) {
  std::vector<SetThreadsFn> functions;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
        void* handle = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
        if (handle == nullptr) return 0;
        if (void* symbol = dlsym(handle, "openblas_set_num_threads")) {
          auto* list = static_cast<std::vector<SetThreadsFn>*>(out);
          const auto fn = reinterpret_cast<SetThreadsFn>(symbol);
          if (std::find(list->begin(), list->end(), fn) == list->end()) list->push_back(fn);
        }
        dlclose(handle);
        return 0;
      },
      &functions);
  for (const auto fn : functions) fn(n_threads);
  spdlog::debug("compute threads: {} (OpenBLAS copies found: {})", n_threads, functions.size());
}

/// The cores this process may run on (taskset, cgroup cpusets), not all the machine's.
int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

void set_compute_threads(int n_threads) {
  if (n_threads <= 0) n_threads = available_cores();
  at::set_num_threads(n_threads);
  set_openblas_threads_everywhere(n_threads);
}

// ---------------------------------------------------------------------------------------------
// Classifier

struct Classifier::Impl {
  std::string model_dir;
  ClassifierOptions options;
  LoadedViT vit;
  std::int64_t n_parameters = 0;
  // The fused-weight caches and the BLAS thread pools are not safe for concurrent passes.
  std::mutex forward_mutex;

  /// Logits [n, L] for n preprocessed images.
  torch::Tensor forward(const float* pixels, std::int64_t n_images);
  std::vector<Prediction> predictions(const torch::Tensor& logits) const;
};

torch::Tensor Classifier::Impl::forward(const float* pixels, std::int64_t n_images) {
  const ViTConfig& config = vit.model->config();
  const std::int64_t side = config.image_size;
  c10::InferenceMode inference;
  const torch::Tensor input = torch::from_blob(
      const_cast<float*>(pixels), {n_images, config.num_channels, side, side}, torch::kFloat32);
  std::lock_guard<std::mutex> lock(forward_mutex);
  // OpenMP thread counts are per calling thread; apply the process-wide setting to this one.
  at::init_num_threads();
  return vit.model->forward(input).contiguous();
}

std::vector<Prediction> Classifier::Impl::predictions(const torch::Tensor& logits) const {
  const auto& labels = vit.model->config().id2label;
  std::vector<Prediction> out;
  for (std::int64_t i = 0; i < logits.size(0); ++i) {
    out.push_back(make_prediction(logits[i].data_ptr<float>(), labels));
  }
  return out;
}

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::~Classifier() = default;

std::unique_ptr<Classifier> Classifier::load(const std::string& model_dir,
                                             const ClassifierOptions& options) {
  if (options.max_batch_size <= 0) {
    throw InputError("max batch size: expected a positive number, found " +
                     std::to_string(options.max_batch_size));
  }
  set_compute_threads(options.threads);
  auto impl = std::make_unique<Impl>();
  impl->model_dir = model_dir;
  impl->options = options;
  impl->vit = load_vit_model_dir(model_dir, LoadMode::kClassifier);
  if (impl->vit.model->config().num_channels != 3) {
    throw ModelError(model_dir + "/config.json: field 'num_channels': expected 3 (RGB), found " +
                     std::to_string(impl->vit.model->config().num_channels));
  }
  if (impl->vit.model->config().num_labels() == 0) {
    throw ModelError(model_dir +
                     "/config.json: no labels (id2label) and no classifier; this is "
                     "a bare ViTModel, not a ViTForImageClassification");
  }
  impl->vit.model->prepare_inference();
  for (const auto& p : impl->vit.model->parameters()) impl->n_parameters += p.numel();
  spdlog::info("loaded {}: {} layers, hidden {}, {} labels, {} parameters", model_dir,
               impl->vit.model->config().num_hidden_layers, impl->vit.model->config().hidden_size,
               impl->vit.model->config().num_labels(), impl->n_parameters);
  return std::unique_ptr<Classifier>(new Classifier(std::move(impl)));
}

std::vector<Prediction> Classifier::classify(const std::vector<Image>& images) const {
  const PreprocessorConfig& pre = impl_->vit.preprocessor;
  const std::size_t per_image = 3 * static_cast<std::size_t>(pre.height) * pre.width;
  const std::size_t batch = static_cast<std::size_t>(impl_->options.max_batch_size);
  std::vector<Prediction> out;
  out.reserve(images.size());
  std::vector<float> pixels;
  for (std::size_t start = 0; start < images.size(); start += batch) {
    const std::size_t n = std::min(batch, images.size() - start);
    pixels.resize(n * per_image);
    for (std::size_t i = 0; i < n; ++i) {
      const Image& image = images[start + i];
      if (!pre.do_resize && (image.height != pre.height || image.width != pre.width)) {
        throw InputError("image " + std::to_string(start + i) + ": expected " +
                         std::to_string(pre.width) + "x" + std::to_string(pre.height) +
                         " pixels (the preprocessor does not resize), found " +
                         std::to_string(image.width) + "x" + std::to_string(image.height));
      }
      preprocess_into(image, pre, pixels.data() + i * per_image);
    }
    auto chunk = impl_->predictions(impl_->forward(pixels.data(), static_cast<std::int64_t>(n)));
    std::move(chunk.begin(), chunk.end(), std::back_inserter(out));
  }
  return out;
}

std::vector<Prediction> Classifier::classify_pixels(const std::vector<float>& pixels,
                                                    int n_images) const {
  const ViTConfig& config = impl_->vit.model->config();
  const std::size_t per_image =
      static_cast<std::size_t>(config.num_channels) * config.image_size * config.image_size;
  if (n_images < 0 || pixels.size() != per_image * static_cast<std::size_t>(n_images)) {
    throw InputError("pixel values: expected " + std::to_string(n_images) + " x " +
                     std::to_string(per_image) + " floats, found " + std::to_string(pixels.size()));
  }
  const std::size_t batch = static_cast<std::size_t>(impl_->options.max_batch_size);
  std::vector<Prediction> out;
  for (std::size_t start = 0; start < static_cast<std::size_t>(n_images); start += batch) {
    const std::size_t n = std::min(batch, static_cast<std::size_t>(n_images) - start);
    auto chunk = impl_->predictions(
        impl_->forward(pixels.data() + start * per_image, static_cast<std::int64_t>(n)));
    std::move(chunk.begin(), chunk.end(), std::back_inserter(out));
  }
  return out;
}

const ViTConfig& Classifier::config() const { return impl_->vit.model->config(); }
const PreprocessorConfig& Classifier::preprocessor() const { return impl_->vit.preprocessor; }
const std::vector<std::string>& Classifier::labels() const { return config().id2label; }
const std::string& Classifier::model_dir() const { return impl_->model_dir; }
std::int64_t Classifier::n_parameters() const { return impl_->n_parameters; }

}  // namespace bcd
