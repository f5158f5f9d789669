// The audit on BUSI: the known cross-label duplicate and the number of
// near-duplicate groups (reads ../shared/data; skipped without it).

#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
