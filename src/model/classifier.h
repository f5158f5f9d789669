#pragma once
// The public inference API: a model directory in, labels with scores out, as
// transformers' pipeline("image-classification") gives them. Torch-free
// header, so the evaluator and the server compile without libtorch.

#include <memory>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/preprocess.h"
#include "model/config.h"

namespace bcd {

struct LabelScore {
  std::string label;
  float score = 0.0f;
};

/// The result for one image.
struct Prediction {
  std::vector<float> logits;         // by class id
  std::vector<float> probabilities;  // softmax of logits, by class id
  std::vector<LabelScore> ranked;    // every label, highest score first (ties: lower id first)
  int predicted_id() const;
};

struct ClassifierOptions {
  int threads = 0;          // 0: all cores (see set_compute_threads)
  int max_batch_size = 16;  // images per forward pass
};

/// Loads config.json, preprocessor_config.json and model.safetensors from a
/// directory (a ViTForImageClassification checkpoint). Throws ModelError
/// naming the file and the tensor or field at fault.
class Classifier {
 public:
  static std::unique_ptr<Classifier> load(const std::string& model_dir,
                                          const ClassifierOptions& options = {});
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  /// Preprocesses and classifies the images in batches of at most
  /// options.max_batch_size. Thread-safe for concurrent callers.
  std::vector<Prediction> classify(const std::vector<Image>& images) const;
  /// Classifies already preprocessed pixel values (n x 3 x H x W floats).
  std::vector<Prediction> classify_pixels(const std::vector<float>& pixels, int n_images) const;

  const ViTConfig& config() const;
  const PreprocessorConfig& preprocessor() const;
  const std::vector<std::string>& labels() const;
  const std::string& model_dir() const;
  /// Number of parameters in the loaded model.
  std::int64_t n_parameters() const;

 private:
  struct Impl;
  explicit Classifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Softmax of logits, ranked highest first, truncated to top_k (<= 0: all).
Prediction make_prediction(const float* logits, const std::vector<std::string>& labels);
std::vector<LabelScore> top_k(const Prediction& prediction, int k);

/// Sets the intra-op threads of libtorch and of OpenBLAS together (0: the
/// number of cores). Call before the first forward pass.
void set_compute_threads(int n_threads);


}  // namespace bcd
