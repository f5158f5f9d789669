// Prometheus text rendering of the server's metrics.

#include <gtest/gtest.h>

#include "serve/metrics.h"

namespace bcd::serve {
namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Histogram histogram({1, 2, 4});
  for (double v : {0.5, 1.0, 3.0, 9.0}) histogram.observe(v);
  std::string out;
  histogram.render("x", "", out);
  EXPECT_TRUE(contains(out, "x_bucket{le=\"1\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, "x_bucket{le=\"2\"} 2\n")) << out;
  EXPECT_TRUE(contains(out, "x_bucket{le=\"4\"} 3\n")) << out;
  EXPECT_TRUE(contains(out, "x_bucket{le=\"+Inf\"} 4\n")) << out;
  EXPECT_TRUE(contains(out, "x_sum 13.5\n")) << out;
  EXPECT_TRUE(contains(out, "x_count 4\n")) << out;
}

TEST(Metrics, RendersRequestsByRouteAndStatusWithTypes) {
  Metrics metrics;
  metrics.observe_request("/v1/classify", "POST", 200, 0.02);
  metrics.observe_request("/v1/classify", "POST", 200, 0.03);
  metrics.observe_request("/healthz", "GET", 200, 0.001);
  metrics.observe_batch(3, 0.1);
  metrics.add_images_in_flight(2);
  const std::string text = metrics.render();
  EXPECT_TRUE(contains(text, "# TYPE bcd_http_requests_total counter\n"));
  EXPECT_TRUE(contains(
      text, "bcd_http_requests_total{route=\"/v1/classify\",method=\"POST\",status=\"200\"} 2\n"));
  EXPECT_TRUE(contains(text,
                       "bcd_http_request_duration_seconds_bucket{route=\"/healthz\","
                       "le=\"0.005\"} 1\n"))
      << text;
  EXPECT_TRUE(
      contains(text, "bcd_http_request_duration_seconds_count{route=\"/v1/classify\"} 2\n"));
  EXPECT_TRUE(contains(text, "bcd_batch_size_bucket{le=\"2\"} 0\n"));
  EXPECT_TRUE(contains(text, "bcd_batch_size_bucket{le=\"4\"} 1\n"));
  EXPECT_TRUE(contains(text, "bcd_images_in_flight 2\n"));
  EXPECT_TRUE(contains(text, "bcd_model_ready 0\n"));
  EXPECT_EQ(metrics.request_count("/v1/classify", 200), 2);
}

}  // namespace
}  // namespace bcd::serve
