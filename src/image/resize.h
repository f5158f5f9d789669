#pragma once
// Resampling with Pillow's semantics, to the last 8-bit level.

#include "image/image.h"

namespace bcd {

/// Image.resize((out_width, out_height), Image.BILINEAR) as Pillow >= 7 does it:
/// a triangle filter whose support widens by the scale when shrinking
/// (antialiasing), a horizontal pass then a vertical pass, fixed-point
/// coefficients, each pass rounded and clipped to 8 bits. A pass whose size
/// does not change is skipped, as in Pillow.
Image resize_bilinear(const Image& src, int out_width, int out_height);

}  // namespace bcd
