#pragma once
// Counters, gauges and histograms of the server, rendered in the Prometheus
// text exposition format (version 0.0.4) for GET /metrics.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace bcd::serve {

/// Cumulative histogram with fixed upper bounds (the "le" labels); not thread-safe alone.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  /// Appends the _bucket, _sum and _count lines of `name` with `labels` ("" or `a="b",`).
  void render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::int64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0.0;
  std::int64_t count_ = 0;
};

/// Everything GET /metrics reports. Thread-safe.
class Metrics {
 public:
  Metrics();

  /// One finished HTTP request; `route` is the route pattern, never the raw path.
  void observe_request(const std::string& route, const std::string& method, int status,
                       double seconds);
  /// One forward pass over `batch_size` images.
  void observe_batch(int batch_size, double seconds);
  void add_images_in_flight(int delta);
  void set_queue_depth(int n_images);
  void set_ready(bool ready);

  int images_in_flight() const;
  std::int64_t request_count(const std::string& route, int status) const;

  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::int64_t> requests_;
  std::map<std::string, Histogram> latency_by_route_;
  Histogram batch_sizes_;
  Histogram inference_seconds_;
  int images_in_flight_ = 0;
  int queue_depth_ = 0;
  bool ready_ = false;
};

}  // namespace bcd::serve
