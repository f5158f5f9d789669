// The HTTP API of bcd_serve against a fake model: every route, bad uploads,
// limits, authentication, batching and a graceful stop.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>

#include "serve/server.h"
#include "serve_test_util.h"

namespace bcd::serve {
namespace {

using nlohmann::json;
using testing::FakeModel;
using testing::png_bytes;
using testing::RunningServer;
using testing::solid_image;

// The JSON error code of a response, "" when it has none.
std::string error_code(const httplib::Result& res) {
  const json body = json::parse(res->body, nullptr, false);
  if (!body.contains("error")) return "";
  EXPECT_TRUE(body["error"]["message"].is_string());
  EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  return body["error"]["code"].get<std::string>();
}

httplib::Result post_raw(RunningServer& server, const std::string& bytes,
                         const std::string& path = "/v1/classify") {
  return server.client()->Post(path.c_str(), bytes, "application/octet-stream");
}

// Requests are counted just after their response is sent (httplib's logger
// hook), so a client can see its answer a moment before the count moves.
bool wait_for_count(Server& server, const std::string& route, int status, std::int64_t n) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (server.metrics().request_count(route, status) < n) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.server().set_model(model_.backend()); }
  FakeModel model_;
  RunningServer server_;
};

TEST(Server, HealthzAnswersBeforeTheModelIsLoaded) {
  RunningServer server;
  const auto res = server.client()->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

TEST(Server, NotReadyIs503WithRetryAfterUntilSetModel) {
  RunningServer server;
  for (const char* path : {"/readyz", "/v1/model"}) {
    const auto res = server.client()->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503) << path;
    EXPECT_EQ(error_code(res), "not_ready");
    EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  }
  const auto classify = post_raw(server, png_bytes(solid_image(8, 8, 10)));
  EXPECT_EQ(classify->status, 503);

  FakeModel model;
  server.server().set_model(model.backend());
  const auto ready = server.client()->Get("/readyz");
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body)["model"], "fake-vit");
}

TEST_F(ServerTest, ClassifiesARawBodyWithEveryLabelHighestFirst) {
  const Image image = solid_image(16, 12, 255);
  const auto res = post_raw(server_, png_bytes(image));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);

  const Prediction expected = FakeModel::predict(image);
  ASSERT_EQ(body["predictions"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(body["predictions"][i]["label"], expected.ranked[i].label);
    EXPECT_FLOAT_EQ(body["predictions"][i]["score"].get<float>(), expected.ranked[i].score);
  }
  EXPECT_EQ(body["predicted_label"], "benign");
  EXPECT_EQ(body["model"]["name"], "fake-vit");
  EXPECT_EQ(body["model"]["revision"], "0123456789abcdef");
  EXPECT_EQ(body["image"]["width"], 16);
  EXPECT_EQ(body["image"]["height"], 12);
  EXPECT_GE(body["timing_ms"]["total"].get<double>(), 0.0);
  EXPECT_EQ(body["batch_size"], 1);
}

TEST_F(ServerTest, ClassifiesAMultipartUpload) {
  httplib::MultipartFormDataItems items = {
      {"image", png_bytes(solid_image(8, 8, 0)), "scan.png", "image/png"}};
  const auto res = server_.client()->Post("/v1/classify", items);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["predicted_label"], "malignant");
}

TEST_F(ServerTest, TopKKeepsTheHighestScores) {
  const auto res = post_raw(server_, png_bytes(solid_image(8, 8, 0)), "/v1/classify?top_k=2");
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  ASSERT_EQ(body["predictions"].size(), 2u);
  EXPECT_EQ(body["predictions"][0]["label"], "malignant");

  const auto capped = post_raw(server_, png_bytes(solid_image(8, 8, 0)), "/v1/classify?top_k=99");
  EXPECT_EQ(json::parse(capped->body)["predictions"].size(), 3u);
  for (const char* bad : {"0", "-1", "two", ""}) {
    const auto res_bad = post_raw(server_, png_bytes(solid_image(8, 8, 0)),
                                  std::string("/v1/classify?top_k=") + bad);
    EXPECT_EQ(res_bad->status, 400) << bad;
    EXPECT_EQ(error_code(res_bad), "invalid_parameter");
  }
}

// The same PNG with the IHDR width and height (bytes 16 to 23) set to 0.
std::string zero_width_and_height(std::string png) {
  std::fill(png.begin() + 16, png.begin() + 24, '\0');
  return png;
}

