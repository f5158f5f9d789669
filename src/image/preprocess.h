#pragma once
// ViTImageProcessor: resize, rescale, normalise, channels first.

#include <array>
#include <string>
#include <vector>

#include "image/image.h"

namespace bcd {

/// The fields of preprocessor_config.json that ViTImageProcessor uses.
struct PreprocessorConfig {
  bool do_resize = true;
  int height = 224;
  int width = 224;
  int resample = 2;  // PIL.Image.BILINEAR; only 2 is supported, others are an error
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};
};

/// Parses preprocessor_config.json text. `size` may be a number or
/// {"height", "width"} (or {"shortest_edge"} equal sides). Missing fields keep
/// ViTImageProcessor's defaults; a field of the wrong type is a ModelError
/// naming `path` and the field.
PreprocessorConfig parse_preprocessor_config(const std::string& json_text,
                                             const std::string& path);

/// The JSON transformers writes for this config (image_processor_type
/// "ViTImageProcessor").
std::string preprocessor_config_to_json(const PreprocessorConfig& config);

/// Pixel values for the model: 3 x height x width floats, channels first,
/// computed as ViTImageProcessor does (float32 arithmetic after an exact
/// rescale). `out` must hold 3 * height * width floats.
void preprocess_into(const Image& image, const PreprocessorConfig& config, float* out);
std::vector<float> preprocess(const Image& image, const PreprocessorConfig& config);

}  // namespace bcd
