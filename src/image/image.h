#pragma once
// Decoded images, in the form every other part of the project consumes:
// 8-bit RGB, interleaved, row-major, as Pillow's Image.convert("RGB") gives it.

#include <cstdint>
#include <string>
#include <vector>

namespace bcd {

/// An 8-bit RGB image; pixel (x, y) channel c is rgb[(y * width + x) * 3 + c].
struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
};

/// Limits checked before any pixel is decoded (decompression bombs).
struct DecodeLimits {
  std::int64_t max_pixels = 178956970;  // Pillow's MAX_IMAGE_PIXELS * 2, where it errors
};

/// Width and height read from the header alone, without decoding pixels.
struct ImageSize {
  int width = 0;
  int height = 0;
};

/// Decodes PNG (1/2/4/8/16 bit; gray, gray+alpha, palette, RGB, RGBA), JPEG
/// and BMP, applies the EXIF orientation (JPEG APP1; PNG eXIf, raw-profile text
/// or XMP) as transformers' load_image does with PIL.ImageOps.exif_transpose,
/// then converts to RGB with Pillow 9.4's convert("RGB") semantics (alpha
/// dropped, 16-bit gray clipped at 255). The size is checked against `limits`
/// before any pixel is decoded. `name` is used in error messages only. Throws
/// ImageError naming `name` and the problem.
Image decode_image(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits = {});

/// Reads and decodes a file; errors name the path.
Image load_image(const std::string& path, const DecodeLimits& limits = {});

/// Reads only the header: the size as stored, before any EXIF orientation is
/// applied. Throws ImageError for data that is not PNG/JPEG/BMP.
ImageSize probe_image_size(const std::uint8_t* data, std::size_t n_bytes,
                           const std::string& name);

/// True when the bytes start with a PNG, JPEG or BMP signature: the format is
/// one we read, whether or not the rest is sound.
bool has_image_signature(const std::uint8_t* data, std::size_t n_bytes);

/// True for file names the project treats as images (.png .jpg .jpeg .bmp).
bool has_image_extension(const std::string& path);

/// Encodes as PNG (for thumbnails and test fixtures). Throws OutputError.
std::vector<std::uint8_t> encode_png(const Image& image);

}  // namespace bcd
