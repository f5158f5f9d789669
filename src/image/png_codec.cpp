// PNG through libpng, converted to RGB as Pillow 9.4 does: 1-bit gray is mode
// "1" (0 or 255), 2- and 4-bit gray scale to 8 bits, 16-bit gray is mode "I"
// whose RGB conversion clips at 255 (it does not scale), other 16-bit samples
// keep their high byte, alpha is dropped, palette indices past the PLTE entries
// read Pillow's default grey ramp (i, i, i).
//
// libpng reports errors by longjmp. Every libpng call runs inside a small
// function that owns the setjmp and holds no C++ objects with destructors, so
// the jump never skips one; errors come back as text and are thrown from C++.

#include <png.h>

#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <regex>

#include "common/errors.h"
#include "image/codecs.h"

namespace bcd {
namespace detail {
namespace {

/// State shared with libpng's callbacks; plain data only (see the note above).
struct PngSession {
  const std::uint8_t* data = nullptr;
  std::size_t n_bytes = 0;
  std::size_t pos = 0;
  char error[256] = {};
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
  int n_passes = 1;  // 7 for Adam7-interlaced images
};

void on_error(png_structp png, png_const_charp message) {
  auto* session = static_cast<PngSession*>(png_get_error_ptr(png));
  std::snprintf(session->error, sizeof session->error, "%s", message);
  std::longjmp(png_jmpbuf(png), 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* session = static_cast<PngSession*>(png_get_io_ptr(png));
  if (n > session->n_bytes - session->pos) png_error(png, "truncated PNG data");
  std::memcpy(out, session->data + session->pos, n);
  session->pos += n;
}

/// Reads the chunks up to the first IDAT and sets up byte-per-sample rows.
bool read_header(PngSession* s) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  png_set_read_fn(s->png, s, read_bytes);
  // Pillow rejects any chunk with a bad CRC; libpng would skip ancillary ones.
  png_set_crc_action(s->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  png_set_user_limits(s->png, 0x7fffffff, 0x7fffffff);
  png_read_info(s->png, s->info);
  png_get_IHDR(s->png, s->info, &s->width, &s->height, &s->bit_depth, &s->color_type, nullptr,
               nullptr, nullptr);
  png_set_packing(s->png);  // 1/2/4-bit samples to one byte each, unscaled
  s->n_passes = png_set_interlace_handling(s->png);
  png_read_update_info(s->png, s->info);
  return true;
}

/// Chunks after the image data (eXIf or text may sit there). Pillow tolerates
/// a missing or broken tail once the pixels are complete, so failure is ignored.
bool read_tail(PngSession* s) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  png_read_end(s->png, s->info);
  return true;
}

struct ReadGuard {
  PngSession* s;
  ~ReadGuard() { png_destroy_read_struct(&s->png, &s->info, nullptr); }
};

/// Value of one 8-bit output channel from a sample of `depth` bits at `p`.
std::uint8_t gray_level(const std::uint8_t* p, int depth) {
  switch (depth) {
    case 1:
      return p[0] ? 255 : 0;
    case 2:
      return static_cast<std::uint8_t>(p[0] * 85);
    case 4:
      return static_cast<std::uint8_t>(p[0] * 17);
    case 8:
      return p[0];
    default: {  // 16-bit gray is Pillow mode "I"; I -> RGB clips
      const int v = (p[0] << 8) | p[1];
      return static_cast<std::uint8_t>(v > 255 ? 255 : v);
    }
  }
}

void convert_row(const PngSession& s, const std::uint8_t* row, const png_color* palette,
                 int n_palette, std::uint8_t* out) {
  const int bytes_per_sample = s.bit_depth == 16 ? 2 : 1;
  const int channels = png_get_channels(s.png, s.info);
  const int step = channels * bytes_per_sample;
  for (png_uint_32 x = 0; x < s.width; ++x, row += step, out += 3) {
    switch (s.color_type) {
      case PNG_COLOR_TYPE_GRAY:
        out[0] = out[1] = out[2] = gray_level(row, s.bit_depth);
        break;
      case PNG_COLOR_TYPE_GRAY_ALPHA:  // "LA" / "LA;16B": high byte, alpha dropped
        out[0] = out[1] = out[2] = row[0];
        break;
      case PNG_COLOR_TYPE_PALETTE:
        if (row[0] < n_palette) {
          out[0] = palette[row[0]].red;
          out[1] = palette[row[0]].green;
          out[2] = palette[row[0]].blue;
        } else {
          out[0] = out[1] = out[2] = row[0];
        }
        break;
      default:  // RGB / RGBA, 8 or 16 bits: high byte of each of R, G, B
        for (int c = 0; c < 3; ++c) out[c] = row[c * bytes_per_sample];
        break;
    }
  }
}

/// Where read_rows puts its output; plain data (see the note at the top).
struct RowTarget {
  std::uint8_t* raw;  // one row, or every row when the image is interlaced
  std::size_t row_bytes;
  const png_color* palette;
  int n_palette;
  std::uint8_t* rgb;
};

/// Reads the rows and converts each to RGB once complete. A non-interlaced image
/// needs one raw row at a time; an interlaced one is assembled over 7 passes.
bool read_rows(PngSession* s, const RowTarget* t) {
  if (setjmp(png_jmpbuf(s->png))) return false;
  for (int pass = 0; pass < s->n_passes; ++pass) {
    for (png_uint_32 y = 0; y < s->height; ++y) {
      std::uint8_t* row = t->raw + (s->n_passes > 1 ? y * t->row_bytes : 0);
      png_read_row(s->png, row, nullptr);
      if (pass == s->n_passes - 1) {
        convert_row(*s, row, t->palette, t->n_palette, t->rgb + std::size_t(y) * s->width * 3);
      }
    }
  }
  return true;
}

/// The EXIF block ImageMagick stores as hex in a "Raw profile type exif" text:
/// three header lines, then hex digits spread over many lines.
std::vector<std::uint8_t> raw_profile_bytes(const png_text& text) {
  const std::string body(text.text);  // iTXt leaves text_length 0
  std::size_t pos = 0;
  for (int line = 0; line < 3; ++line) {
    pos = body.find('\n', pos);
    if (pos == std::string::npos) return {};
    ++pos;
  }
  std::vector<std::uint8_t> bytes;
  int high = -1;
  for (; pos < body.size(); ++pos) {
    const char c = body[pos];
    if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      bytes.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return bytes;
}

int xmp_orientation(const png_text& text) {
  static const std::regex kXmpOrientation("tiff:Orientation(=\"|>)([0-9])");
  const char* begin = text.text;
  std::cmatch match;
  if (!std::regex_search(begin, begin + std::strlen(begin), match, kXmpOrientation)) {
    return 0;
  }
  return match[2].str()[0] - '0';
}

/// Orientation from eXIf, else from a "Raw profile type exif" text chunk, and
/// when neither has the tag from XMP's tiff:Orientation: Pillow's getexif order.
int png_orientation(const PngSession& s) {
  png_textp texts = nullptr;
  const int n_texts = png_get_text(s.png, s.info, &texts, nullptr);
  png_uint_32 n_exif = 0;
  png_bytep exif = nullptr;
  int orientation = 0;
  if (png_get_eXIf_1(s.png, s.info, &n_exif, &exif) && n_exif > 0) {
    orientation = exif_orientation(exif, n_exif);
  } else {
    for (int i = 0; i < n_texts; ++i) {
      if (std::strcmp(texts[i].key, "Raw profile type exif") != 0) continue;
      const std::vector<std::uint8_t> bytes = raw_profile_bytes(texts[i]);
      orientation = exif_orientation(bytes.data(), bytes.size());
      break;
    }
  }
  for (int i = 0; i < n_texts && orientation == 0; ++i) {
    if (std::strcmp(texts[i].key, "XML:com.adobe.xmp") == 0)
      orientation = xmp_orientation(texts[i]);
  }
  return orientation;
}

png_uint_32 read_be32(const std::uint8_t* p) {
  return (png_uint_32{p[0]} << 24) | (png_uint_32{p[1]} << 16) | (png_uint_32{p[2]} << 8) | p[3];
}

}  // namespace

ImageSize probe_png(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  if (n_bytes < 24) fail(name, "truncated PNG data (no complete IHDR chunk)");
  if (std::memcmp(data + 12, "IHDR", 4) != 0) fail(name, "broken PNG: first chunk is not IHDR");
  const png_uint_32 w = read_be32(data + 16);
  const png_uint_32 h = read_be32(data + 20);
  if (w == 0 || h == 0 || w > 0x7fffffff || h > 0x7fffffff) {
    fail(name, "broken PNG: invalid size " + std::to_string(w) + "x" + std::to_string(h));
  }
  return {static_cast<int>(w), static_cast<int>(h)};
}

Decoded decode_png(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits) {
  check_size(probe_png(data, n_bytes, name), limits, name);
  PngSession s;
  s.data = data;
  s.n_bytes = n_bytes;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) fail(name, "out of memory starting the PNG decoder");
  ReadGuard guard{&s};
  if (!read_header(&s)) fail(name, std::string("broken PNG: ") + s.error);

