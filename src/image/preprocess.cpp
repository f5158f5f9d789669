// ViTImageProcessor.preprocess for one RGB image: Pillow bilinear resize, then
// rescale in float64 and cast to float32 (transformers' rescale), then
// (x - mean) / std in float32 (transformers' normalize), channels first.

#include "image/preprocess.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "image/resize.h"

namespace bcd {
namespace {

using nlohmann::json;

[[noreturn]] void bad_field(const std::string& path, const std::string& field,
                            const std::string& problem) {
  throw ModelError(path + ": field \"" + field + "\" " + problem);
}

bool read_bool(const json& j, const std::string& path, const char* field, bool fallback) {
  if (!j.contains(field)) return fallback;
  if (!j[field].is_boolean()) {
    bad_field(path, field, "must be true or false, found " + j[field].dump());
  }
  return j[field].get<bool>();
}

double read_number(const json& j, const std::string& path, const std::string& field) {
  if (!j.is_number()) bad_field(path, field, "must be a number, found " + j.dump());
  return j.get<double>();
}

int read_side(const json& j, const std::string& path, const std::string& field) {
  if (!j.is_number_integer() || j.get<std::int64_t>() <= 0 || j.get<std::int64_t>() > 65535) {
    bad_field(path, field, "must be a positive integer, found " + j.dump());
  }
  return j.get<int>();
}

void read_size(const json& j, const std::string& path, PreprocessorConfig& config) {
  if (!j.contains("size")) return;
  const json& size = j["size"];
  if (size.is_number()) {
    config.height = config.width = read_side(size, path, "size");
  } else if (size.is_object() && size.contains("height") && size.contains("width")) {
    config.height = read_side(size["height"], path, "size.height");
    config.width = read_side(size["width"], path, "size.width");
  } else if (size.is_object() && size.contains("shortest_edge")) {
    config.height = config.width = read_side(size["shortest_edge"], path, "size.shortest_edge");
  } else {
    bad_field(
        path, "size",
        "must be an integer, {\"height\", \"width\"} or {\"shortest_edge\"}, found " + size.dump());
  }
}

/// A per-channel statistic: a list of 3 numbers, or one number for all channels.
std::array<float, 3> read_channels(const json& j, const std::string& path, const char* field,
                                   const std::array<float, 3>& fallback) {
  if (!j.contains(field)) return fallback;
  const json& value = j[field];
  if (value.is_number()) {
    const float v = static_cast<float>(value.get<double>());
    return {v, v, v};
  }
  if (!value.is_array() || value.size() != 3) {
    bad_field(path, field, "must be a list of 3 numbers, found " + value.dump());
  }
  std::array<float, 3> out{};
  for (int c = 0; c < 3; ++c) {
    out[c] = static_cast<float>(
        read_number(value[c], path, field + std::string("[") + std::to_string(c) + "]"));
  }
  return out;
}

/// The shortest decimal that reads back as `v`, as a double (0.485f -> 0.485).
double float_as_decimal(float v) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, v);
  double parsed = v;
  std::from_chars(text, result.ptr, parsed);
  return parsed;
}

}  // namespace

PreprocessorConfig parse_preprocessor_config(const std::string& json_text,
                                             const std::string& path) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ModelError(path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object()) throw ModelError(path + ": expected a JSON object, found " + j.type_name());

  PreprocessorConfig config;
  config.do_resize = read_bool(j, path, "do_resize", config.do_resize);
  read_size(j, path, config);
  if (j.contains("resample")) {
    if (!j["resample"].is_number_integer()) {
      bad_field(path, "resample", "must be an integer, found " + j["resample"].dump());
    }
    config.resample = j["resample"].get<int>();
    if (config.resample != 2) {
      bad_field(
          path, "resample",
          "is " + std::to_string(config.resample) + "; only 2 (PIL.Image.BILINEAR) is supported");
    }
  }
  config.do_rescale = read_bool(j, path, "do_rescale", config.do_rescale);
  if (j.contains("rescale_factor")) {
    config.rescale_factor = read_number(j["rescale_factor"], path, "rescale_factor");
  }
  config.do_normalize = read_bool(j, path, "do_normalize", config.do_normalize);
  config.image_mean = read_channels(j, path, "image_mean", config.image_mean);
  config.image_std = read_channels(j, path, "image_std", config.image_std);
  for (int c = 0; c < 3; ++c) {
    if (config.image_std[c] == 0.0f || !std::isfinite(config.image_std[c])) {
      bad_field(path, "image_std", "must be finite and non-zero in every channel");
    }
  }
  return config;
}

std::string preprocessor_config_to_json(const PreprocessorConfig& config) {
  json j;
  j["image_processor_type"] = "ViTImageProcessor";
  j["do_resize"] = config.do_resize;
  j["size"] = {{"height", config.height}, {"width", config.width}};
  j["resample"] = config.resample;
  j["do_rescale"] = config.do_rescale;
  j["rescale_factor"] = config.rescale_factor;
  j["do_normalize"] = config.do_normalize;
  for (int c = 0; c < 3; ++c) {
    j["image_mean"].push_back(float_as_decimal(config.image_mean[c]));
    j["image_std"].push_back(float_as_decimal(config.image_std[c]));
  }
  return j.dump(2) + "\n";
}

void preprocess_into(const Image& image, const PreprocessorConfig& config, float* out) {
  const bool resize =
      config.do_resize && (image.width != config.width || image.height != config.height);
  if (!config.do_resize && (image.width != config.width || image.height != config.height)) {
    throw InputError("preprocess: image is " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " but do_resize is false and the model " +
                     "expects " + std::to_string(config.width) + "x" +
                     std::to_string(config.height));
  }
  const Image resized = resize ? resize_bilinear(image, config.width, config.height) : Image{};
  const Image& src = resize ? resized : image;

  // Output layout: C x H x W; source layout: H x W x C.
  const std::size_t plane = std::size_t(src.width) * src.height;
  for (int c = 0; c < 3; ++c) {
    const float mean = config.image_mean[c];
    const float std_dev = config.image_std[c];
    float* dst = out + c * plane;
    for (std::size_t i = 0; i < plane; ++i) {
      const std::uint8_t level = src.rgb[i * 3 + c];
      float v = config.do_rescale ? static_cast<float>(level * config.rescale_factor)
                                  : static_cast<float>(level);
      if (config.do_normalize) v = (v - mean) / std_dev;
      dst[i] = v;
    }
  }
}

std::vector<float> preprocess(const Image& image, const PreprocessorConfig& config) {
  std::vector<float> out(std::size_t(3) * config.height * config.width);
  preprocess_into(image, config, out.data());
  return out;
}

}  // namespace bcd
