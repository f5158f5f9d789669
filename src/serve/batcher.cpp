#include "serve/batcher.h"

#include <spdlog/spdlog.h>

#include "serve/metrics.h"

namespace bcd::serve {
namespace {

double ms_between(std::chrono::steady_clock::time_point from,
                  std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

Batcher::Batcher(BatcherOptions options, ClassifyBatchFn classify, Metrics* metrics)
    : options_(options), classify_(std::move(classify)), metrics_(metrics) {
  if (options_.max_batch < 1 || options_.max_wait_ms < 0 || options_.max_queue < 1) {
    throw InputError(
        "batcher: expected max_batch >= 1, max_wait_ms >= 0 and max_queue >= 1, "
        "found " +
        std::to_string(options_.max_batch) + ", " + std::to_string(options_.max_wait_ms) + " and " +
        std::to_string(options_.max_queue));
  }
  worker_ = std::thread([this] { run(); });
}

Batcher::~Batcher() { stop(); }

Submission Batcher::submit(ModelInput input) {
  auto job = std::make_shared<Job>();
  job->input = std::move(input);
  job->submitted = Clock::now();
  job->abandoned = std::make_shared<std::atomic<bool>>(false);
  Submission submission{job->promise.get_future(), job->abandoned};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw StoppingError("the server is shutting down");
    if (static_cast<int>(queue_.size()) >= options_.max_queue) {
      throw QueueFullError("the queue already holds " + std::to_string(queue_.size()) +
                           " images (--max-queue " + std::to_string(options_.max_queue) + ")");
    }
    queue_.push_back(std::move(job));
    if (metrics_) {
      metrics_->add_images_in_flight(1);
      metrics_->set_queue_depth(static_cast<int>(queue_.size()));
    }
  }
  arrived_.notify_one();
  return submission;
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  arrived_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Batcher::run() {
  for (;;) {
    auto batch = next_batch();
    if (batch.empty()) return;  // stopping and nothing left
    classify_batch(batch);
  }
}

// Blocks until an image waits, then gathers up to max_batch of them, waiting at
// most max_wait_ms after the oldest one arrived. Empty only when stopping with
// an empty queue.
std::vector<std::shared_ptr<Batcher::Job>> Batcher::next_batch() {
  std::unique_lock<std::mutex> lock(mutex_);
  arrived_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  if (queue_.empty()) return {};
  const auto deadline = queue_.front()->submitted + std::chrono::milliseconds(options_.max_wait_ms);
  const auto size = static_cast<std::size_t>(options_.max_batch);
  arrived_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() >= size; });

  std::vector<std::shared_ptr<Job>> batch;
  int n_dropped = 0;
  while (!queue_.empty() && batch.size() < size) {
    auto job = std::move(queue_.front());
    queue_.pop_front();
    if (job->abandoned->load()) {
      ++n_dropped;
    } else {
      batch.push_back(std::move(job));
    }
  }
  if (metrics_) {
    metrics_->set_queue_depth(static_cast<int>(queue_.size()));
    metrics_->add_images_in_flight(-n_dropped);
  }
  return batch;
}

void Batcher::classify_batch(std::vector<std::shared_ptr<Job>>& batch) {
  std::vector<ModelInput> inputs;
  inputs.reserve(batch.size());
  for (auto& job : batch) inputs.push_back(std::move(job->input));

  const auto start = Clock::now();
  std::vector<Prediction> predictions;
  std::exception_ptr failure;
  try {
    predictions = classify_(inputs);
    if (predictions.size() != inputs.size()) {
      throw Error("classify returned " + std::to_string(predictions.size()) + " predictions for " +
                  std::to_string(inputs.size()) + " images");
    }
  } catch (...) {
    failure = std::current_exception();
  }
  const auto end = Clock::now();
  const int n = static_cast<int>(batch.size());
  if (metrics_) {
    metrics_->observe_batch(n, ms_between(start, end) / 1000.0);
    metrics_->add_images_in_flight(-n);
  }

  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (failure) {
      batch[i]->promise.set_exception(failure);
      continue;
    }
    BatchResult result{std::move(predictions[i]), n, ms_between(batch[i]->submitted, start),
                       ms_between(start, end)};
    batch[i]->promise.set_value(std::move(result));
  }
}

}  // namespace bcd::serve
