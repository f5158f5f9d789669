// `bcd evaluate` and `bcd audit` end to end: the built binary, the tiny model
// fixture (tests/fixtures/model/vit_h64_i32) and made-up data sets.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "support/run_command.h"
#include "support/temp_path.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using bcd::test::CommandResult;

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = bcd::test::temp_path("bcd_eval_cli_test");
    fs::remove_all(dir_);
    for (const char* c : {"benign", "malignant"}) {
      fs::create_directories(dir_ / "data" / c);
      for (int i = 0; i < 3; ++i) image(dir_ / "data" / c / (std::to_string(i) + ".png"), i);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void image(const fs::path& path, int seed) {
    cv::Mat m(48, 64, CV_8UC3);
    cv::theRNG().state = static_cast<std::uint64_t>(seed + 1);
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::imwrite(path.string(), m);
  }

  CommandResult bcd(const std::string& args) const {
    return bcd::test::run_bcd(args, dir_ / "stderr.txt");
  }

  std::string path(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  static std::string model() {
    return std::string("--model '") + BCD_SOURCE_DIR + "/tests/fixtures/model/vit_h64_i32'";
  }

  fs::path dir_;
};

TEST_F(EvalCli, EvaluatesAFolderWithAllOutputs) {
  const CommandResult run =
      bcd("evaluate " + model() + " " + path("data") + " --bootstrap 50 --html " + path("r.html") +
          " --predictions " + path("p.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json r = Json::parse(run.out);
  EXPECT_EQ(r["n_evaluated"], 6);
  EXPECT_EQ(r["dataset_classes"], Json({"benign", "malignant"}));
  EXPECT_TRUE(r["classification_report"].contains("macro avg"));
  EXPECT_EQ(r["bootstrap"]["n_resamples"], 50);
  std::ifstream csv(dir_ / "p.csv");
  std::string line;
  int n_lines = 0;
  while (std::getline(csv, line)) ++n_lines;
  EXPECT_EQ(n_lines, 7);
  const std::string checker = std::string(BCD_SOURCE_DIR) + "/tests/eval/check_html.py";
  EXPECT_EQ(std::system(("/usr/bin/python3 '" + checker + "' " + path("r.html")).c_str()), 0);
}

// The report renders in a real browser: headless Chromium takes a screenshot,
// which must be a full-size picture with content (not a blank page).
TEST_F(EvalCli, HtmlReportRendersInHeadlessChromium) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "no /usr/bin/chromium (apt chromium)";
  const CommandResult run = bcd("evaluate " + model() + " " + path("data") + " --bootstrap 20 -o " +
                                path("r.json") + " --html " + path("r.html"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string png = (dir_ / "shot.png").string();
  const std::string command =
      "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--window-size=1200,2400 --screenshot='" +
      png + "' 'file://" + (dir_ / "r.html").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const cv::Mat shot = cv::imread(png, cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(shot.empty()) << "no screenshot at " << png;
  EXPECT_EQ(shot.cols, 1200);
  cv::Scalar mean, stddev;
  cv::meanStdDev(shot, mean, stddev);
  EXPECT_GT(stddev[0], 10.0) << "the page rendered blank";
}

TEST_F(EvalCli, ManifestRowsThatFailAreListedAndExitNonZero) {
  std::ofstream(dir_ / "set.csv", std::ios::binary)
      << "\xEF\xBB\xBFid,diagnosis\r\ndata/benign/0,benign\r\n\"data/malignant/1\",malign\r\n"
         "data/benign/none,benign\r\n";
  const CommandResult run =
      bcd("evaluate " + model() + " " + path("set.csv") +
          " --label-map malign=malignant --path-pattern '{id}.png' --bootstrap 0" + " -o " +
          path("out/report.json"));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  std::ifstream in(dir_ / "out" / "report.json");
  const Json r = Json::parse(in);
  EXPECT_EQ(r["n_evaluated"], 2);
  ASSERT_EQ(r["n_failed"], 1);
  EXPECT_EQ(r["failed"][0]["line"], 4);
  EXPECT_NE(r["failed"][0]["path"].get<std::string>().find("none.png"), std::string::npos);
}

TEST_F(EvalCli, UnknownLabelIsAnInputError) {
  std::ofstream(dir_ / "set.csv") << "path,label\ndata/benign/0.png,cyst\n";
  const CommandResult run = bcd("evaluate " + model() + " " + path("set.csv"));
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("--label-map cyst="), std::string::npos) << run.err;
}

TEST_F(EvalCli, UnknownPositiveClassIsAnInputErrorListingTheLabels) {
  const CommandResult run =
      bcd("evaluate " + model() + " " + path("data") + " --positive-class cancer");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("benign, malignant, normal"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST_F(EvalCli, AuditReportsImagesSharedAcrossSets) {
  fs::create_directories(dir_ / "external" / "benign");
  fs::copy_file(dir_ / "data" / "malignant" / "2.png", dir_ / "external" / "benign" / "x.png");
  image(dir_ / "external" / "benign" / "y.png", 40);
  const std::string args = "audit " + path("data") + " " + path("external") + " -o " +
                           path("audit.json") + " --html " + path("audit.html");
  CommandResult run = bcd(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("external shares 1 image with"), std::string::npos) << run.err;
  std::ifstream in(dir_ / "audit.json");
  const Json r = Json::parse(in);
  EXPECT_EQ(r["across"][0]["n_images_of_b_in_a"], 1);
  EXPECT_TRUE(r["groups"][0]["cross_label"].get<bool>());
  run = bcd(args + " --fail-on-shared");
  EXPECT_EQ(run.exit_code, 1);
}

}  // namespace
