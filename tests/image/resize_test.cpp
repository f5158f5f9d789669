// resize_bilinear against Pillow's Image.resize((224, 224), BILINEAR) over the
// synthetic pattern at 24 source sizes from 1x1 to 1048x190.

#include "image/resize.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "image_test_util.h"

namespace bcd {
namespace {

TEST(Resize, MatchesPillowAtEverySize) {
  const nlohmann::json manifest = test::read_json(test::fixture_dir() + "/manifest.json");
  ASSERT_GE(manifest["resize"].size(), 20u);
  for (const auto& entry : manifest["resize"]) {
    const int width = entry["width"];
    const int height = entry["height"];
    SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
    const Image source = test::make_pattern(width, height, entry["seed"].get<std::uint32_t>());
    const Image actual = resize_bilinear(source, 224, 224);
    EXPECT_EQ(test::compare_with_digest(actual, entry["result"]), "");

    std::string full = "digest only";
    if (entry.contains("expected")) {
      const std::string path =
          test::fixture_dir() + "/resize/" + entry["expected"].get<std::string>();
      const int diff = test::max_abs_diff(actual, load_image(path));
      full = "max |diff| " + std::to_string(diff);
      EXPECT_EQ(diff, 0);
    }
    std::printf(
        "resize %4dx%-4d -> 224x224: %s, %s\n", width, height,
        test::compare_with_digest(actual, entry["result"]).empty() ? "digest equal" : "DIFFERS",
        full.c_str());
  }
}

TEST(Resize, UnchangedSizeIsACopy) {
  const Image source = test::make_pattern(40, 30, 1);
  EXPECT_EQ(resize_bilinear(source, 40, 30).rgb, source.rgb);
}

TEST(Resize, OnlyOneAxisChanging) {
  // A column-constant image stays column-constant when only the height changes.
  Image source = test::make_pattern(20, 9, 2);
  for (int y = 1; y < source.height; ++y) {
    std::copy_n(source.rgb.begin(), 60, source.rgb.begin() + y * 60);
  }
  const Image taller = resize_bilinear(source, 20, 33);
  ASSERT_EQ(taller.height, 33);
  for (int y = 0; y < taller.height; ++y) {
    EXPECT_TRUE(
        std::equal(taller.rgb.begin(), taller.rgb.begin() + 60, taller.rgb.begin() + y * 60));
  }
}

TEST(Resize, RejectsEmptyTargets) {
  const Image source = test::make_pattern(4, 4, 0);
  EXPECT_THROW(resize_bilinear(source, 0, 10), std::invalid_argument);
  EXPECT_THROW(resize_bilinear(Image{}, 10, 10), std::invalid_argument);
}

TEST(Resize, SpeedOf1000x700To224) {
  const Image source = test::make_pattern(1000, 700, 0);
  constexpr int kRuns = 20;
  resize_bilinear(source, 224, 224);  // warm caches
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) resize_bilinear(source, 224, 224);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      kRuns;
  std::printf("resize 1000x700 -> 224x224: %.2f ms per image\n", ms);
  EXPECT_LT(ms, 100.0);  // a generous bound; about 2 ms is typical on one core
}

}  // namespace
}  // namespace bcd
