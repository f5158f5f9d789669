// The leakage audit on made-up images (copies that must be found, look-alikes
// that must not) and on BUSI's known cross-label duplicate.

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "eval/audit.h"
#include "support/temp_path.h"

namespace {

namespace fs = std::filesystem;
using bcd::eval::AuditOptions;

/// A smooth random picture, like an ultrasound frame in that its PHash is
/// dominated by large structures: noise upsampled and blurred.
cv::Mat smooth_image(int seed) {
  cv::Mat small(16, 16, CV_8UC3);
  cv::theRNG().state = static_cast<std::uint64_t>(seed);
  cv::randu(small, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::Mat big;
  cv::resize(small, big, cv::Size(256, 256), 0, 0, cv::INTER_CUBIC);
  cv::GaussianBlur(big, big, cv::Size(0, 0), 3.0);
  return big;
}

/// Same pixels in another order: same size and histogram, different picture.
cv::Mat shuffled_pixels(const cv::Mat& image) {
  cv::Mat flat = image.reshape(3, 1).clone();
  std::vector<cv::Vec3b> pixels(flat.begin<cv::Vec3b>(), flat.end<cv::Vec3b>());
  std::shuffle(pixels.begin(), pixels.end(), std::mt19937(5));
  std::copy(pixels.begin(), pixels.end(), flat.begin<cv::Vec3b>());
  return flat.reshape(3, image.rows);
}

/// Quadrants swapped diagonally and each flipped: same histogram again.
cv::Mat flipped_blocks(const cv::Mat& image) {
  const int h = image.rows / 2, w = image.cols / 2;
  cv::Mat out(image.size(), image.type());
  for (int q = 0; q < 4; ++q) {
    const cv::Rect from((q % 2) * w, (q / 2) * h, w, h);
    const cv::Rect to((1 - q % 2) * w, (1 - q / 2) * h, w, h);
    cv::flip(image(from), out(to), /*flipCode=*/q % 2 ? 0 : 1);
  }
  return out;
}

class AuditImages : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = bcd::test::temp_path("bcd_audit_test");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string save(const std::string& name, const cv::Mat& image,
                   const std::vector<int>& params = {}) {
    const auto path = (dir_ / name).string();
    EXPECT_TRUE(cv::imwrite(path, image, params)) << path;
    return path;
  }

  std::string text_file(const std::string& name) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << "not an image\n";
    return path;
  }

  fs::path dir_;
};

TEST_F(AuditImages, FindsResizedRecompressedCroppedAndBrightenedCopies) {
  const cv::Mat base = smooth_image(1);
  cv::Mat resized, brighter;
  cv::resize(base, resized, cv::Size(180, 180), 0, 0, cv::INTER_AREA);
  base.convertTo(brighter, -1, 1.0, 25);
  const int cut = base.cols * 5 / 100;
  const std::vector<std::string> paths = {
      save("base.png", base),
      save("same_pixels.png", base, {cv::IMWRITE_PNG_COMPRESSION, 0}),
      save("resized.png", resized),
      save("recompressed.jpg", base, {cv::IMWRITE_JPEG_QUALITY, 70}),
      save("cropped.png", base(cv::Rect(cut, cut, base.cols - cut, base.rows - cut)).clone()),
      save("brighter.png", brighter),
  };
  const auto groups = bcd::eval::near_duplicate_groups(paths);
  for (std::size_t i = 0; i < paths.size(); ++i) EXPECT_EQ(groups[i], 0) << paths[i];

  // The re-saved PNG has other bytes but the same pixels: an exact duplicate.
  const auto prints = bcd::eval::fingerprint_files(paths, {});
  EXPECT_EQ(prints[0].pixel_hash, prints[1].pixel_hash);
  EXPECT_NE(prints[0].pixel_hash, prints[3].pixel_hash);
}

