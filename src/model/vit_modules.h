#pragma once
// The torch::nn modules of the ViT, one per transformers class, registered under
// transformers' attribute names so that named_parameters() reads like a
// model.safetensors. Owned by the model implementation; see vit.h.
//
// Shapes: B batch, C channels, H/W image side, P patch side, N tokens (patches + CLS),
// D hidden size, Hd heads, d = D / Hd head size, F intermediate size, L labels.
//
// Every forward() works under autograd (training) and without it. Without
// autograd (NoGradGuard or InferenceMode) the blocks work in place where they
// can. Query, key and value are one fused projection; prepare_inference()
// caches its weight for inference, and a forward under autograd or
// load_vit_weights drops that cache again. A model with a cache must not be
// run by two threads at once.

#include <torch/torch.h>

#include <array>

#include "model/config.h"

namespace bcd {

/// A linear layer, y = x W^T + b, as torch::nn::Linear computes it, under the same
/// parameter names. Unlike torch::nn::Linear it leaves its parameters uninitialised:
/// every ViT either loads them all from a checkpoint (load_vit_weights checks that none
/// is missing) or sets them with init_vit_weights, and torch::nn::Linear's own Kaiming
/// initialisation cost 0.3 s of every ViT-B load.
class ViTLinearImpl : public torch::nn::Module {
 public:
  ViTLinearImpl(int in_features, int out_features, bool bias);
  torch::Tensor forward(const torch::Tensor& x) { return torch::linear(x, weight, bias); }
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], undefined without a bias
};
TORCH_MODULE(ViTLinear);

/// ViTPatchEmbeddings: [B, C, H, W] -> [B, N - 1, D] through "projection", a
/// Conv2d whose kernel and stride are the patch size.
class ViTPatchEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ViTPatchEmbeddingsImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& pixel_values);
  torch::nn::Conv2d projection{nullptr};

 private:
  int num_channels_;
  int image_size_;
};
TORCH_MODULE(ViTPatchEmbeddings);

/// ViTEmbeddings: CLS token prepended to the patch embeddings, plus position embeddings.
class ViTEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ViTEmbeddingsImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& pixel_values);  // -> [B, N, D]
  torch::Tensor cls_token;                                   // [1, 1, D]
  torch::Tensor position_embeddings;                         // [1, N, D]
  ViTPatchEmbeddings patch_embeddings{nullptr};
};
TORCH_MODULE(ViTEmbeddings);

/// ViTSelfAttention: multi-head scaled dot-product attention, softmax(q k^T / sqrt(d)) v.
class ViTSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit ViTSelfAttentionImpl(const ViTConfig& config);
  /// x [B, N, D] -> context [B, Nq, D], Nq = 1 when only the CLS query is needed, else N.
  torch::Tensor forward(const torch::Tensor& x, bool cls_only);
  /// Caches the fused query/key/value weight for passes without autograd.
  void prepare_inference();
  /// Drops that cache; passes concatenate the weights again each time.
  void clear_inference_cache();
  ViTLinear query{nullptr}, key{nullptr}, value{nullptr};

 private:
  /// [3D, D] weight and [3D] bias (undefined without qkv_bias) of one fused projection.
  std::pair<torch::Tensor, torch::Tensor> fused_qkv();
  bool fused_cache_valid() const;
  std::array<const torch::Tensor*, 6> qkv_tensors() const;

  int num_heads_;
  int head_size_;
  torch::Tensor fused_weight_, fused_bias_;
  bool cache_enabled_ = false;
  std::array<std::int64_t, 6> fused_versions_{};
  std::array<const void*, 6> fused_pointers_{};
};
TORCH_MODULE(ViTSelfAttention);

/// ViTSelfOutput: the attention's output projection "dense".
class ViTSelfOutputImpl : public torch::nn::Module {
 public:
  explicit ViTSelfOutputImpl(const ViTConfig& config);
  ViTLinear dense{nullptr};
};
TORCH_MODULE(ViTSelfOutput);

/// ViTAttention: "attention" (ViTSelfAttention) then "output" (ViTSelfOutput).
class ViTAttentionImpl : public torch::nn::Module {
 public:
  explicit ViTAttentionImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& x, bool cls_only);
  ViTSelfAttention attention{nullptr};
  ViTSelfOutput output{nullptr};
};
TORCH_MODULE(ViTAttention);

/// ViTIntermediate: gelu(dense(x)), [.., D] -> [.., F].
class ViTIntermediateImpl : public torch::nn::Module {
 public:
  explicit ViTIntermediateImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  ViTLinear dense{nullptr};
};
TORCH_MODULE(ViTIntermediate);

/// ViTOutput: dense(h) + residual, [.., F] -> [.., D].
class ViTOutputImpl : public torch::nn::Module {
 public:
  explicit ViTOutputImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& residual);
  ViTLinear dense{nullptr};
};
TORCH_MODULE(ViTOutput);

/// ViTLayer: a pre-norm transformer block.
class ViTLayerImpl : public torch::nn::Module {
 public:
  explicit ViTLayerImpl(const ViTConfig& config);
  /// x [B, N, D] -> [B, N, D], or [B, 1, D] (the CLS token only) when cls_only.
  torch::Tensor forward(const torch::Tensor& x, bool cls_only);
  ViTAttention attention{nullptr};
  ViTIntermediate intermediate{nullptr};
  ViTOutput output{nullptr};
  torch::nn::LayerNorm layernorm_before{nullptr}, layernorm_after{nullptr};
};
TORCH_MODULE(ViTLayer);

/// ViTEncoder: the blocks, as "layer.0" ... "layer.<n-1>".
class ViTEncoderImpl : public torch::nn::Module {
 public:
  explicit ViTEncoderImpl(const ViTConfig& config);
  /// x [B, N, D] -> [B, 1, D]: the last block computes the CLS token only, the one
  /// output the classifier reads.
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(ViTEncoder);

/// ViTModel without a pooler: embeddings, encoder.layer.N, final layernorm.
class ViTModelImpl : public torch::nn::Module {
 public:
  explicit ViTModelImpl(const ViTConfig& config);
  /// pixel_values [B, C, H, W] -> the CLS token after the final LayerNorm, [B, D].
  torch::Tensor forward(const torch::Tensor& pixel_values);
  ViTEmbeddings embeddings{nullptr};
  ViTEncoder encoder{nullptr};
  torch::nn::LayerNorm layernorm{nullptr};
};
TORCH_MODULE(ViTModel);

/// ViTForImageClassification. forward: pixel_values [B, C, H, W] -> logits [B, L].
/// With no labels (a bare ViTModel config) there is no classifier, as in
/// transformers, and forward returns the CLS features [B, D].
class ViTForImageClassificationImpl : public torch::nn::Module {
 public:
  explicit ViTForImageClassificationImpl(const ViTConfig& config);
  torch::Tensor forward(const torch::Tensor& pixel_values);
  const ViTConfig& config() const { return config_; }
  /// Builds the inference caches (fused qkv weights). Call again after changing weights
  /// other than by training or load_vit_weights, which drop the caches themselves.
  void prepare_inference();
  void clear_inference_cache();
  ViTModel vit{nullptr};
  ViTLinear classifier{nullptr};

 private:
  ViTConfig config_;
};
TORCH_MODULE(ViTForImageClassification);

}  // namespace bcd
