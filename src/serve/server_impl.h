#pragma once
// Private to bcd_serve: the state behind Server, shared by server.cpp
// (lifecycle, authentication, access log, error pages) and routes.cpp (handlers).

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "serve/server.h"

namespace bcd::serve {

/// An error answered as {"error": {"code": ..., "message": ...}} with `status`.
/// `code` is stable (clients branch on it); `message` is for people.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message, int retry_after_s = 0)
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        retry_after_s_(retry_after_s) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  int retry_after_s() const { return retry_after_s_; }

 private:
  int status_;
  std::string code_;
  int retry_after_s_;
};

/// Per-request facts for the access log and metrics. httplib runs a request,
/// from its headers to the logger call, on one thread, so a thread_local suffices.
struct RequestContext {
  std::optional<std::chrono::steady_clock::time_point> start;
  int batch_size = 0;
};
RequestContext& request_context();

/// The route label for metrics and logs: a fixed set, never the raw path.
std::string route_label(const std::string& path);

/// Writes the JSON error body, status and Retry-After of `error`.
void write_error(httplib::Response& res, const ApiError& error);

struct Server::Impl {
  ServerOptions options;
  httplib::Server http;
  Metrics metrics;
  std::shared_ptr<const ModelInfo> model;  // set once by set_model, before `ready`
  PrepareFn prepare;
  std::unique_ptr<Batcher> batcher;
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};
  std::mutex lifecycle_mutex;
  socket_t listen_socket = INVALID_SOCKET;  // recorded by the socket-options hook

  explicit Impl(ServerOptions server_options);
  void install_hooks();   // server.cpp
  void install_routes();  // routes.cpp

  // Handlers (routes.cpp).
  void handle_classify(const httplib::Request& req, httplib::Response& res);
  void handle_model(const httplib::Request& req, httplib::Response& res);
  void handle_readyz(const httplib::Request& req, httplib::Response& res);
  void handle_metrics(const httplib::Request& req, httplib::Response& res);
  const ModelInfo& require_model() const;
  BatchResult classify_one(ModelInput input, std::chrono::steady_clock::time_point start);
};

}  // namespace bcd::serve