// A PNG whose header declares 100000 x 100000 pixels: OpenCV would throw from a
// worker thread (a crash); the audit reports the file as unreadable instead.
TEST_F(AuditImages, ImageDeclaringTooManyPixelsIsUnreadableNotACrash) {
  cv::Mat small(8, 8, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<std::uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", small, png));
  // IHDR width and height sit at bytes 16 to 23; the CRC after them is left wrong,
  // as a hand-made bomb would have it right: either way no pixel may be decoded.
  for (int offset : {16, 20}) {
    const std::uint32_t side = 100000;
    for (int b = 0; b < 4; ++b) png[offset + b] = static_cast<std::uint8_t>(side >> (24 - 8 * b));
  }
  const auto bomb = (dir_ / "bomb.png").string();
  std::ofstream(bomb, std::ios::binary)
      .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  const auto good = save("good.png", smooth_image(3));
  const auto prints = bcd::eval::fingerprint_files({bomb, good}, AuditOptions{});
  ASSERT_EQ(prints.size(), 2u);
  EXPECT_FALSE(prints[0].ok);
  EXPECT_FALSE(prints[0].error.empty());
  EXPECT_TRUE(prints[1].ok) << prints[1].error;
}

// A truncated PNG: the reason says so, and libpng's own error text (which
// OpenCV's reader leaves on stderr) does not appear.
TEST_F(AuditImages, TruncatedPngIsUnreadableWithTheReason) {
  std::vector<std::uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", smooth_image(7), png));
  png.resize(png.size() / 2);
  const auto truncated = (dir_ / "truncated.png").string();
  std::ofstream(truncated, std::ios::binary)
      .write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  testing::internal::CaptureStderr();
  const auto prints = bcd::eval::fingerprint_files({truncated}, AuditOptions{});
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  ASSERT_EQ(prints.size(), 1u);
  EXPECT_FALSE(prints[0].ok);
  EXPECT_NE(prints[0].error.find("truncated"), std::string::npos) << prints[0].error;
  EXPECT_EQ(stderr_text, "");
}

TEST(Audit, NamesItsGroupingRule) {
  AuditOptions options;
  EXPECT_EQ(bcd::eval::grouping_name(options), "phash<=8+crops");
  options.hamming_threshold = 5;
  options.crop_variants = false;
  EXPECT_EQ(bcd::eval::grouping_name(options), "phash<=5");
}

TEST_F(AuditImages, KeepsApartImagesWithTheSameHistogram) {
  const cv::Mat base = smooth_image(2);
  const std::vector<std::string> paths = {
      save("base.png", base),
      save("shuffled.png", shuffled_pixels(base)),
      save("blocks.png", flipped_blocks(base)),
      save("other.png", smooth_image(3)),
  };
  const auto prints = bcd::eval::fingerprint_files(paths, {});
  for (std::size_t i = 1; i < paths.size(); ++i) {
    EXPECT_GT(bcd::eval::phash_distance(prints[0], prints[i], true), 8) << paths[i];
  }
  const auto groups = bcd::eval::near_duplicate_groups(paths);
  EXPECT_EQ(groups, std::vector<int>(paths.size(), -1));
}

TEST_F(AuditImages, ReportsSharedImagesAndConflictingLabels) {
  const cv::Mat a = smooth_image(4), b = smooth_image(5), c = smooth_image(6);
  cv::Mat a_small;
  cv::resize(a, a_small, cv::Size(200, 200), 0, 0, cv::INTER_AREA);
  const bcd::eval::AuditSet train{"training data",
                                  {{save("a.png", a), "benign", 0},
                                   {save("a_copy.png", a_small), "malignant", 0},
                                   {save("b.png", b), "benign", 0}}};
  const bcd::eval::AuditSet test{
      "test set",
      {{save("a_test.jpg", a, {cv::IMWRITE_JPEG_QUALITY, 80}), "benign", 0},
       {save("c.png", c), "normal", 0},
       {(dir_ / "missing.png").string(), "normal", 0},
       {text_file("notes.png"), "normal", 0}}};
  const auto report = bcd::eval::audit_sets({train, test}, {});
  EXPECT_EQ(report["within"][0]["n_groups"], 1);
  EXPECT_EQ(report["within"][0]["n_cross_label_groups"], 1);
  EXPECT_EQ(report["across"][0]["n_images_of_b_in_a"], 1);
  EXPECT_EQ(report["sets"][1]["n_unreadable"], 2);
  EXPECT_EQ(report["sets"][1]["unreadable"][0]["reason"], "file not found");
  EXPECT_EQ(report["sets"][1]["unreadable"][1]["reason"],
            "not a PNG, JPEG or BMP image (starts with 'not ')");
  const auto verdicts = report["verdicts"].get<std::vector<std::string>>();
  EXPECT_NE(
      std::find(verdicts.begin(), verdicts.end(), "test set shares 1 image with training data"),
      verdicts.end());
}

}  // namespace
