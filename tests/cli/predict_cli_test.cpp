// `bcd predict` end to end: the built binary, the tiny model fixture
// (tests/fixtures/model/vit_h64_i32) and made-up images, good and bad.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "support/run_command.h"
#include "support/temp_path.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using bcd::test::CommandResult;

const fs::path kModel = fs::path(BCD_SOURCE_DIR) / "tests/fixtures/model/vit_h64_i32";

class PredictCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = bcd::test::temp_path("bcd_predict_cli_test");
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    for (int i = 0; i < 5; ++i) image(dir_ / "images" / (std::to_string(i) + ".png"), i);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void image(const fs::path& path, int seed) {
    cv::Mat m(40 + 7 * seed, 60 - 3 * seed, CV_8UC3);
    cv::theRNG().state = static_cast<std::uint64_t>(seed + 1);
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::imwrite(path.string(), m);
  }

  CommandResult bcd(const std::string& args) const {
    return bcd::test::run_bcd(args, dir_ / "stderr.txt");
  }
  std::string quoted(const fs::path& p) const { return "'" + p.string() + "'"; }
  std::string predict(const fs::path& model, const std::string& rest) const {
    return "predict --threads 1 --model " + quoted(model) + " " + rest;
  }

  /// A copy of the model fixture that a test may damage.
  fs::path model_copy() const {
    const fs::path copy = dir_ / "model";
    fs::create_directories(copy);
    for (const auto& e : fs::directory_iterator(kModel))
      fs::copy_file(e.path(), copy / e.path().filename());
    return copy;
  }

  fs::path dir_;
};

/// The scores of every result in `out`, in order, label by label.
std::vector<std::vector<std::pair<std::string, double>>> scores_of(const std::string& out) {
  std::vector<std::vector<std::pair<std::string, double>>> all;
  for (const auto& entry : Json::parse(out)) {
    std::vector<std::pair<std::string, double>> scores;
    for (const auto& s : entry["scores"]) scores.emplace_back(s["label"], s["score"]);
    all.push_back(scores);
  }
  return all;
}

TEST_F(PredictCli, RanksEveryLabelHighestFirstForEachImageOfAFolder) {
  const CommandResult run = bcd(predict(kModel, quoted(dir_ / "images")));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const Json results = Json::parse(run.out);
  ASSERT_EQ(results.size(), 5u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& entry = results[i];
    EXPECT_EQ(fs::path(entry["path"].get<std::string>()).filename(), std::to_string(i) + ".png");
    ASSERT_EQ(entry["scores"].size(), 3u);
    double sum = 0.0, previous = 2.0;
    for (const auto& s : entry["scores"]) {
      EXPECT_LE(s["score"].get<double>(), previous);
      previous = s["score"];
      sum += previous;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

// Chunks are decoded ahead of the model on another thread: any batch size gives
// every image its own scores, in the order given.
TEST_F(PredictCli, BatchSizeChangesNoScore) {
  const std::string images = quoted(dir_ / "images");
  const CommandResult one = bcd(predict(kModel, images + " --batch-size 1"));
  const CommandResult two = bcd(predict(kModel, images + " --batch-size 2"));
  const CommandResult all = bcd(predict(kModel, images + " --batch-size 16"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto a = scores_of(one.out), b = scores_of(two.out), c = scores_of(all.out);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), a.size());
  ASSERT_EQ(c.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t k = 0; k < a[i].size(); ++k) {
      EXPECT_EQ(b[i][k].first, a[i][k].first) << "image " << i;
      EXPECT_NEAR(b[i][k].second, a[i][k].second, 1e-6) << "image " << i;
      EXPECT_NEAR(c[i][k].second, a[i][k].second, 1e-6) << "image " << i;
    }
  }
}

TEST_F(PredictCli, TopKKeepsTheHighestScores) {
  const CommandResult all = bcd(predict(kModel, quoted(dir_ / "images" / "3.png")));
  const CommandResult top = bcd(predict(kModel, "--top-k 1 " + quoted(dir_ / "images" / "3.png")));
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const auto a = scores_of(all.out), t = scores_of(top.out);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].size(), 1u);
  EXPECT_EQ(t[0][0], a[0][0]);
}