TEST_F(ServerTest, BadUploadsAre4xxWithAStableCode) {
  const std::string png = png_bytes(solid_image(32, 32, 7));
  struct Case {
    std::string name, bytes;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"empty body", "", 400, "empty_body"},
      {"text file", "patient notes: nothing to see here\n", 415, "not_an_image"},
      {"truncated png", png.substr(0, png.size() / 2), 400, "invalid_image"},
      {"png of 0 x 0 pixels", zero_width_and_height(png), 400, "invalid_image"},
      {"huge declared size", png_bytes(solid_image(4, 4, 1), 100000, 100000), 413,
       "image_too_large"},
  };
  for (const auto& c : cases) {
    const auto res = post_raw(server_, c.bytes);
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, c.status) << c.name << ": " << res->body;
    EXPECT_EQ(error_code(res), c.code) << c.name;
  }
  EXPECT_EQ(model_.n_calls, 0);
}

TEST_F(ServerTest, MultipartWithoutAnImageFieldIs400) {
  httplib::MultipartFormDataItems items = {{"file", "abc", "a.png", "image/png"}};
  const auto res = server_.client()->Post("/v1/classify", items);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(error_code(res), "missing_image");
}

TEST(Server, PortInUseIsAnInputError) {
  RunningServer first;
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = first.port();
  Server second(options);
  EXPECT_THROW(second.bind(), InputError);
}

TEST(Server, UploadLargerThanTheLimitIs413) {
  ServerOptions options;
  options.max_upload_bytes = 1000;
  RunningServer server(options);
  FakeModel model;
  server.server().set_model(model.backend());
  const auto res = post_raw(server, std::string(5000, 'x'));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(error_code(res), "upload_too_large");
}

TEST_F(ServerTest, ModelFailureIs500WithJson) {
  model_.fail = true;
  const auto res = post_raw(server_, png_bytes(solid_image(8, 8, 0)));
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(error_code(res), "internal");
}

TEST_F(ServerTest, UnknownRouteAndWrongMethodAreJson) {
  const auto missing = server_.client()->Get("/v2/nothing");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
  const auto wrong = server_.client()->Get("/v1/classify");
  EXPECT_GE(wrong->status, 400);
  EXPECT_LT(wrong->status, 500);
  EXPECT_FALSE(error_code(wrong).empty());
}

// curl --data-binary sends application/x-www-form-urlencoded, which cpp-httplib caps
// at 8 KiB: the answer must say how to send the image instead.
TEST_F(ServerTest, LargeFormUrlEncodedBodyIs413ThatSaysHowToSendAnImage) {
  Image noise = solid_image(200, 200, 0);
  std::uint32_t state = 7;
  for (auto& value : noise.rgb)
    value = static_cast<std::uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  const std::string png = png_bytes(noise);
  ASSERT_GT(png.size(), 8192u);
  const auto res = server_.client()->Post("/v1/classify", png, "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(error_code(res), "upload_too_large");
  EXPECT_NE(res->body.find("Content-Type: image/png"), std::string::npos) << res->body;
}

TEST_F(ServerTest, ModelRouteDescribesTheModel) {
  const auto res = server_.client()->Get("/v1/model");
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["labels"], json(testing::kLabels));
  EXPECT_EQ(body["input_size"]["height"], 224);
}

