#pragma once
// config.json of a Hugging Face ViT (ViTConfig / ViTForImageClassification).

#include <map>
#include <string>
#include <vector>

namespace bcd {

struct ViTConfig {
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int image_size = 224;
  int patch_size = 16;
  int num_channels = 3;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  // exact erf GELU; the only one supported
  bool qkv_bias = true;
  std::vector<std::string> id2label;  // index = class id; empty for a bare ViTModel
  std::string model_type = "vit";
  std::vector<std::string> architectures;  // e.g. {"ViTForImageClassification"}

  int num_labels() const { return static_cast<int>(id2label.size()); }
  int num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

/// Parses config.json text. A required field that is missing or has the wrong
/// type, or inconsistent values (hidden_size not divisible by heads), is a
/// ModelError naming `path` and the field. id2label keys must be "0".."n-1";
/// label2id, when present, must agree with it.
ViTConfig parse_vit_config(const std::string& json_text, const std::string& path);

/// The config.json transformers writes for ViTForImageClassification.
std::string vit_config_to_json(const ViTConfig& config);

/// Named sizes for training from scratch: "tiny", "small", "base", "large",
/// and the project's "demo". Throws InputError listing the names on anything else.
ViTConfig vit_config_for_size(const std::string& size_name);

}  // namespace bcd
