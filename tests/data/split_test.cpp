// Tests of the folder data set scan and the stratified, grouped split.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/errors.h"
#include "data/dataset.h"
#include "data/split.h"
#include "support/temp_path.h"

namespace fs = std::filesystem;

namespace {

/// A throw-away data set: `counts[c]` empty files per class folder, plus a mask
/// and a text file that the scan must skip.
fs::path make_folder_dataset(const std::string& name, const std::vector<int>& counts) {
  const fs::path root = bcd::test::temp_path("bcd_split_test_" + name);
  fs::remove_all(root);
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const fs::path dir = root / ("class" + std::to_string(c));
    fs::create_directories(dir);
    for (int i = 0; i < counts[c]; ++i) {
      std::ofstream(dir / ("img (" + std::to_string(i) + ").png")) << "x";
    }
    std::ofstream(dir / "img (0)_mask.png") << "x";
    std::ofstream(dir / "notes.txt") << "x";
  }
  return root;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST(Dataset, ScanSkipsMasksAndNonImages) {
  const auto root = make_folder_dataset("scan", {3, 2});
  const auto ds = bcd::scan_folder_dataset(root.string());
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"class0", "class1"}));
  EXPECT_EQ(ds.class_counts(), (std::vector<int>{3, 2}));
  EXPECT_EQ(ds.skipped.size(), 4u);
  EXPECT_TRUE(bcd::is_mask_file("a/benign (3)_mask_1.png"));
  EXPECT_FALSE(bcd::is_mask_file("a/benign (3).png"));
}

TEST(Dataset, MissingRootNamesIt) {
  try {
    bcd::scan_folder_dataset("/nonexistent/bcd-data");
    FAIL() << "expected InputError";
  } catch (const bcd::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bcd-data"), std::string::npos);
  }
}

TEST(Split, StratifiedDisjointAndDeterministic) {
  const auto root = make_folder_dataset("strat", {100, 40, 20});
  const auto ds = bcd::scan_folder_dataset(root.string());
  bcd::SplitOptions opt;
  opt.validation_fraction = 0.1;
  opt.test_fraction = 0.2;
  const auto a = bcd::make_split(ds, opt);
  const auto b = bcd::make_split(ds, opt);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.test.size(), 20u + 8u + 4u);
  EXPECT_EQ(a.validation.size(), 10u + 4u + 2u);
  EXPECT_EQ(a.train.size() + a.validation.size() + a.test.size(), ds.samples.size());
  auto all = as_set(a.train);
  for (const auto& s : a.validation) EXPECT_TRUE(all.insert(s).second) << s;
  for (const auto& s : a.test) EXPECT_TRUE(all.insert(s).second) << s;

  opt.seed = 7;
  EXPECT_NE(bcd::make_split(ds, opt).test, a.test);
}

TEST(Split, GroupsStayOnOneSide) {
  const auto root = make_folder_dataset("groups", {60});
  const auto ds = bcd::scan_folder_dataset(root.string());
  std::vector<int> group_of(ds.samples.size(), -1);
  for (std::size_t i = 0; i < group_of.size(); ++i) group_of[i] = static_cast<int>(i / 5);
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    bcd::SplitOptions opt;
    opt.seed = seed;
    const auto split = bcd::make_split(ds, opt, group_of);
    ASSERT_EQ(split.groups.size(), 12u);
    const auto train = as_set(split.train), val = as_set(split.validation),
               test = as_set(split.test);
    for (const auto& group : split.groups) {
      const int n_train = static_cast<int>(train.count(group[0]));
      for (const auto& member : group) {
        EXPECT_EQ(train.count(member), static_cast<std::size_t>(n_train)) << member;
        EXPECT_EQ(val.count(member), val.count(group[0])) << member;
        EXPECT_EQ(test.count(member), test.count(group[0])) << member;
      }
    }
  }
}

TEST(Split, SaveLoadRoundTripAndMissingFile) {
  const auto root = make_folder_dataset("roundtrip", {10, 10});
  const auto ds = bcd::scan_folder_dataset(root.string());
  const auto split = bcd::make_split(ds, {});
  const auto path = (root / "split.json").string();
  bcd::save_split(split, path);
  const auto loaded = bcd::load_split(path);
  EXPECT_EQ(loaded.train, split.train);
  EXPECT_EQ(loaded.test, split.test);
  EXPECT_EQ(bcd::split_samples(loaded, ds, "test").size(), split.test.size());

  fs::remove(root / split.test.front());
  const auto changed = bcd::scan_folder_dataset(root.string());
  EXPECT_THROW(bcd::split_samples(loaded, changed, "test"), bcd::InputError);
  EXPECT_THROW(bcd::split_samples(loaded, ds, "tset"), bcd::InputError);
}

TEST(Split, MalformedFileNamesIt) {
  const auto path = (bcd::test::temp_path("bcd_bad_split.json")).string();
  std::ofstream(path) << "{\"format\": \"bcd-split-v1\", \"seed\": \"x\"}";
  try {
    bcd::load_split(path);
    FAIL() << "expected InputError";
  } catch (const bcd::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}
