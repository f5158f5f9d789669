#include "serve/metrics.h"

#include <algorithm>
#include <sstream>

namespace bcd::serve {
namespace {

// Latency buckets from 5 ms (a cached error) to 30 s (the default request timeout).
const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                            0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64};

std::string format_number(double value) {
  std::ostringstream text;
  text.precision(10);
  text << value;
  return text.str();
}

void append_header(std::string& out, const std::string& name, const std::string& type,
                   const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  ++counts_[static_cast<std::size_t>(it - upper_bounds_.begin())];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& labels, std::string& out) const {
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < upper_bounds_.size() ? format_number(upper_bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels.substr(0, labels.size() - 1) + "}";
  out += name + "_sum" + braces + " " + format_number(sum_) + "\n";
  out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics() : batch_sizes_(kBatchBounds), inference_seconds_(kLatencyBounds) {}

void Metrics::observe_request(const std::string& route, const std::string& method, int status,
                              double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, method, status}];
  latency_by_route_.try_emplace(route, kLatencyBounds).first->second.observe(seconds);
}

void Metrics::observe_batch(int batch_size, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_sizes_.observe(batch_size);
  inference_seconds_.observe(seconds);
}

void Metrics::add_images_in_flight(int delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  images_in_flight_ += delta;
}

void Metrics::set_queue_depth(int n_images) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_depth_ = n_images;
}

void Metrics::set_ready(bool ready) {
  std::lock_guard<std::mutex> lock(mutex_);
  ready_ = ready;
}

int Metrics::images_in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return images_in_flight_;
}

std::int64_t Metrics::request_count(const std::string& route, int status) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t total = 0;
  for (const auto& [key, count] : requests_) {
    if (std::get<0>(key) == route && std::get<2>(key) == status) total += count;
  }
  return total;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  append_header(out, "bcd_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "bcd_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  append_header(out, "bcd_http_request_duration_seconds", "histogram",
                "Time from request headers to response, by route.");
  for (const auto& [route, histogram] : latency_by_route_) {
    histogram.render("bcd_http_request_duration_seconds", "route=\"" + route + "\",", out);
  }
  append_header(out, "bcd_batch_size", "histogram", "Images per forward pass.");
  batch_sizes_.render("bcd_batch_size", "", out);
  append_header(out, "bcd_inference_duration_seconds", "histogram",
                "Time of one forward pass, whole batch.");
  inference_seconds_.render("bcd_inference_duration_seconds", "", out);
  append_header(out, "bcd_images_in_flight", "gauge", "Images accepted and not yet answered.");
  out += "bcd_images_in_flight " + std::to_string(images_in_flight_) + "\n";
  append_header(out, "bcd_queue_depth", "gauge", "Images waiting for a forward pass.");
  out += "bcd_queue_depth " + std::to_string(queue_depth_) + "\n";
  append_header(out, "bcd_model_ready", "gauge", "1 once the model is loaded.");
  out += "bcd_model_ready " + std::string(ready_ ? "1" : "0") + "\n";
  return out;
}

}  // namespace bcd::serve
