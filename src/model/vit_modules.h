#pragma once
// The torch::nn modules of the ViT. Owned by the model implementation; see vit.h.

#include <torch/torch.h>

#include "model/config.h"

namespace bcd {

/// ViTForImageClassification. forward: pixel_values [B, C, H, W] -> logits [B, L].
class ViTForImageClassificationImpl : public torch::nn::Module {
 public:
  explicit ViTForImageClassificationImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& pixel_values);
  const ViTConfig& config() const { return config_; }

 private:
  ViTConfig config_;
  // Submodules are registered under transformers' names ("vit", "classifier").
};
TORCH_MODULE(ViTForImageClassification);

}  // namespace bcd
