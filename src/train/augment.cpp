#include "train/augment.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "image/resize.h"

namespace bcd {

namespace {

cv::Mat as_mat(const Image& image) {
  // OpenCV only reads the buffer here; the const_cast never leads to a write.
  return cv::Mat(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.rgb.data()));
}

Image from_mat(const cv::Mat& mat) {
  Image out;
  out.width = mat.cols;
  out.height = mat.rows;
  out.rgb.assign(mat.data, mat.data + mat.total() * 3);
  return out;
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

}  // namespace

Image add_gaussian_noise(const Image& image, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, sigma);
  Image out = image;
  for (auto& v : out.rgb) {
    v = static_cast<std::uint8_t>(std::clamp(std::lround(v + noise(rng)), 0L, 255L));
  }
  return out;
}

Image gaussian_blur(const Image& image, double sigma) {
  cv::Mat blurred;
  cv::GaussianBlur(as_mat(image), blurred, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
  return from_mat(blurred);
}

Image jpeg_reencode(const Image& image, int quality) {
  // The buffer is RGB; OpenCV assumes BGR, but encode and decode both swap, so
  // the round trip keeps channel order (chroma subsampling is symmetric in R/B
  // only approximately, which is fine for an augmentation).
  std::vector<std::uint8_t> encoded;
  if (!cv::imencode(".jpg", as_mat(image), encoded, {cv::IMWRITE_JPEG_QUALITY, quality})) {
    throw Error("jpeg_reencode: OpenCV could not encode a " + std::to_string(image.width) + "x" +
                std::to_string(image.height) + " image");
  }
  return from_mat(cv::imdecode(encoded, cv::IMREAD_COLOR));
}

Image flip_horizontal(const Image& image) {
  Image out = image;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const auto src = (static_cast<std::size_t>(y) * image.width + x) * 3;
      const auto dst = (static_cast<std::size_t>(y) * image.width + (image.width - 1 - x)) * 3;
      std::copy_n(&image.rgb[src], 3, &out.rgb[dst]);
    }
  }
  return out;
}

Image random_resized_crop(const Image& image, double min_area, std::mt19937_64& rng) {
  constexpr int kTries = 10;
  const double area = static_cast<double>(image.width) * image.height;
  for (int t = 0; t < kTries; ++t) {
    const double target = area * uniform(rng, min_area, 1.0);
    const double aspect = std::exp(uniform(rng, std::log(3.0 / 4.0), std::log(4.0 / 3.0)));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w < 1 || h < 1 || w > image.width || h > image.height) continue;
    const int x0 = std::uniform_int_distribution<int>(0, image.width - w)(rng);
    const int y0 = std::uniform_int_distribution<int>(0, image.height - h)(rng);
    Image crop;
    crop.width = w;
    crop.height = h;
    crop.rgb.resize(static_cast<std::size_t>(w) * h * 3);
    for (int y = 0; y < h; ++y) {
      const auto* src = &image.rgb[(static_cast<std::size_t>(y0 + y) * image.width + x0) * 3];
      std::copy_n(src, static_cast<std::size_t>(w) * 3,
                  &crop.rgb[static_cast<std::size_t>(y) * w * 3]);
    }
    return resize_bilinear(crop, image.width, image.height);
  }
  return image;
}

Image augment_copy(const Image& image, const AugmentOptions& options, std::mt19937_64& rng,
                   std::string* applied) {
  std::bernoulli_distribution coin(0.5);
  bool use_noise = coin(rng), use_blur = coin(rng), use_jpeg = coin(rng);
  if (!use_noise && !use_blur && !use_jpeg) {
    const int pick = std::uniform_int_distribution<int>(0, 2)(rng);
    use_noise = pick == 0;
    use_blur = pick == 1;
    use_jpeg = pick == 2;
  }
  Image out = image;
  std::string what;
  if (use_noise) {
    out = add_gaussian_noise(out, uniform(rng, options.noise_sigma_min, options.noise_sigma_max),
                             rng);
    what += "noise";
  }
  if (use_blur) {
    out = gaussian_blur(out, uniform(rng, options.blur_sigma_min, options.blur_sigma_max));
    what += what.empty() ? "blur" : "+blur";
  }
  if (use_jpeg) {
    const int q =
        std::uniform_int_distribution<int>(options.jpeg_quality_min, options.jpeg_quality_max)(rng);
    out = jpeg_reencode(out, q);
    what += what.empty() ? "jpeg" : "+jpeg";
  }
  if (applied) *applied = what;
  return out;
}

}  // namespace bcd
