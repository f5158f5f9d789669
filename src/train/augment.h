#pragma once
// Random image degradations for the training recipe's extra copies: Gaussian
// noise, Gaussian blur and JPEG re-encoding, as ultrasound images meet them
// in the wild (speckle-like noise, soft focus, lossy PACS exports). Kept apart
// from the deterministic preprocessing in src/image.

#include <cstdint>
#include <random>
#include <string>

#include "image/image.h"

namespace bcd {

struct AugmentOptions {
  double noise_sigma_min = 4.0, noise_sigma_max = 16.0;  // 8-bit levels
  double blur_sigma_min = 0.5, blur_sigma_max = 1.5;     // pixels
  int jpeg_quality_min = 30, jpeg_quality_max = 75;
};

Image add_gaussian_noise(const Image& image, double sigma, std::mt19937_64& rng);
Image gaussian_blur(const Image& image, double sigma);
Image jpeg_reencode(const Image& image, int quality);
Image flip_horizontal(const Image& image);

/// A random crop covering [min_area, 1] of the image with aspect ratio in
/// [3/4, 4/3] (torchvision's RandomResizedCrop sampling), resized back to the
/// image's own size with Pillow-exact bilinear resampling.
Image random_resized_crop(const Image& image, double min_area, std::mt19937_64& rng);

/// One extra training copy: each of noise, blur and JPEG is applied with
/// probability 1/2 (at least one always is), in that order. Returns what was
/// applied in `applied` ("noise+jpeg", ...) when not null.
Image augment_copy(const Image& image, const AugmentOptions& options, std::mt19937_64& rng,
                   std::string* applied = nullptr);

}  // namespace bcd