TEST_F(ServerTest, MetricsCountRequestsLatencyAndBatches) {
  post_raw(server_, png_bytes(solid_image(8, 8, 0)));
  post_raw(server_, "not an image");
  // Requests are counted after their response is sent: wait for both.
  ASSERT_TRUE(wait_for_count(server_.server(), "/v1/classify", 200, 1));
  ASSERT_TRUE(wait_for_count(server_.server(), "/v1/classify", 415, 1));
  const auto res = server_.client()->Get("/metrics");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& text = res->body;
  for (const char* line :
       {"bcd_http_requests_total{route=\"/v1/classify\",method=\"POST\",status=\"200\"} 1\n",
        "bcd_http_requests_total{route=\"/v1/classify\",method=\"POST\",status=\"415\"} 1\n",
        "bcd_http_request_duration_seconds_count{route=\"/v1/classify\"} 2\n",
        "bcd_batch_size_bucket{le=\"1\"} 1\n", "bcd_batch_size_count 1\n",
        "bcd_images_in_flight 0\n", "bcd_model_ready 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in\n" << text;
  }
}

TEST(Server, FullQueueIs503WithRetryAfter) {
  ServerOptions options;
  options.batching = {1, 0, 1};  // one at a time, one waiting
  RunningServer server(options);
  FakeModel model;
  model.delay = std::chrono::milliseconds(400);
  server.server().set_model(model.backend());

  const std::string png = png_bytes(solid_image(8, 8, 0));
  std::vector<std::future<int>> statuses;
  for (int i = 0; i < 4; ++i) {
    statuses.push_back(
        std::async(std::launch::async, [&] { return post_raw(server, png)->status; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int n_ok = 0;
  int n_busy = 0;
  for (auto& status : statuses) {
    const int s = status.get();
    n_ok += s == 200;
    n_busy += s == 503;
  }
  EXPECT_EQ(n_ok + n_busy, 4);
  EXPECT_GE(n_busy, 1);
  EXPECT_GE(n_ok, 2);  // the one running and the one queued
  EXPECT_TRUE(wait_for_count(server.server(), "/v1/classify", 503, 1));
}

TEST(Server, ResultLaterThanTheRequestTimeoutIs503) {
  ServerOptions options;
  options.request_timeout_ms = 200;
  RunningServer server(options);
  FakeModel model;
  model.delay = std::chrono::milliseconds(600);
  server.server().set_model(model.backend());
  const auto res = post_raw(server, png_bytes(solid_image(8, 8, 0)));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(error_code(res), "timeout");
  EXPECT_FALSE(res->get_header_value("Retry-After").empty());
}

TEST(Server, TokenIsRequiredOnTheApiButNotOnProbesOrThePage) {
  ServerOptions options;
  options.token = "s3cret";
  RunningServer server(options);
  FakeModel model;
  server.server().set_model(model.backend());
  const std::string png = png_bytes(solid_image(8, 8, 0));

  const auto anonymous = server.client()->Post("/v1/classify", png, "image/png");
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(error_code(anonymous), "unauthorized");
  EXPECT_EQ(server.client("wrong!")->Get("/metrics")->status, 401);
  EXPECT_EQ(server.client("s3cret")->Post("/v1/classify", png, "image/png")->status, 200);
  EXPECT_EQ(server.client()->Get("/healthz")->status, 200);
  EXPECT_EQ(server.client()->Get("/readyz")->status, 200);
  EXPECT_EQ(server.client()->Get("/")->status, 200);
}

TEST(Server, ConcurrentRequestsShareAForwardPass) {
  ServerOptions options;
  options.batching = {8, 200, 64};  // a wide window: thread start-up on a busy machine
  RunningServer server(options);
  FakeModel model;
  model.delay = std::chrono::milliseconds(20);
  server.server().set_model(model.backend());

  const std::string png = png_bytes(solid_image(8, 8, 0));
  std::vector<std::future<json>> bodies;
  for (int i = 0; i < 8; ++i) {
    bodies.push_back(
        std::async(std::launch::async, [&] { return json::parse(post_raw(server, png)->body); }));
  }
  int largest = 0;
  for (auto& body : bodies) largest = std::max(largest, body.get()["batch_size"].get<int>());
  EXPECT_GT(largest, 1);
  EXPECT_LT(model.n_calls, 8);
  EXPECT_EQ(model.largest_batch, largest);
}

TEST(Server, StopLetsRequestsInFlightFinish) {
  RunningServer server;
  FakeModel model;
  model.delay = std::chrono::milliseconds(500);
  server.server().set_model(model.backend());

  const std::string png = png_bytes(solid_image(8, 8, 0));
  std::vector<std::future<int>> statuses;
  for (int i = 0; i < 4; ++i) {
    statuses.push_back(std::async(std::launch::async, [&] {
      const auto res = post_raw(server, png);
      return res ? res->status : -1;
    }));
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.server().metrics().images_in_flight() < 4 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(server.server().metrics().images_in_flight(), 4);
  server.stop();
  for (auto& status : statuses) EXPECT_EQ(status.get(), 200);
  EXPECT_FALSE(server.client()->Get("/healthz"));  // no longer accepting connections
}

TEST_F(ServerTest, ServesTheWebPage) {
  const auto page = server_.client()->Get("/");
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("not a diagnosis"), std::string::npos);
  EXPECT_EQ(server_.client()->Get("/app.js")->get_header_value("Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(server_.client()->Get("/style.css")->status, 200);
  EXPECT_EQ(server_.client()->Get("/appXjs")->status, 404);  // "." in a route is literal
}

}  // namespace
}  // namespace bcd::serve
