#pragma once
// The HTTP server of `bcd serve`: the JSON API under /v1, health and readiness
// probes, Prometheus metrics and the embedded web page, in one process.
//
// The server starts without a model (GET /readyz answers 503) so that it can
// listen while a large model loads; set_model() makes it ready. The model is
// reached only through a ClassifyBatchFn, so tests can inject a fake one.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/batcher.h"
#include "serve/metrics.h"

namespace bcd::serve {

/// Every knob of the server; `bcd serve` defines a flag for each (serve_command.cpp).
struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                                   // 0: any free port (see Server::bind)
  int http_threads = 32;                             // connections served at once
  BatcherOptions batching;                           // --max-batch, --max-wait-ms, --max-queue
  std::int64_t max_upload_bytes = 20 * 1024 * 1024;  // whole request body
  std::int64_t max_pixels = 40'000'000;              // width * height, checked before decoding
  int request_timeout_ms = 30'000;  // reading the request plus waiting for a result
  std::string token;                // when set, /v1/* and /metrics need it
};

/// What GET /v1/model reports and POST /v1/classify names.
struct ModelInfo {
  std::string name;
  std::string revision;
  std::vector<std::string> labels;
  nlohmann::json description;  // the body of GET /v1/model
};

/// A loaded model as the server sees it.
struct ModelBackend {
  ModelInfo info;
  PrepareFn prepare;
  ClassifyBatchFn classify;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds host:port (port 0: a free port) and returns the port. Throws
  /// InputError naming the address when it cannot bind.
  int bind();
  /// Serves until stop(); then waits for requests in flight and the batcher's
  /// queue to finish. Call bind() first.
  void run();
  /// Stops accepting connections; run() returns once in-flight work is done.
  /// Thread-safe; not async-signal-safe (call it from a signal-waiting thread).
  void stop();

  /// Makes the server ready: starts the batcher on `backend`. Call once.
  void set_model(ModelBackend backend);
  bool ready() const;

  Metrics& metrics();
  const ServerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bcd::serve
