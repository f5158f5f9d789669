#pragma once
// Dynamic batching: requests arriving close together share one forward pass.
// Handler threads decode and preprocess their image (in parallel) and submit
// it; a single worker thread takes the oldest waiting image, waits up to
// max_wait_ms for more (or until max_batch are waiting), and classifies them
// together.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "model/classifier.h"

namespace bcd::serve {

/// One image made ready for the model on a handler thread; for a ViT, its
/// preprocessed pixel values (3 x H x W floats, channels first).
using ModelInput = std::vector<float>;

/// Turns a decoded image into a ModelInput. Called on handler threads, concurrently.
using PrepareFn = std::function<ModelInput(const Image&)>;

/// Classifies a batch; returns one Prediction per input, in order. Called from
/// the batcher's worker thread only.
using ClassifyBatchFn = std::function<std::vector<Prediction>(const std::vector<ModelInput>&)>;

struct BatcherOptions {
  int max_batch = 8;    // images per forward pass; 1 turns batching off
  int max_wait_ms = 5;  // longest time the oldest image waits for company
  int max_queue = 64;   // images waiting beyond this are refused (QueueFullError)
};

/// What one submitted image gets back.
struct BatchResult {
  Prediction prediction;
  int batch_size = 0;     // images in the forward pass this one was part of
  double queue_ms = 0.0;  // from submit to the start of the forward pass
  double inference_ms = 0.0;
};

/// A queued image: its future result, and a flag the caller sets when it stops
/// waiting (timeout) so that the worker skips the image if it has not started.
struct Submission {
  std::future<BatchResult> result;
  std::shared_ptr<std::atomic<bool>> abandoned;
};

/// The queue already holds max_queue images; the caller should answer 503.
class QueueFullError : public Error {
 public:
  using Error::Error;
};

/// The batcher is stopping and takes no new work.
class StoppingError : public Error {
 public:
  using Error::Error;
};

class Metrics;

class Batcher {
 public:
  /// `metrics` may be null; otherwise it receives batch sizes and queue depth.
  Batcher(BatcherOptions options, ClassifyBatchFn classify, Metrics* metrics);
  /// Stops: images already queued are still classified.
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Queues one image. Throws QueueFullError or StoppingError. The future may
  /// hold the exception thrown by the classify function.
  Submission submit(ModelInput input);
  /// Finishes every queued image, then joins the worker. Idempotent.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    ModelInput input;
    std::promise<BatchResult> promise;
    Clock::time_point submitted;
    std::shared_ptr<std::atomic<bool>> abandoned;
  };

  void run();
  std::vector<std::shared_ptr<Job>> next_batch();
  void classify_batch(std::vector<std::shared_ptr<Job>>& batch);

  BatcherOptions options_;
  ClassifyBatchFn classify_;
  Metrics* metrics_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace bcd::serve
