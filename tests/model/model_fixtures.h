#pragma once
// Shared helpers for the model tests: fixture paths and reference tensors written by
// tools/make_vit_fixtures.py.

#include <torch/torch.h>

#include <iomanip>
#include <sstream>
#include <string>

#include "model/safetensors.h"

namespace bcd::testing {

inline std::string fixture_dir(const std::string& name) {
  return std::string(BCD_SOURCE_DIR) + "/tests/fixtures/model/" + name;
}

/// The reference inputs of a fixture model: U8 pixels -> float32 pixel values computed as
/// ViTImageProcessor does ((u8 / 255 - 0.5) / 0.5), and the expected output.
struct Reference {
  torch::Tensor pixels_u8;  // [B, C, H, W] uint8
  torch::Tensor pixels;     // [B, C, H, W] float32
  torch::Tensor expected;   // [B, L] logits, or [B, D] features for a backbone
};

inline Reference load_reference(const std::string& model_name) {
  const auto file = SafetensorsFile::open(fixture_dir(model_name) + "/reference.safetensors");
  const TensorInfo* u8 = file.find("pixels_u8");
  const TensorInfo* logits = file.find("logits");
  Reference ref;
  ref.pixels_u8 =
      torch::from_blob(const_cast<std::uint8_t*>(file.data(*u8)), u8->shape, torch::kUInt8).clone();
  // float64 product cast to float32, as transformers' rescale does.
  ref.pixels = (ref.pixels_u8.to(torch::kFloat64) * (1.0 / 255.0)).to(torch::kFloat32);
  ref.pixels = (ref.pixels - 0.5) / 0.5;
  auto values = file.to_float32(*logits);
  ref.expected = torch::from_blob(values.data(), logits->shape, torch::kFloat32).clone();
  return ref;
}

/// "1.2e-07": differences this small print as 0.000000 with std::to_string.
inline std::string scientific(double value) {
  std::ostringstream out;
  out << std::scientific << std::setprecision(2) << value;
  return out.str();
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace bcd::testing
