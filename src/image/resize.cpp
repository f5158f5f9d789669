// Pillow's two-pass resampling (libImaging/Resample.c, "ImagingResample") with
// the bilinear (triangle) filter, reproduced so that every 8-bit level agrees.
//
// Per output column (or row) the filter spans `support` = filterscale input
// pixels either side of the centre, where filterscale = max(1, in / out): when
// shrinking, the triangle is stretched so every input pixel contributes
// (antialiasing). Weights are computed in double, normalised to sum 1, then
// turned into fixed point with 22 fractional bits. Each pass adds half an LSB,
// shifts, and clips to 0..255, so the horizontal result is rounded to 8 bits
// before the vertical pass reads it, exactly as in Pillow.

#include "image/resize.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bcd {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr std::int32_t kHalf = 1 << (kPrecisionBits - 1);

/// Filter taps of one pass: output i reads `count[i]` inputs from `first[i]`
/// with weights `weights[i * ksize ...]`.
struct Taps {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> weights;
};

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

/// Pillow's precompute_coeffs followed by normalize_coeffs_8bpc.
Taps make_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;  // the triangle's support is 1
  Taps taps;
  taps.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(std::size_t(out_size) * taps.ksize, 0);
  std::vector<double> w(taps.ksize);
  const double inverse_scale = 1.0 / filterscale;  // Pillow multiplies by it; dividing can differ

  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Truncating casts, as in C; negative starts are clamped right after.
    int lo = static_cast<int>(center - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(center + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = hi - lo;
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      w[k] = triangle((k + lo - center + 0.5) * inverse_scale);
      sum += w[k];
    }
    for (int k = 0; k < n; ++k) {
      const double normalised = sum != 0.0 ? w[k] / sum : w[k];
      const double fixed = normalised * (1 << kPrecisionBits);
      taps.weights[std::size_t(i) * taps.ksize + k] =
          static_cast<std::int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    taps.first[i] = lo;
    taps.count[i] = n;
  }
  return taps;
}

std::uint8_t clip8(std::int32_t acc) {
  const std::int32_t v = acc >> kPrecisionBits;
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/// Horizontal pass over source rows [row_begin, row_end).
Image resample_rows(const Image& src, const Taps& taps, int row_begin, int row_end) {
  const int out_width = static_cast<int>(taps.first.size());
  Image out;
  out.width = out_width;
  out.height = row_end - row_begin;
  out.rgb.resize(std::size_t(out.width) * out.height * 3);
  for (int y = row_begin; y < row_end; ++y) {
    const std::uint8_t* in = &src.rgb[std::size_t(y) * src.width * 3];
    std::uint8_t* dst = &out.rgb[std::size_t(y - row_begin) * out_width * 3];
    for (int x = 0; x < out_width; ++x, dst += 3) {
      const std::int32_t* k = &taps.weights[std::size_t(x) * taps.ksize];
      const std::uint8_t* p = in + std::size_t(taps.first[x]) * 3;
      std::int32_t r = kHalf, g = kHalf, b = kHalf;
      for (int i = 0; i < taps.count[x]; ++i, p += 3) {
        r += p[0] * k[i];
        g += p[1] * k[i];
        b += p[2] * k[i];
      }
      dst[0] = clip8(r);
      dst[1] = clip8(g);
      dst[2] = clip8(b);
    }
  }
  return out;
}

/// Vertical pass; `taps.first` is relative to the first row of `src`.
Image resample_columns(const Image& src, const Taps& taps) {
  const int out_height = static_cast<int>(taps.first.size());
  const std::size_t row_bytes = std::size_t(src.width) * 3;
  Image out;
  out.width = src.width;
  out.height = out_height;
  out.rgb.resize(row_bytes * out_height);
  std::vector<std::int32_t> acc(row_bytes);
  for (int y = 0; y < out_height; ++y) {
    // Whole rows at a time keep the reads sequential; integer sums of
    // non-negative terms do not depend on the order, so this equals Pillow's loop.
    acc.assign(row_bytes, kHalf);
    const std::int32_t* k = &taps.weights[std::size_t(y) * taps.ksize];
    for (int i = 0; i < taps.count[y]; ++i) {
      const std::uint8_t* in = &src.rgb[std::size_t(taps.first[y] + i) * row_bytes];
      const std::int32_t weight = k[i];
      for (std::size_t j = 0; j < row_bytes; ++j) acc[j] += in[j] * weight;
    }
    std::uint8_t* dst = &out.rgb[std::size_t(y) * row_bytes];
    for (std::size_t j = 0; j < row_bytes; ++j) dst[j] = clip8(acc[j]);
  }
  return out;
}

}  // namespace

Image resize_bilinear(const Image& src, int out_width, int out_height) {
  if (out_width <= 0 || out_height <= 0 || src.width <= 0 || src.height <= 0 ||
      src.rgb.size() != std::size_t(src.width) * src.height * 3) {
    throw std::invalid_argument("resize_bilinear: cannot resize a " + std::to_string(src.width) +
                                "x" + std::to_string(src.height) + " image to " +
                                std::to_string(out_width) + "x" + std::to_string(out_height));
  }
  const bool horizontal = out_width != src.width;
  const bool vertical = out_height != src.height;
  if (!horizontal && !vertical) return src;

  Taps rows = make_taps(src.height, out_height);
  if (!horizontal) return resample_columns(src, rows);
  // Only the source rows the vertical pass will read go through the horizontal one.
  const int row_begin = rows.first.front();
  const int row_end = rows.first.back() + rows.count.back();
  const Image wide = resample_rows(src, make_taps(src.width, out_width), row_begin, row_end);
  if (!vertical) return wide;
  for (int& first : rows.first) first -= row_begin;
  return resample_columns(wide, rows);
}

}  // namespace bcd
