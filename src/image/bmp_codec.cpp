// BMP, decoded the way Pillow 9.4's BmpImagePlugin reads it: OS/2 and Windows
// v3-v5 headers; 1/4/8-bit palettes (uncompressed, RLE8, RLE4), 16-bit 5-5-5 and
// 5-6-5, 24-bit, 32-bit with the bit-field layouts Pillow accepts; bottom-up or
// top-down rows; alpha ignored. Indices past the palette read Pillow's default
// grey ramp (i, i, i). Pillow drops a palette that is exactly that ramp and keeps
// the raw indices ("L"), which gives the same pixels as looking them up.
// Limitation: Pillow fails on uncompressed 4-bit files with such a ramp palette
// ("stride too small"); here they decode through the palette.

#include <array>
#include <cstring>

#include "image/codecs.h"

namespace bcd::detail {
namespace {

constexpr int kRaw = 0;
constexpr int kRle8 = 1;
constexpr int kRle4 = 2;
constexpr int kBitfields = 3;

struct BmpHeader {
  int width = 0;
  int height = 0;
  bool top_down = false;
  int bits = 0;
  std::uint32_t compression = kRaw;
  std::uint32_t n_colors = 0;
  int palette_entry_bytes = 4;
  std::array<std::uint32_t, 4> masks{};  // r, g, b, a
  std::size_t palette_at = 0;
  std::size_t pixels_at = 0;
};

std::uint32_t le16(const std::uint8_t* p) { return p[0] | (std::uint32_t{p[1]} << 8); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

BmpHeader parse_header(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  if (n_bytes < 18) fail(name, "truncated BMP data (short file header)");
  BmpHeader h;
  const std::uint32_t header_bytes = le32(data + 14);
  if (n_bytes < 14 + std::size_t{header_bytes}) fail(name, "truncated BMP data (short header)");
  const std::uint8_t* d = data + 18;  // header after its size field
  h.palette_at = 14 + header_bytes;
  if (header_bytes == 12) {
    h.width = static_cast<int>(le16(d));
    h.height = static_cast<int>(le16(d + 2));
    h.bits = static_cast<int>(le16(d + 6));
    h.palette_entry_bytes = 3;
  } else if (header_bytes == 40 || header_bytes == 64 || header_bytes == 108 ||
             header_bytes == 124) {
    h.top_down = d[7] == 0xFF;
    h.width = static_cast<int>(le32(d));
    const std::uint32_t raw_height = le32(d + 4);
    h.height = static_cast<int>(h.top_down ? std::uint32_t(0) - raw_height : raw_height);
    h.bits = static_cast<int>(le16(d + 10));
    h.compression = le32(d + 12);
    h.n_colors = le32(d + 28);
    if (h.compression == kBitfields) {
      // A 40-byte header keeps R, G, B masks right after it (no alpha mask).
      const bool masks_inside = header_bytes >= 56;
      const std::uint8_t* m = masks_inside ? d + 36 : data + 14 + header_bytes;
      if (!masks_inside && n_bytes < 14 + std::size_t{header_bytes} + 12) {
        fail(name, "truncated BMP data (bit-field masks)");
      }
      for (int i = 0; i < (masks_inside ? 4 : 3); ++i) h.masks[i] = le32(m + 4 * i);
      if (!masks_inside) h.palette_at += 12;
    }
  } else {
    fail(name, "unsupported BMP header size " + std::to_string(header_bytes) +
                   " (expected 12, 40, 64, 108 or 124)");
  }
  if (h.n_colors == 0 && h.bits < 32) h.n_colors = 1u << h.bits;
  h.pixels_at = le32(data + 10);
  if (h.pixels_at == 14 + header_bytes && h.bits <= 8) h.pixels_at += 4 * std::size_t{h.n_colors};
  if (h.pixels_at == 0) h.pixels_at = h.palette_at;
  return h;
}

/// How a pixel of more than 8 bits is laid out, as Pillow's raw modes name it.
enum class Layout { kPalette, kBgr15, kBgr16, kBgr, kBgrx, kXbgr, kAbgr, kRgba, kBgra };

Layout pick_layout(const BmpHeader& h, const std::string& name) {
  if (h.bits != 1 && h.bits != 4 && h.bits != 8 && h.bits != 16 && h.bits != 24 && h.bits != 32) {
    fail(name, "unsupported BMP pixel depth " + std::to_string(h.bits));
  }
  if (h.compression == kRle8 || h.compression == kRle4) {
    if (h.bits > 8)
      fail(name,
           "unsupported BMP: RLE compression with " + std::to_string(h.bits) + " bits per pixel");
    return Layout::kPalette;
  }
  if (h.compression != kRaw && h.compression != kBitfields) {
    fail(name, "unsupported BMP compression " + std::to_string(h.compression));
  }
  if (h.compression == kRaw || h.bits <= 8) {
    if (h.bits <= 8) return Layout::kPalette;
    return h.bits == 16 ? Layout::kBgr15 : h.bits == 24 ? Layout::kBgr : Layout::kBgrx;
  }
  using M = std::array<std::uint32_t, 4>;
  const M& m = h.masks;
  const M rgb_only{m[0], m[1], m[2], 0};
  if (h.bits == 32) {
    if (m == M{0xFF0000, 0xFF00, 0xFF, 0}) return Layout::kBgrx;
    if (m == M{0xFF000000, 0xFF0000, 0xFF00, 0}) return Layout::kXbgr;
    if (m == M{0xFF000000, 0xFF0000, 0xFF00, 0xFF}) return Layout::kAbgr;
    if (m == M{0xFF, 0xFF00, 0xFF0000, 0xFF000000}) return Layout::kRgba;
    if (m == M{0xFF0000, 0xFF00, 0xFF, 0xFF000000} || m == M{0, 0, 0, 0}) return Layout::kBgra;
  } else if (h.bits == 24 && rgb_only == M{0xFF0000, 0xFF00, 0xFF, 0}) {
    return Layout::kBgr;
  } else if (h.bits == 16 && rgb_only == M{0xF800, 0x7E0, 0x1F, 0}) {
    return Layout::kBgr16;
  } else if (h.bits == 16 && rgb_only == M{0x7C00, 0x3E0, 0x1F, 0}) {
    return Layout::kBgr15;
  }
  fail(name, "unsupported BMP bit-field layout");
}

/// 256 RGB entries: the file's palette, then Pillow's default grey ramp. When
/// the palette is exactly Pillow's grey ramp the whole table is the ramp.
std::vector<std::uint8_t> read_palette(const std::uint8_t* data, std::size_t n_bytes,
                                       const BmpHeader& h, const std::string& name) {
  if (h.n_colors == 0 || h.n_colors > 256) {
    fail(name, "unsupported BMP palette size " + std::to_string(h.n_colors));
  }
  std::vector<std::uint8_t> table(256 * 3);
  for (int i = 0; i < 256; ++i) std::memset(&table[i * 3], i, 3);
  const std::size_t entry = h.palette_entry_bytes;
  const std::size_t available = h.palette_at < n_bytes ? (n_bytes - h.palette_at) / entry : 0;
  const std::size_t n_entries = std::min<std::size_t>(h.n_colors, available);
  bool grey_ramp = n_entries == h.n_colors;
  for (std::size_t i = 0; i < n_entries; ++i) {
    const std::uint8_t* p = data + h.palette_at + i * entry;
    const std::uint32_t ramp = h.n_colors == 2 ? i * 255 : i;
    grey_ramp = grey_ramp && p[0] == ramp && p[1] == ramp && p[2] == ramp;
  }
  if (grey_ramp && h.n_colors == 2) std::memset(&table[3], 255, 3);  // mode "1": 0 or 255
  if (grey_ramp) return table;                                       // mode "L": raw indices
  for (std::size_t i = 0; i < n_entries; ++i) {
    const std::uint8_t* p = data + h.palette_at + i * entry;
    table[i * 3 + 0] = p[2];
    table[i * 3 + 1] = p[1];
    table[i * 3 + 2] = p[0];
  }
  return table;
}

std::uint8_t scale_bits(std::uint32_t v, std::uint32_t max) {
  return static_cast<std::uint8_t>(v * 255 / max);
}

/// Byte offsets of R, G and B inside one pixel of each byte-aligned layout.
std::array<int, 4> byte_layout(Layout layout) {  // {bytes per pixel, r, g, b}
  switch (layout) {
    case Layout::kBgr:
      return {3, 2, 1, 0};
    case Layout::kXbgr:
    case Layout::kAbgr:
      return {4, 3, 2, 1};
    case Layout::kRgba:
      return {4, 0, 1, 2};
    default:  // kBgrx, kBgra
      return {4, 2, 1, 0};
  }
}

/// One row of 16-, 24- or 32-bit pixels to RGB (Pillow's "BGR;15", "BGR;16",
/// "BGR", "BGRX", ... unpackers; 5- and 6-bit fields scale by 255 / max, truncated).
void unpack_row(const std::uint8_t* row, Layout layout, int width, std::uint8_t* out) {
  if (layout == Layout::kBgr15 || layout == Layout::kBgr16) {
    const bool six = layout == Layout::kBgr16;
    for (int x = 0; x < width; ++x, out += 3) {
      const std::uint32_t v = le16(row + 2 * x);
      out[0] = scale_bits((v >> (six ? 11 : 10)) & 31, 31);
      out[1] = six ? scale_bits((v >> 5) & 63, 63) : scale_bits((v >> 5) & 31, 31);
      out[2] = scale_bits(v & 31, 31);
    }
    return;
  }
  const std::array<int, 4> at = byte_layout(layout);
  for (int x = 0; x < width; ++x, out += 3, row += at[0]) {
    out[0] = row[at[1]];
    out[1] = row[at[2]];
    out[2] = row[at[3]];
  }
}

/// Palette indices of an uncompressed 1/4/8-bit row.
void unpack_indices(const std::uint8_t* row, int bits, int width, std::uint8_t* out) {
  for (int x = 0; x < width; ++x) {
    const int bit = x * bits;
    const int shift = 8 - bits - bit % 8;
    out[x] = static_cast<std::uint8_t>((row[bit / 8] >> shift) & ((1 << bits) - 1));
  }
}

/// Pillow's BmpRleDecoder, step for step (including its handling of runs that
/// overflow a row and of odd absolute runs in RLE4). Returns indices in file
/// row order; throws when the data ends before width * height indices.
std::vector<std::uint8_t> decode_rle(const std::uint8_t* data, std::size_t n_bytes,
                                     const BmpHeader& h, const std::string& name) {
  const std::size_t xsize = h.width;
  const std::size_t total = xsize * h.height;
  const bool rle4 = h.compression == kRle4;
  std::vector<std::uint8_t> out;
  out.reserve(total);
  std::size_t at = h.pixels_at;
  std::size_t x = 0;
  while (out.size() < total && at + 2 <= n_bytes) {
    std::size_t count = data[at];
    const std::uint8_t byte = data[at + 1];
    at += 2;
    if (count > 0) {  // encoded run
      if (x + count > xsize) count = x < xsize ? xsize - x : 0;
      for (std::size_t i = 0; i < count; ++i) {
        out.push_back(rle4 ? (i % 2 == 0 ? byte >> 4 : byte & 0x0F) : byte);
      }
      x += count;
    } else if (byte == 0) {  // end of line
      while (out.size() % xsize != 0) out.push_back(0);
      x = 0;
    } else if (byte == 1) {  // end of bitmap
      break;
    } else if (byte == 2) {  // delta
      if (at + 2 > n_bytes) break;
      out.resize(out.size() + data[at] + data[at + 1] * xsize, 0);
      at += 2;
      x = out.size() % xsize;
    } else {  // absolute run
      const std::size_t n_read = std::min<std::size_t>(rle4 ? byte / 2 : byte, n_bytes - at);
      for (std::size_t i = 0; i < n_read; ++i) {
        if (rle4) {
          out.push_back(data[at + i] >> 4);
          out.push_back(data[at + i] & 0x0F);
        } else {
          out.push_back(data[at + i]);
        }
      }
      at += n_read;
      if (n_read < (rle4 ? byte / 2u : byte)) break;
      x += byte;
      if (at % 2 != 0) ++at;  // runs are padded to 16 bits of the file
    }
  }
  if (out.size() < total) fail(name, "truncated BMP data (RLE stream ends early)");
  out.resize(total);
  return out;
}

}  // namespace

ImageSize probe_bmp(const std::uint8_t* data, std::size_t n_bytes, const std::string& name) {
  const BmpHeader h = parse_header(data, n_bytes, name);
  return {h.width, h.height};
}

Decoded decode_bmp(const std::uint8_t* data, std::size_t n_bytes, const std::string& name,
                   const DecodeLimits& limits) {
  const BmpHeader h = parse_header(data, n_bytes, name);
  check_size({h.width, h.height}, limits, name);
  const Layout layout = pick_layout(h, name);
  const bool rle = h.compression == kRle8 || h.compression == kRle4;
  const std::size_t width = h.width;
  const std::size_t height = h.height;
  const std::size_t stride = ((width * h.bits + 31) >> 3) & ~std::size_t{3};
  // Checked before allocating, so a tiny file cannot claim a huge image.
  if (!rle && (h.pixels_at > n_bytes || (n_bytes - h.pixels_at) / stride < height)) {
    fail(name, "truncated BMP data");
  }

  std::vector<std::uint8_t> indices;  // palette images only, in file row order
  if (rle) {
    indices = decode_rle(data, n_bytes, h, name);
  } else if (layout == Layout::kPalette) {
    indices.resize(width * height);
    for (std::size_t r = 0; r < height; ++r) {
      unpack_indices(data + h.pixels_at + r * stride, h.bits, h.width, &indices[r * width]);
    }
  }

  Decoded out;
  out.image.width = h.width;
  out.image.height = h.height;
  out.image.rgb.resize(width * height * 3);
  const std::vector<std::uint8_t> palette = layout == Layout::kPalette
                                                ? read_palette(data, n_bytes, h, name)
                                                : std::vector<std::uint8_t>{};
  for (std::size_t r = 0; r < height; ++r) {
    std::uint8_t* dst = &out.image.rgb[(h.top_down ? r : height - 1 - r) * width * 3];
    if (layout != Layout::kPalette) {
      unpack_row(data + h.pixels_at + r * stride, layout, h.width, dst);
      continue;
    }
    for (std::size_t x = 0; x < width; ++x) {
      std::memcpy(dst + x * 3, &palette[indices[r * width + x] * 3], 3);
    }
  }
  return out;
}

}  // namespace bcd::detail
