// The dynamic batcher alone: grouping, limits, failures and stopping.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve_test_util.h"

namespace bcd::serve {
namespace {

using testing::FakeModel;

ModelInput dark_input() { return FakeModel::prepare(testing::solid_image(2, 2, 0)); }
ModelInput bright_input() { return FakeModel::prepare(testing::solid_image(2, 2, 255)); }

TEST(Batcher, GroupsImagesThatArriveWithinTheWait) {
  FakeModel model;
  Metrics metrics;
  Batcher batcher({4, 200, 64}, model.fn(), &metrics);
  std::vector<Submission> submissions;
  for (int i = 0; i < 4; ++i) submissions.push_back(batcher.submit(dark_input()));
  for (auto& s : submissions) EXPECT_EQ(s.result.get().batch_size, 4);
  EXPECT_EQ(model.n_calls, 1);
  EXPECT_EQ(metrics.images_in_flight(), 0);
}

TEST(Batcher, NeverExceedsTheLargestBatch) {
  FakeModel model;
  model.delay = std::chrono::milliseconds(50);
  Batcher batcher({3, 100, 64}, model.fn(), nullptr);
  std::vector<Submission> submissions;
  for (int i = 0; i < 10; ++i) submissions.push_back(batcher.submit(dark_input()));
  for (auto& s : submissions) EXPECT_LE(s.result.get().batch_size, 3);
  EXPECT_EQ(model.largest_batch, 3);
  EXPECT_GE(model.n_calls, 4);
}

TEST(Batcher, ReturnsEachImageItsOwnPrediction) {
  FakeModel model;
  Batcher batcher({8, 100, 64}, model.fn(), nullptr);
  auto dark = batcher.submit(dark_input());
  auto bright = batcher.submit(bright_input());
  EXPECT_EQ(dark.result.get().prediction.ranked[0].label, "malignant");
  EXPECT_EQ(bright.result.get().prediction.ranked[0].label, "benign");
}

TEST(Batcher, RefusesBeyondTheQueueCap) {
  FakeModel model;
  model.delay = std::chrono::milliseconds(300);
  Batcher batcher({1, 0, 2}, model.fn(), nullptr);
  auto running = batcher.submit(dark_input());
  // Wait until the model has taken the first image, so the queue is empty again.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (model.n_calls == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(model.n_calls, 1);
  auto queued1 = batcher.submit(dark_input());
  auto queued2 = batcher.submit(dark_input());
  EXPECT_THROW(batcher.submit(dark_input()), QueueFullError);
  EXPECT_EQ(queued2.result.get().batch_size, 1);
}

TEST(Batcher, PassesModelFailuresToEveryImageOfTheBatch) {
  FakeModel model;
  model.fail = true;
  Batcher batcher({2, 100, 8}, model.fn(), nullptr);
  auto a = batcher.submit(dark_input());
  auto b = batcher.submit(dark_input());
  EXPECT_THROW(a.result.get(), std::runtime_error);
  EXPECT_THROW(b.result.get(), std::runtime_error);
}

TEST(Batcher, SkipsAbandonedImages) {
  FakeModel model;
  model.delay = std::chrono::milliseconds(200);
  Metrics metrics;
  Batcher batcher({1, 0, 8}, model.fn(), &metrics);
  auto first = batcher.submit(dark_input());
  auto gone = batcher.submit(dark_input());
  gone.abandoned->store(true);
  first.result.get();
  batcher.stop();
  EXPECT_EQ(model.n_calls, 1);
  EXPECT_EQ(metrics.images_in_flight(), 0);
}

TEST(Batcher, StopFinishesQueuedImagesThenRefuses) {
  FakeModel model;
  model.delay = std::chrono::milliseconds(50);
  Batcher batcher({1, 0, 8}, model.fn(), nullptr);
  std::vector<Submission> submissions;
  for (int i = 0; i < 3; ++i) submissions.push_back(batcher.submit(dark_input()));
  batcher.stop();
  for (auto& s : submissions) EXPECT_EQ(s.result.get().batch_size, 1);
  EXPECT_THROW(batcher.submit(dark_input()), StoppingError);
}

TEST(Batcher, RejectsImpossibleOptions) {
  FakeModel model;
  EXPECT_THROW(Batcher({0, 5, 8}, model.fn(), nullptr), InputError);
  EXPECT_THROW(Batcher({1, 5, 0}, model.fn(), nullptr), InputError);
}

}  // namespace
}  // namespace bcd::serve
