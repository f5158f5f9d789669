// The EXIF Orientation tag, read the way Pillow 9.4's Exif.load and
// ImageFileDirectory_v2 read IFD0: entries of unknown type are skipped, an
// entry whose data lies outside the block ends the directory, a repeated tag
// keeps its last value, and a tag of count > 1 yields its first value.

#include <cstring>

#include "image/codecs.h"

namespace bcd::detail {
namespace {

/// Bytes per value of each TIFF field type Pillow can load (0 = unsupported).
int unit_size(int type) {
  switch (type) {
    case 1:
    case 2:
    case 6:
    case 7:
      return 1;  // BYTE ASCII SBYTE UNDEFINED
    case 3:
    case 8:
      return 2;  // SHORT SSHORT
    case 4:
    case 9:
    case 11:
    case 13:
      return 4;  // LONG SLONG FLOAT IFD
    case 5:
    case 10:
    case 12:
    case 16:
      return 8;  // RATIONAL SRATIONAL DOUBLE LONG8
    default:
      return 0;
  }
}

struct TiffReader {
  const std::uint8_t* data;
  std::size_t n_bytes;
  bool big_endian;

  std::uint32_t u16(std::size_t at) const {
    return big_endian ? (data[at] << 8) | data[at + 1] : data[at] | (data[at + 1] << 8);
  }
  std::uint32_t u32(std::size_t at) const {
    return big_endian ? (u16(at) << 16) | u16(at + 2) : u16(at) | (u16(at + 2) << 16);
  }

  /// The first value of an integer-typed field; 0 for other types.
  int first_integer(int type, std::size_t at) const {
    switch (type) {
      case 1:
        return data[at];
      case 6:
        return static_cast<std::int8_t>(data[at]);
      case 3:
        return static_cast<int>(u16(at));
      case 8:
        return static_cast<std::int16_t>(u16(at));
      case 4:
      case 9:
        return static_cast<std::int32_t>(u32(at));
      default:
        return 0;
    }
  }
};

}  // namespace

int exif_orientation(const std::uint8_t* data, std::size_t n_bytes) {
  if (n_bytes >= 6 && std::memcmp(data, "Exif\0\0", 6) == 0) {
    data += 6;
    n_bytes -= 6;
  }
  if (n_bytes < 8) return 0;
  const bool big = std::memcmp(data, "MM\0\x2a", 4) == 0;
  if (!big && std::memcmp(data, "II\x2a\0", 4) != 0) return 0;
  const TiffReader tiff{data, n_bytes, big};

  std::size_t at = tiff.u32(4);
  if (at + 2 > n_bytes) return 0;
  const std::uint32_t n_entries = tiff.u16(at);
  at += 2;
  int orientation = 0;
  for (std::uint32_t i = 0; i < n_entries && at + 12 <= n_bytes; ++i, at += 12) {
    const std::uint32_t tag = tiff.u16(at);
    const int type = static_cast<int>(tiff.u16(at + 2));
    const std::uint64_t size = std::uint64_t{tiff.u32(at + 4)} * unit_size(type);
    if (unit_size(type) == 0 || size == 0) continue;
    std::size_t value_at = at + 8;
    if (size > 4) {
      value_at = tiff.u32(at + 8);
      if (value_at + size > n_bytes) break;  // Pillow: truncated read ends the IFD
    }
    if (tag == 0x0112) orientation = tiff.first_integer(type, value_at);
  }
  return orientation;
}

}  // namespace bcd::detail
