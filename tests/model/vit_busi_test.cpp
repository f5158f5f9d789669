// Real BUSI images through bcd's own decoding and preprocessing, against logits that
// tools/make_vit_fixtures.py computed with Pillow and the reference forward pass.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "image/image.h"
#include "model/classifier.h"
#include "model_fixtures.h"

namespace bcd {
namespace {

namespace fs = std::filesystem;

TEST(ViTBusi, LogitsMatchPillowAndReferenceForward) {
  const std::string data_dir = BCD_DATA_DIR;
  if (!fs::is_directory(data_dir + "/busi")) {
    GTEST_SKIP() << data_dir << "/busi not found; set BCD_DATA_DIR to the shared data folder";
  }
  const auto fixture =
      nlohmann::json::parse(read_file_text(testing::fixture_dir("busi_logits.json")));
  const double tolerance = fixture.at("tolerance").get<double>();
  const auto classifier =
      Classifier::load(testing::fixture_dir(fixture.at("model").get<std::string>()), {0, 4});

  std::vector<Image> images;
  for (const auto& entry : fixture.at("images")) {
    images.push_back(load_image(data_dir + "/" + entry.at("image").get<std::string>()));
  }
  const auto predictions = classifier->classify(images);
  double max_diff = 0.0;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto expected = fixture.at("images")[i].at("logits").get<std::vector<float>>();
    ASSERT_EQ(predictions[i].logits.size(), expected.size());
    for (std::size_t c = 0; c < expected.size(); ++c) {
      const double diff = std::abs(predictions[i].logits[c] - expected[c]);
      max_diff = std::max(max_diff, diff);
      EXPECT_LT(diff, tolerance) << fixture.at("images")[i].at("image") << " logit " << c;
    }
  }
  RecordProperty("max_abs_logit_diff", testing::scientific(max_diff));
}

}  // namespace
}  // namespace bcd
