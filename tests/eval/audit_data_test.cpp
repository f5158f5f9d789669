// The audit on BUSI: the known cross-label duplicate and the number of
// near-duplicate groups (reads ../shared/data; skipped without it).

#include <gtest/gtest.h>

#include <filesystem>

#include "data/dataset.h"
#include "data/split.h"
#include "eval/audit.h"

namespace {

namespace fs = std::filesystem;

TEST(AuditData, FindsBusiCrossLabelPair) {
  const fs::path busi = fs::path(BCD_DATA_DIR) / "busi";
  if (!fs::exists(busi / "benign")) GTEST_SKIP() << "no BUSI data at " << busi;
  bcd::eval::AuditSet set{"busi", {}};
  for (const char* label : {"benign", "malignant", "normal"}) {
    for (const auto& entry : fs::directory_iterator(busi / label)) {
      const auto name = entry.path().filename().string();
      if (name.find("_mask") == std::string::npos) set.files.push_back({entry.path(), label, 0});
    }
  }
  const auto report = bcd::eval::audit_sets({set}, {});
  bool found = false;
  for (const auto& group : report["within"][0]["cross_label_groups"]) {
    std::string names;
    for (const auto& m : group["members"]) names += m["path"].get<std::string>() + "|";
    found = found || (names.find("benign (433).png") != std::string::npos &&
                      names.find("malignant (145).png") != std::string::npos);
  }
  EXPECT_TRUE(found) << report["within"][0]["cross_label_groups"].dump(1);
  // Published audit: about 235 duplicated images; we should be in that range.
  EXPECT_GT(report["within"][0]["n_images_in_groups"].get<int>(), 150);
  EXPECT_LT(report["within"][0]["n_images_in_groups"].get<int>(), 450);
}

/// Images of the test side that have a duplicate on the training side.
int test_images_in_training(const bcd::Split& split, const bcd::Dataset& dataset) {
  const auto side = [&](const char* name, const char* title) {
    bcd::eval::AuditSet set{title, {}};
    for (const auto& s : bcd::split_samples(split, dataset, name)) {
      set.files.push_back({s.path, dataset.class_names[s.label], 0});
    }
    return set;
  };
  const auto report =
      bcd::eval::audit_sets({side("train", "training data"), side("test", "test set")}, {});
  return report["across"][0]["n_images_of_b_in_a"].get<int>();
}

// A random image-level split of BUSI leaks; one made with the audit's groups
// (what bcd train does) keeps every group on one side, so nothing is shared.
TEST(AuditData, GroupedSplitOfBusiDoesNotLeak) {
  const fs::path busi = fs::path(BCD_DATA_DIR) / "busi";
  if (!fs::exists(busi / "benign")) GTEST_SKIP() << "no BUSI data at " << busi;
  const bcd::Dataset dataset = bcd::scan_folder_dataset(busi.string());
  const bcd::Split naive = bcd::make_split(dataset, {});
  EXPECT_GT(test_images_in_training(naive, dataset), 10);

  std::vector<std::string> paths;
  for (const auto& s : dataset.samples) paths.push_back(s.path);
  const auto groups = bcd::eval::near_duplicate_groups(paths);
  const bcd::Split grouped = bcd::make_split(dataset, {}, groups);
  EXPECT_EQ(test_images_in_training(grouped, dataset), 0);
}

}  // namespace
