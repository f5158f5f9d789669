// BUSI's original-size images (../shared/data/busi-original-sample, never
// committed): decoding and the 224x224 resize agree with Pillow through the
// digests tools/make_image_fixtures.py recorded in busi_expected.json.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "image/image.h"
#include "image/resize.h"
#include "image_test_util.h"

namespace bcd {
namespace {

TEST(BusiParity, DecodeAndResizeMatchPillow) {
  const std::string dir = std::string(BCD_DATA_DIR) + "/busi-original-sample";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no BUSI sample at " << dir;
  const nlohmann::json expected = test::read_json(test::fixture_dir() + "/busi_expected.json");
  ASSERT_EQ(expected["images"].size(), 24u);
  for (const auto& [name, entry] : expected["images"].items()) {
    SCOPED_TRACE(name);
    const Image decoded = load_image(dir + "/" + name);
    EXPECT_EQ(test::compare_with_digest(decoded, entry["decoded"]), "");
    const Image resized = resize_bilinear(decoded, 224, 224);
    const std::string resize_result = test::compare_with_digest(resized, entry["resized_224"]);
    EXPECT_EQ(resize_result, "");
    std::printf("busi %-26s %4dx%-4d -> 224x224: %s\n", name.c_str(), decoded.width, decoded.height,
                resize_result.empty() ? "identical to Pillow" : resize_result.c_str());
  }
}

}  // namespace
}  // namespace bcd
