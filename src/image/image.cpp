// Format detection, the public decode entry points and EXIF orientation.
// The per-format decoders live in png_codec.cpp, jpeg_codec.cpp and bmp_codec.cpp.

#include "image/image.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/errors.h"
#include "common/files.h"
#include "image/codecs.h"

namespace bcd {
namespace detail {

void fail(const std::string& name, const std::string& problem) {
  throw ImageError(name + ": " + problem);
}

void check_size(const ImageSize& size, const DecodeLimits& limits, const std::string& name) {
  if (size.width <= 0 || size.height <= 0) {
    fail(name,
         "invalid image size " + std::to_string(size.width) + "x" + std::to_string(size.height));
  }
  const std::int64_t n_pixels = std::int64_t{size.width} * size.height;
  if (n_pixels > limits.max_pixels) {
    fail(name, std::to_string(size.width) + "x" + std::to_string(size.height) + " = " +
                   std::to_string(n_pixels) + " pixels exceeds the limit of " +
                   std::to_string(limits.max_pixels) + " pixels");
  }
}

namespace {

struct Point {
  int x;
  int y;
};

/// The source pixel of output pixel (x, y) under each of the transpose methods
/// exif_transpose picks; w and h are the source's width and height.
Point source_of(int orientation, int x, int y, int w, int h) {
  switch (orientation) {
    case 2:  // FLIP_LEFT_RIGHT
      return {w - 1 - x, y};
    case 3:  // ROTATE_180
      return {w - 1 - x, h - 1 - y};
    case 4:  // FLIP_TOP_BOTTOM
      return {x, h - 1 - y};
    case 5:  // TRANSPOSE
      return {y, x};
    case 6:  // ROTATE_270, i.e. 90 degrees clockwise
      return {y, h - 1 - x};
    case 7:  // TRANSVERSE
      return {w - 1 - y, h - 1 - x};
    case 8:  // ROTATE_90, i.e. 90 degrees counter-clockwise
      return {w - 1 - y, x};
    default:
      return {x, y};
  }
}

}  // namespace

Image apply_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const bool swaps_sides = orientation >= 5;
  Image out;
  out.width = swaps_sides ? image.height : image.width;
  out.height = swaps_sides ? image.width : image.height;
  out.rgb.resize(image.rgb.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const Point p = source_of(orientation, x, y, image.width, image.height);
      const std::size_t src = (std::size_t(p.y) * image.width + p.x) * 3;
      std::memcpy(&out.rgb[(std::size_t(y) * out.width + x) * 3], &image.rgb[src], 3);
    }
  }
  return out;
}

}  // namespace detail

namespace {

enum class Format { kPng, kJpeg, kBmp };

/// The first bytes of unrecognised data, printable characters kept, others as \xNN.
std::string describe_start(const std::uint8_t* data, std::size_t n_bytes) {
  std::string shown;
  for (std::size_t i = 0; i < std::min<std::size_t>(n_bytes, 4); ++i) {
    if (std::isprint(data[i])) {
      shown += static_cast<char>(data[i]);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", data[i]);
      shown += hex;
    }
  }
  return shown;
}

std::optional<Format> format_of(const std::uint8_t* data, std::size_t n_bytes) {
  static const std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n_bytes >= 8 && std::memcmp(data, kPngSignature, 8) == 0) return Format::kPng;
  if (n_bytes >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    return Format::kJpeg;
  }
  if (n_bytes >= 2 && data[0] == 'B' && data[1] == 'M') return Format::kBmp;
  return std::nullopt;
}

Format detect_format(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  if (n_bytes == 0) detail::fail(name, "empty file, expected a PNG, JPEG or BMP image");
  if (const auto format = format_of(data, n_bytes)) return *format;
  detail::fail(
      name, "not a PNG, JPEG or BMP image (starts with '" + describe_start(data, n_bytes) + "')");
}

}  // namespace

Image decode_image(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits) {
  detail::Decoded decoded;
  switch (detect_format(data, n_bytes, name)) {
    case Format::kPng:
      decoded = detail::decode_png(data, n_bytes, name, limits);
      break;
    case Format::kJpeg:
      decoded = detail::decode_jpeg(data, n_bytes, name, limits);
      break;
    case Format::kBmp:
      decoded = detail::decode_bmp(data, n_bytes, name, limits);
      break;
  }
  if (decoded.orientation < 2) return std::move(decoded.image);
  return detail::apply_orientation(decoded.image, decoded.orientation);
}

Image load_image(const std::string& path, const DecodeLimits& limits) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file_bytes(path);
  } catch (const ImageError&) {
    throw;
  } catch (const InputError& e) {
    throw ImageError(e.what());
  }
  return decode_image(bytes.data(), bytes.size(), path, limits);
}

ImageSize probe_image_size(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  switch (detect_format(data, n_bytes, name)) {
    case Format::kPng:
      return detail::probe_png(data, n_bytes, name);
    case Format::kJpeg:
      return detail::probe_jpeg(data, n_bytes, name);
    case Format::kBmp:
      return detail::probe_bmp(data, n_bytes, name);
  }
  return {};
}

bool has_image_signature(const std::uint8_t* data, std::size_t n_bytes) {
  return format_of(data, n_bytes).has_value();
}

bool has_image_extension(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

}  // namespace bcd