// A text file named .png and a missing file get error entries naming them; the
// other images still get scores, and the exit code says something failed.
TEST_F(PredictCli, UnreadableFilesAreErrorEntriesAndTheRestIsClassified) {
  std::ofstream(dir_ / "images" / "notes.png") << "not an image\n";
  const fs::path missing = dir_ / "missing.png";
  const CommandResult run =
      bcd(predict(kModel, "--batch-size 2 " + quoted(dir_ / "images") + " " + quoted(missing)));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const Json results = Json::parse(run.out);
  ASSERT_EQ(results.size(), 7u);
  int n_scored = 0;
  for (const auto& entry : results) {
    const std::string path = entry["path"];
    if (path.find("notes.png") != std::string::npos || path == missing.string()) {
      ASSERT_TRUE(entry.contains("error")) << entry.dump();
      EXPECT_NE(entry["error"].get<std::string>().find(path), std::string::npos) << entry.dump();
    } else {
      EXPECT_EQ(entry["scores"].size(), 3u) << entry.dump();
      ++n_scored;
    }
  }
  EXPECT_EQ(n_scored, 5);
  EXPECT_NE(run.err.find("notes.png"), std::string::npos) << run.err;
}

TEST_F(PredictCli, TruncatedSafetensorsIsAModelErrorNamingTheFile) {
  const fs::path model = model_copy();
  const fs::path weights = model / "model.safetensors";
  fs::resize_file(weights, fs::file_size(weights) / 2);
  const CommandResult run = bcd(predict(model, quoted(dir_ / "images" / "0.png")));
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_NE(run.err.find(weights.string()), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST_F(PredictCli, ConfigMissingAFieldIsAModelErrorNamingIt) {
  const fs::path model = model_copy();
  Json config = Json::parse(std::ifstream(model / "config.json"));
  config.erase("hidden_size");
  std::ofstream(model / "config.json") << config.dump(2);
  const CommandResult run = bcd(predict(model, quoted(dir_ / "images" / "0.png")));
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_NE(run.err.find("hidden_size"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("config.json"), std::string::npos) << run.err;
}

// Results that never reach stdout (a full disk) must not exit 0.
TEST_F(PredictCli, StdoutThatCannotBeWrittenIsAnOutputError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const CommandResult run = bcd(predict(kModel, quoted(dir_ / "images") + " > /dev/full"));
  EXPECT_EQ(run.exit_code, 6) << run.err;
  EXPECT_NE(run.err.find("standard output"), std::string::npos) << run.err;
}

TEST_F(PredictCli, BadNumbersOnTheCommandLineAreUsageErrors) {
  const std::string image = quoted(dir_ / "images" / "0.png");
  for (const char* flag : {"--threads 100000", "--batch-size 0", "--top-k -1"}) {
    const CommandResult run = bcd(predict(kModel, std::string(flag) + " " + image));
    EXPECT_EQ(run.exit_code, 2) << flag << ": " << run.err;
  }
  const CommandResult level = bcd("--log-level loud " + predict(kModel, image));
  EXPECT_EQ(level.exit_code, 2) << level.err;
}

// A NaN weight (a diverged training run) would give every image null scores.
TEST_F(PredictCli, NanWeightIsAModelErrorNamingTheTensor) {
  const fs::path model = model_copy();
  const fs::path weights = model / "model.safetensors";
  std::fstream file(weights, std::ios::in | std::ios::out | std::ios::binary);
  std::uint64_t header_bytes = 0;
  file.read(reinterpret_cast<char*>(&header_bytes), sizeof header_bytes);
  std::string header(header_bytes, '\0');
  file.read(header.data(), static_cast<std::streamsize>(header.size()));
  const auto offsets = Json::parse(header)["classifier.bias"]["data_offsets"];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  file.seekp(static_cast<std::streamoff>(8 + header_bytes + offsets[0].get<std::uint64_t>()));
  file.write(reinterpret_cast<const char*>(&nan), sizeof nan);
  file.close();
  const CommandResult run = bcd(predict(model, quoted(dir_ / "images" / "0.png")));
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_NE(run.err.find("classifier.bias"), std::string::npos) << run.err;
}

TEST_F(PredictCli, NoImagesIsAnInputError) {
  fs::create_directories(dir_ / "empty");
  const CommandResult run = bcd(predict(kModel, quoted(dir_ / "empty")));
  EXPECT_EQ(run.exit_code, 3) << run.err;
}

}  // namespace
