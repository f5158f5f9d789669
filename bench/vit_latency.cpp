// Forward-pass latency of a ViT model directory through bcd_model, as PyTorch users time
// it: warm-up passes, then the median of timed passes under InferenceMode.
//
// usage: bcd_vit_latency MODEL_DIR [BATCH=1] [THREADS=1] [ITERATIONS=10] [WARMUP=2]
// prints one line: batch=B threads=T median_ms=M min_ms=M wait_policy=P

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "common/errors.h"
#include "model/classifier.h"
#include "model/vit.h"

namespace {

int arg_or(int argc, char** argv, int index, int fallback) {
  return argc > index ? std::stoi(argv[index]) : fallback;
}

/// Milliseconds of each timed pass.
std::vector<double> time_passes(bcd::ViTForImageClassification& model, const torch::Tensor& input,
                                int iterations, int warmup) {
  c10::InferenceMode inference;
  for (int i = 0; i < warmup; ++i) model->forward(input);
  std::vector<double> times_ms;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    model->forward(input);
    const auto stop = std::chrono::steady_clock::now();
    times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  return times_ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [BATCH] [THREADS] [ITERATIONS] [WARMUP]\n", argv[0]);
    return bcd::kExitUsage;
  }
  try {
    const int batch = arg_or(argc, argv, 2, 1);
    const int threads = arg_or(argc, argv, 3, 1);
    const int iterations = arg_or(argc, argv, 4, 10);
    const int warmup = arg_or(argc, argv, 5, 2);
    bcd::set_compute_threads(threads);
    bcd::LoadedViT loaded = bcd::load_vit_model_dir(argv[1], bcd::LoadMode::kClassifier);
    loaded.model->prepare_inference();
    const auto& config = loaded.model->config();
    torch::manual_seed(0);
    const torch::Tensor input =
        torch::rand({batch, config.num_channels, config.image_size, config.image_size}) * 2 - 1;

    auto times_ms = time_passes(loaded.model, input, iterations, warmup);
    std::sort(times_ms.begin(), times_ms.end());
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    std::printf("batch=%d threads=%d median_ms=%.1f min_ms=%.1f wait_policy=%s\n", batch, threads,
                times_ms[times_ms.size() / 2], times_ms.front(), policy ? policy : "default");
    return bcd::kExitOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return bcd::exit_code(e);
  }
}
