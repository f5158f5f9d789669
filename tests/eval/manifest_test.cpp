// CSV / TSV manifests: BOM, quoting, line ends, column choice and errors.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "eval/manifest.h"
#include "support/temp_path.h"

namespace {

namespace fs = std::filesystem;
using bcd::eval::ManifestOptions;
using bcd::eval::read_manifest;

class ManifestFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = bcd::test::temp_path(
        "bcd_manifest_test_" +
        std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string in_dir(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::string error_of(const std::string& path, const ManifestOptions& options = {}) {
  try {
    read_manifest(path, options);
  } catch (const bcd::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, ParsesQuotesAndLineEnds) {
  const auto rows = bcd::eval::parse_delimited(
      "a,b\r\n\"x, \"\"y\"\"\",2\r\n\r\n\"multi\nline\",3\rlast,4", ',', "t.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].fields[0], "x, \"y\"");
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].fields[0], "multi\nline");
  EXPECT_EQ(rows[2].line, 4);
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"last", "4"}));
  EXPECT_EQ(rows[3].line, 6);
}

TEST_F(ManifestFiles, ReadsBomCrlfAndQuotedPaths) {
  const auto path = write("set.csv",
                          "\xEF\xBB\xBFimage_path,Diagnosis\r\n\"img/a, 1.png\",benign\r\n"
                          "img/b.png,\"malignant\"\r\n");
  const auto files = read_manifest(path);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, in_dir("img/a, 1.png"));
  EXPECT_EQ(files[0].label, "benign");
  EXPECT_EQ(files[1].label, "malignant");
  EXPECT_EQ(files[1].line, 3);
}

TEST_F(ManifestFiles, TsvWithPatternAndBaseFolder) {
  const auto path = write("set.tsv", "id\tsite\tlabel\ncase_0001\tA\tmalign\n");
  ManifestOptions options;
  options.path_pattern = "{id}.png";
  options.base_dir = "/data/images";
  const auto files = read_manifest(path, options);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "/data/images/case_0001.png");
  EXPECT_EQ(files[0].label, "malign");
}

TEST_F(ManifestFiles, NamedColumnsAndSemicolons) {
  const auto path = write("set.csv", "file;truth;grade\nx.png;normal;2\n");
  ManifestOptions options;
  options.label_column = "TRUTH";
  const auto files = read_manifest(path, options);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].label, "normal");
}

TEST_F(ManifestFiles, ErrorsNameFileLineAndColumn) {
  const auto no_label = write("a.csv", "path,site\nx.png,A\n");
  EXPECT_NE(error_of(no_label).find("no label column"), std::string::npos);
  EXPECT_NE(error_of(no_label).find("'site'"), std::string::npos);

  const auto ragged = write("b.csv", "path,label\nx.png,benign\ny.png\n");
  EXPECT_NE(error_of(ragged).find("b.csv: line 3: expected 2 fields"), std::string::npos);

  const auto open_quote = write("c.csv", "path,label\n\"x.png,benign\n");
  EXPECT_NE(error_of(open_quote).find("line 2: a quoted field is never closed"), std::string::npos);

  const auto empty_label = write("d.csv", "path,label\nx.png, \n");
  EXPECT_NE(error_of(empty_label).find("line 2: empty label"), std::string::npos);

  ManifestOptions bad_pattern;
  bad_pattern.path_pattern = "case.png";
  EXPECT_NE(error_of(write("e.csv", "id,label\n1,benign\n"), bad_pattern).find("{id}"),
            std::string::npos);
}

}  // namespace
