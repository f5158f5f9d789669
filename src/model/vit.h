#pragma once
// Vision Transformer with Hugging Face semantics (ViTForImageClassification):
// pre-norm blocks, LayerNorm eps from the config, exact erf GELU, the CLS
// token through the final LayerNorm into a linear classifier, no pooler.
// Parameter names are transformers' own (vit.embeddings.*, vit.encoder.layer.N.*,
// vit.layernorm.*, classifier.*), so named_parameters() maps 1:1 onto a
// model.safetensors.
//
// Shapes: B batch, C channels, H/W image side in pixels, P patch side,
// N = (H/P)*(W/P) + 1 tokens, D hidden size, L labels.

#include <torch/torch.h>

#include <map>
#include <string>

#include "image/preprocess.h"
#include "model/config.h"
#include "model/safetensors.h"

namespace bcd {

class ViTForImageClassificationImpl;  // defined in vit_modules.h
}  // namespace bcd

#include "model/vit_modules.h"

namespace bcd {

/// Which tensors a checkpoint must provide.
enum class LoadMode {
  kClassifier,  // a ViTForImageClassification: every tensor, classifier included
  kBackbone,    // a bare ViTModel as a base for training: vit.* (a pooler, if
                // any, is ignored); the classifier keeps its initialisation
};

/// transformers' _init_weights: truncated normal (std 0.02) for linear and
/// conv weights, cls token and position embeddings; zero biases; LayerNorm
/// weight 1, bias 0. Deterministic under torch::manual_seed.
void init_vit_weights(ViTForImageClassification& model);

/// Copies the checkpoint's tensors into the model (converting F16/BF16 to F32).
/// A missing, unexpected or misshapen tensor is a ModelError naming it and the file.
void load_vit_weights(ViTForImageClassification& model, const SafetensorsFile& file, LoadMode mode);

/// Writes config.json, preprocessor_config.json and model.safetensors (F32)
/// into `dir`, each atomically, in the form transformers loads.
void save_vit_model_dir(ViTForImageClassification& model, const PreprocessorConfig& pre,
                        const std::string& dir,
                        const std::map<std::string, std::string>& metadata = {});

/// Loads a model directory written by transformers or by save_vit_model_dir.
struct LoadedViT {
  ViTForImageClassification model{nullptr};
  PreprocessorConfig preprocessor;
};
LoadedViT load_vit_model_dir(const std::string& dir, LoadMode mode);

}  // namespace bcd