  // Deflate expands at most 1032:1, so a file this short cannot hold the
  // declared pixels: say so before allocating them.
  const std::uint64_t bits_per_row = std::uint64_t{s.width} * png_get_channels(s.png, s.info) *
                                     static_cast<std::uint64_t>(s.bit_depth);
  if ((bits_per_row / 8 + 1) * s.height > std::uint64_t{1032} * n_bytes) {
    fail(name, "truncated PNG data (" + std::to_string(n_bytes) + " bytes cannot hold " +
                   std::to_string(s.width) + "x" + std::to_string(s.height) + " pixels)");
  }
  png_colorp palette = nullptr;
  int n_palette = 0;
  if (s.color_type == PNG_COLOR_TYPE_PALETTE) png_get_PLTE(s.png, s.info, &palette, &n_palette);
  Decoded out;
  out.image.width = static_cast<int>(s.width);
  out.image.height = static_cast<int>(s.height);
  out.image.rgb.resize(std::size_t(s.width) * s.height * 3);
  const std::size_t row_bytes = png_get_rowbytes(s.png, s.info);
  std::vector<std::uint8_t> raw(row_bytes * (s.n_passes > 1 ? s.height : 1));
  const RowTarget target{raw.data(), row_bytes, palette, n_palette, out.image.rgb.data()};
  if (!read_rows(&s, &target)) {
    const bool truncated = std::strstr(s.error, "truncated") != nullptr;
    fail(name, truncated ? "truncated PNG data" : "broken PNG: " + std::string(s.error));
  }
  read_tail(&s);
  out.orientation = png_orientation(s);
  return out;
}

}  // namespace detail

namespace {

struct PngWriter {
  std::vector<std::uint8_t>* bytes;
  char error[256];
};

void on_write_error(png_structp png, png_const_charp message) {
  auto* writer = static_cast<PngWriter*>(png_get_error_ptr(png));
  std::snprintf(writer->error, sizeof writer->error, "%s", message);
  std::longjmp(png_jmpbuf(png), 1);
}

void write_bytes(png_structp png, png_bytep data, png_size_t n) {
  auto* writer = static_cast<PngWriter*>(png_get_io_ptr(png));
  writer->bytes->insert(writer->bytes->end(), data, data + n);
}

void flush_nothing(png_structp) {}

bool write_png(png_structp png, png_infop info, PngWriter* writer, const Image& image,
               png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, writer, write_bytes, flush_nothing);
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_png(const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != std::size_t(image.width) * image.height * 3) {
    throw OutputError("encode_png: expected a non-empty RGB image, found " +
                      std::to_string(image.width) + "x" + std::to_string(image.height) + " with " +
                      std::to_string(image.rgb.size()) + " bytes");
  }
  std::vector<std::uint8_t> bytes;
  PngWriter writer{&bytes, {}};
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, on_write_error, detail::on_warning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  std::vector<png_bytep> rows(image.height);
  for (int y = 0; y < image.height; ++y) {
    rows[y] = const_cast<png_bytep>(&image.rgb[std::size_t(y) * image.width * 3]);
  }
  const bool ok = info && write_png(png, info, &writer, image, rows.data());
  png_destroy_write_struct(&png, &info);
  if (!ok) throw OutputError(std::string("encode_png: libpng failed: ") + writer.error);
  return bytes;
}

}  // namespace bcd
