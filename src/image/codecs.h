#pragma once
// Internal to bcd_image: one decoder per container format. Each returns the
// pixels already converted to RGB with Pillow 9.4's convert("RGB") rules, plus
// the EXIF orientation it found (applied afterwards by image.cpp, as
// PIL.ImageOps.exif_transpose does).

#include <cstddef>
#include <cstdint>
#include <string>

#include "image/image.h"

namespace bcd::detail {

/// A decoded image and its EXIF orientation tag (1..8; 0 when absent).
struct Decoded {
  Image image;
  int orientation = 0;
};

/// Throws ImageError "<name>: <problem>".
[[noreturn]] void fail(const std::string& name, const std::string& problem);

/// Throws ImageError when width * height exceeds limits.max_pixels or a side is not positive.
void check_size(const ImageSize& size, const DecodeLimits& limits, const std::string& name);

ImageSize probe_png(const std::uint8_t* data, std::size_t n_bytes, const std::string& name);
ImageSize probe_jpeg(const std::uint8_t* data, std::size_t n_bytes, const std::string& name);
ImageSize probe_bmp(const std::uint8_t* data, std::size_t n_bytes, const std::string& name);

Decoded decode_png(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits);
Decoded decode_jpeg(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                    const DecodeLimits& limits);
Decoded decode_bmp(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits);

/// The Orientation tag (0x0112) of IFD0 in an EXIF block as Pillow's Exif.load
/// reads it; `data` may start with "Exif\0\0". Returns 0 when absent or unreadable.
int exif_orientation(const std::uint8_t* data, std::size_t n_bytes);

/// Applies an EXIF orientation (2..8) the way PIL.ImageOps.exif_transpose does.
Image apply_orientation(const Image& image, int orientation);

}  // namespace bcd::detail
