// Tests of the training loop: determinism, gradient accumulation, the learning
// rate schedule, checkpoints, and a model directory the classifier can load.

#include <gtest/gtest.h>

#include <limits>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/errors.h"
#include "common/files.h"
#include "image/image.h"
#include "model/classifier.h"
#include "model/safetensors.h"
#include "support/temp_path.h"
#include "train/augment.h"
#include "train/train.h"

namespace fs = std::filesystem;

namespace {

/// Three classes of 40x40 images that differ in brightness, so a tiny model
/// can learn something in two epochs.
fs::path make_image_dataset() {
  const fs::path root = bcd::test::temp_path("bcd_train_test_data");
  if (fs::exists(root / "c" / "img7.png")) return root;
  std::mt19937 rng(3);
  const char* classes[] = {"a", "b", "c"};
  for (int c = 0; c < 3; ++c) {
    fs::create_directories(root / classes[c]);
    for (int i = 0; i < 8; ++i) {
      bcd::Image img;
      img.width = img.height = 40;
      img.rgb.resize(40 * 40 * 3);
      for (auto& v : img.rgb) v = static_cast<std::uint8_t>(60 * c + rng() % 60);
      const auto png = bcd::encode_png(img);
      bcd::write_file_atomic((root / classes[c] / ("img" + std::to_string(i) + ".png")).string(),
                             png.data(), png.size());
    }
  }
  return root;
}

bcd::TrainOptions tiny_options(const std::string& out) {
  bcd::TrainOptions o;
  o.data_root = make_image_dataset().string();
  o.output_dir = out;
  fs::remove_all(out);
  o.size = "tiny";
  o.image_size = 32;
  o.patch_size = 8;
  o.hidden_size = 32;
  o.num_layers = 1;
  o.num_heads = 2;
  o.epochs = 2;
  o.batch_size = 8;
  o.learning_rate = 1e-3;
  o.threads = 1;
  return o;
}

std::vector<float> weights(const std::string& dir, const std::string& name) {
  const auto file = bcd::SafetensorsFile::open(dir + "/model.safetensors");
  return file.to_float32(*file.find(name));
}

std::string tmp(const std::string& name) {
  return (bcd::test::temp_path("bcd_train_test_" + name)).string();
}

}  // namespace

TEST(Train, SameSeedSameModelBitForBit) {
  const auto a = tiny_options(tmp("seed_a"));
  const auto b = tiny_options(tmp("seed_b"));
  auto c = tiny_options(tmp("seed_c"));
  c.seed = 7;
  bcd::train_model(a);
  bcd::train_model(b);
  bcd::train_model(c);
  const auto wa = bcd::read_file_bytes(a.output_dir + "/model.safetensors");
  EXPECT_EQ(wa, bcd::read_file_bytes(b.output_dir + "/model.safetensors"));
  EXPECT_NE(wa, bcd::read_file_bytes(c.output_dir + "/model.safetensors"));
}

TEST(Train, GradientAccumulationMatchesOneBigBatch) {
  auto whole = tiny_options(tmp("accum_whole"));
  auto parts = tiny_options(tmp("accum_parts"));
  parts.micro_batch_size = 3;  // 8 = 3 + 3 + 2: uneven parts on purpose
  bcd::train_model(whole);
  bcd::train_model(parts);
  const auto w1 = weights(whole.output_dir, "classifier.weight");
  const auto w2 = weights(parts.output_dir, "classifier.weight");
  ASSERT_EQ(w1.size(), w2.size());
  for (std::size_t i = 0; i < w1.size(); ++i) EXPECT_NEAR(w1[i], w2[i], 1e-5) << i;
}

TEST(Train, WritesALoadableModelDirectoryLogAndCheckpoints) {
  auto o = tiny_options(tmp("outputs"));
  o.epochs = 3;
  o.keep_checkpoints = 2;
  const auto records = bcd::train_model(o);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(fs::exists(o.output_dir + "/split.json"));
  EXPECT_TRUE(fs::exists(o.output_dir + "/checkpoints/epoch-3/optimizer.pt"));
  EXPECT_TRUE(fs::exists(o.output_dir + "/checkpoints/epoch-2/model.safetensors"));
  EXPECT_FALSE(fs::exists(o.output_dir + "/checkpoints/epoch-1"));
  std::ifstream log(o.output_dir + "/train_log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 3);

  const auto classifier = bcd::Classifier::load(o.output_dir);
  EXPECT_EQ(classifier->labels(), (std::vector<std::string>{"a", "b", "c"}));
  const auto p = classifier->classify({bcd::load_image(o.data_root + "/b/img0.png")});
  EXPECT_EQ(p.at(0).ranked.size(), 3u);
}

TEST(Train, ReusesAnExistingSplit) {
  auto first = tiny_options(tmp("split_first"));
  first.epochs = 1;
  bcd::train_model(first);
  auto second = tiny_options(tmp("split_second"));
  second.epochs = 1;
  second.split_path = first.output_dir + "/split.json";
  second.seed = 99;  // would give another split if one were made
  bcd::train_model(second);
  EXPECT_EQ(bcd::read_file_text(first.output_dir + "/split.json"),
            bcd::read_file_text(second.output_dir + "/split.json"));
}

TEST(Train, CosineScheduleWithWarmup) {
  EXPECT_DOUBLE_EQ(bcd::cosine_learning_rate(1.0, 0, 100, 10), 0.0);
  EXPECT_DOUBLE_EQ(bcd::cosine_learning_rate(1.0, 5, 100, 10), 0.5);
  EXPECT_DOUBLE_EQ(bcd::cosine_learning_rate(1.0, 10, 100, 10), 1.0);
  EXPECT_NEAR(bcd::cosine_learning_rate(1.0, 55, 100, 10), 0.5, 1e-12);
  EXPECT_NEAR(bcd::cosine_learning_rate(1.0, 100, 100, 10), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(bcd::cosine_learning_rate(5e-5, 0, 100, 0), 5e-5);
}

TEST(Augment, CopiesAreDegradedAndSeeded) {
  bcd::Image img;
  img.width = 32;
  img.height = 24;
  img.rgb.resize(32 * 24 * 3);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i * 7);
  std::mt19937_64 r1(1), r2(1);
  std::string what;
  const auto a = bcd::augment_copy(img, {}, r1, &what);
  const auto b = bcd::augment_copy(img, {}, r2);
  EXPECT_EQ(a.rgb, b.rgb);
  EXPECT_NE(a.rgb, img.rgb);
  EXPECT_FALSE(what.empty());
  EXPECT_EQ(a.width, 32);
  EXPECT_EQ(bcd::flip_horizontal(bcd::flip_horizontal(img)).rgb, img.rgb);
  const auto crop = bcd::random_resized_crop(img, 0.5, r1);
  EXPECT_EQ(crop.width, 32);
  EXPECT_EQ(crop.height, 24);
}

TEST(Train, BadOptionsAreInputErrors) {
  auto o = tiny_options(tmp("bad"));
  o.epochs = 0;
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
  o = tiny_options(tmp("bad2"));
  o.patch_size = 7;
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
  o = tiny_options(tmp("bad3"));
  o.learning_rate = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
  o = tiny_options(tmp("bad4"));
  o.weight_decay = -5;
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
  o = tiny_options(tmp("bad5"));
  o.duplicate_threshold = 99;  // would group every image into one side
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
  o = tiny_options(tmp("bad6"));
  o.image_size = 100000;
  EXPECT_THROW(bcd::train_model(o), bcd::InputError);
}
