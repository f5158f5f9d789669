#include "model/classifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <thread>

#include "common/errors.h"
#include "model_fixtures.h"

namespace bcd {
namespace {

using testing::fixture_dir;
using testing::load_reference;

constexpr double kTolerance = 1e-4;

TEST(Classifier, PredictionIsRankedSoftmax) {
  const std::vector<std::string> labels = {"benign", "malignant", "normal"};
  const float logits[] = {0.5f, 2.0f, -1.0f};
  const Prediction p = make_prediction(logits, labels);
  EXPECT_EQ(p.logits, std::vector<float>(logits, logits + 3));
  const double sum = std::accumulate(p.probabilities.begin(), p.probabilities.end(), 0.0);
  EXPECT_NEAR(sum, 1.0, 1e-6);
  const double denominator = std::exp(0.5) + std::exp(2.0) + std::exp(-1.0);
  EXPECT_NEAR(p.probabilities[1], std::exp(2.0) / denominator, 1e-7);
  ASSERT_EQ(p.ranked.size(), 3u);
  EXPECT_EQ(p.ranked[0].label, "malignant");
  EXPECT_EQ(p.ranked[1].label, "benign");
  EXPECT_EQ(p.ranked[2].label, "normal");
  EXPECT_EQ(p.ranked[0].score, p.probabilities[1]);
  EXPECT_EQ(p.predicted_id(), 1);
}

TEST(Classifier, TiesRankTheLowerIdFirst) {
  const std::vector<std::string> labels = {"a", "b", "c", "d"};
  const float logits[] = {1.0f, 3.0f, 1.0f, 3.0f};
  const Prediction p = make_prediction(logits, labels);
  EXPECT_EQ(p.ranked[0].label, "b");
  EXPECT_EQ(p.ranked[1].label, "d");
  EXPECT_EQ(p.ranked[2].label, "a");
  EXPECT_EQ(p.ranked[3].label, "c");
  EXPECT_EQ(p.predicted_id(), 1);
}

TEST(Classifier, SoftmaxIsStableForLargeLogits) {
  const std::vector<std::string> labels = {"a", "b"};
  const float logits[] = {1000.0f, -1000.0f};
  const Prediction p = make_prediction(logits, labels);
  EXPECT_EQ(p.probabilities[0], 1.0f);
  EXPECT_EQ(p.probabilities[1], 0.0f);
  EXPECT_FALSE(std::isnan(p.probabilities[1]));
}

TEST(Classifier, TopK) {
  const std::vector<std::string> labels = {"a", "b", "c"};
  const float logits[] = {0.0f, 1.0f, 2.0f};
  const Prediction p = make_prediction(logits, labels);
  ASSERT_EQ(top_k(p, 1).size(), 1u);
  EXPECT_EQ(top_k(p, 1)[0].label, "c");
  EXPECT_EQ(top_k(p, 2)[1].label, "b");
  EXPECT_EQ(top_k(p, 0).size(), 3u);
  EXPECT_EQ(top_k(p, 10).size(), 3u);
}

TEST(Classifier, ClassifiesPixelsLikeTheReference) {
  const auto classifier = Classifier::load(fixture_dir("vit_h48_i224"), {1, 1});
  const auto ref = load_reference("vit_h48_i224");
  EXPECT_EQ(classifier->labels(), (std::vector<std::string>{"benign", "malignant", "normal"}));
  EXPECT_EQ(classifier->config().hidden_size, 48);
  EXPECT_GT(classifier->n_parameters(), 80000);

  const torch::Tensor pixels = ref.pixels.contiguous();
  const std::vector<float> flat(pixels.data_ptr<float>(),
                                pixels.data_ptr<float>() + pixels.numel());
  const auto predictions = classifier->classify_pixels(flat, static_cast<int>(pixels.size(0)));
  ASSERT_EQ(predictions.size(), static_cast<std::size_t>(pixels.size(0)));
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(predictions[i].logits[c], ref.expected[i][c].item<float>(), kTolerance);
    }
  }
  EXPECT_THROW(classifier->classify_pixels(flat, 1), InputError);
}

/// The reference pixels as images: preprocessing (a same-size resize is a no-op) must
/// give back exactly the reference pixel values.
std::vector<Image> reference_images(const torch::Tensor& pixels_u8) {
  std::vector<Image> images;
  const torch::Tensor hwc = pixels_u8.permute({0, 2, 3, 1}).contiguous();
  for (std::int64_t i = 0; i < hwc.size(0); ++i) {
    Image image;
    image.height = static_cast<int>(hwc.size(1));
    image.width = static_cast<int>(hwc.size(2));
    const std::uint8_t* data = hwc[i].data_ptr<std::uint8_t>();
    image.rgb.assign(data, data + hwc[i].numel());
    images.push_back(std::move(image));
  }
  return images;
}

TEST(Classifier, ClassifiesImagesInBatches) {
  const auto ref = load_reference("vit_h64_i32");
  const auto images = reference_images(ref.pixels_u8);
  for (int batch : {1, 2, 16}) {
    const auto classifier = Classifier::load(fixture_dir("vit_h64_i32"), {0, batch});
    const auto predictions = classifier->classify(images);
    ASSERT_EQ(predictions.size(), images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(predictions[i].logits[c], ref.expected[i][c].item<float>(), kTolerance)
            << "batch size " << batch << ", image " << i;
      }
    }
  }
}

TEST(Classifier, ConcurrentCallersGetTheSameAnswers) {
  const auto ref = load_reference("vit_h64_i32");
  const auto images = reference_images(ref.pixels_u8);
  const auto classifier = Classifier::load(fixture_dir("vit_h64_i32"), {2, 2});
  const auto expected = classifier->classify(images);
  std::vector<std::vector<Prediction>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) results[t] = classifier->classify(images);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) {
    ASSERT_EQ(result.size(), expected.size());
    for (std::size_t i = 0; i < result.size(); ++i) {
      EXPECT_EQ(result[i].logits, expected[i].logits);
    }
  }
}

TEST(Classifier, RefusesABareViTModel) {
  EXPECT_THROW(Classifier::load(fixture_dir("vitmodel_h32_i32_backbone")), ModelError);
  EXPECT_THROW(Classifier::load(fixture_dir("vit_h64_i32"), {0, 0}), InputError);
}

}  // namespace
}  // namespace bcd
