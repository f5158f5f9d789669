// The committed demo model: it loads, answers in the pipeline's form, and its
// card's test-split accuracy is what the classifier measures now (the card's
// numbers come from bcd evaluate; this re-derives one of them independently).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <numeric>

#include "common/files.h"
#include "data/dataset.h"
#include "data/split.h"
#include "image/image.h"
#include "model/classifier.h"

namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string(BCD_SOURCE_DIR) + "/models/bcd-demo-vit";
const std::string kBusi = std::string(BCD_DATA_DIR) + "/busi";

}  // namespace

TEST(DemoModel, RanksThreeLabelsForARealImage) {
  if (!fs::exists(kBusi)) GTEST_SKIP() << "no BUSI data at " << kBusi;
  const auto classifier = bcd::Classifier::load(kModel);
  const auto p = classifier->classify({bcd::load_image(kBusi + "/malignant/malignant (1).png")});
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(p[0].ranked.size(), 3u);
  EXPECT_GE(p[0].ranked[0].score, p[0].ranked[1].score);
  EXPECT_GE(p[0].ranked[1].score, p[0].ranked[2].score);
  const float total = p[0].ranked[0].score + p[0].ranked[1].score + p[0].ranked[2].score;
  EXPECT_NEAR(total, 1.0f, 1e-5f);
}

TEST(DemoModel, CardTestAccuracyIsReproduced) {
  if (!fs::exists(kBusi)) GTEST_SKIP() << "no BUSI data at " << kBusi;
  const auto report =
      nlohmann::json::parse(bcd::read_file_text(kModel + "/reports/eval_test.json"));
  const auto split = bcd::load_split(kModel + "/split.json");
  const auto dataset = bcd::scan_folder_dataset(kBusi);
  const auto samples = bcd::split_samples(split, dataset, "test");
  std::vector<bcd::Image> images;
  for (const auto& s : samples) images.push_back(bcd::load_image(s.path));

  const auto classifier = bcd::Classifier::load(kModel);
  const auto predictions = classifier->classify(images);
  int correct = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& label = dataset.class_names[static_cast<std::size_t>(samples[i].label)];
    correct +=
        classifier->labels()[static_cast<std::size_t>(predictions[i].predicted_id())] == label;
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(samples.size());
  EXPECT_DOUBLE_EQ(accuracy, report["classification_report"]["accuracy"].get<double>());
}
