#include "serve/server.h"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cstdlib>
#include <thread>

#include "common/errors.h"
#include "serve/server_impl.h"
#include "serve/web_assets.h"

namespace bcd::serve {
namespace {

// Idle keep-alive connections hold a thread until this passes, and stop()
// waits for them, so it is kept short.
constexpr int kKeepAliveTimeoutS = 2;
// httplib closes a connection after 5 requests by default; busy clients would
// then reconnect every few requests.
constexpr std::size_t kKeepAliveMaxRequests = 1000;

// Debian's libcpp-httplib is compiled with a listen backlog of 5: a burst of
// more new connections than that loses SYNs, which the clients resend only
// after a second. Linux lets listen() be called again to raise it.
constexpr int kListenBacklog = 1024;

bool needs_token(const std::string& path) {
  return path.rfind("/v1/", 0) == 0 || path == "/metrics";
}

// Compares without an early exit, so the time taken does not reveal how much
// of the token matched.
bool same_token(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

/// cpp-httplib itself refuses form-urlencoded bodies over 8 KiB (a limit compiled into
/// Debian's library), whatever --max-upload-bytes says; curl --data-binary sends that type
/// unless told otherwise.
constexpr std::size_t kFormUrlEncodedLimitBytes = 8192;

ApiError error_for_status(int status, const httplib::Request& req) {
  if (status == 413 &&
      req.get_header_value("Content-Type") == "application/x-www-form-urlencoded" &&
      std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
          kFormUrlEncodedLimitBytes) {
    return {413, "upload_too_large",
            "a body sent as application/x-www-form-urlencoded may hold at most 8192 bytes; send "
            "the image as multipart form data (curl -F image=@scan.png) or as a raw body with "
            "its own type (curl -H 'Content-Type: image/png' --data-binary @scan.png)"};
  }
  switch (status) {
    case 404:
      return {404, "not_found", "no such route; see GET /v1/model and POST /v1/classify"};
    case 405:
      return {405, "method_not_allowed", "this route does not take that method"};
    case 408:
      return {408, "request_timeout", "the request was not received in time"};
    case 413:
      return {413, "upload_too_large", "the request body is larger than --max-upload-bytes"};
    case 414:
      return {414, "uri_too_long", "the request URI is too long"};
    default:
      if (status >= 500) return {status, "internal", "internal server error"};
      return {status, "bad_request", "the request could not be parsed as HTTP"};
  }
}

}  // namespace

RequestContext& request_context() {
  thread_local RequestContext context;
  return context;
}

std::string route_label(const std::string& path) {
  static const char* const kRoutes[] = {"/v1/classify", "/v1/model", "/healthz",
                                        "/readyz",      "/metrics",  "/"};
  for (const char* route : kRoutes) {
    if (path == route) return route;
  }
  if (path.size() > 1 && find_web_asset(path.substr(1))) return "/static";
  return "unmatched";
}

void write_error(httplib::Response& res, const ApiError& error) {
  const nlohmann::json body = {{"error", {{"code", error.code()}, {"message", error.what()}}}};
  res.status = error.status();
  if (error.retry_after_s() > 0) {
    res.set_header("Retry-After", std::to_string(error.retry_after_s()));
  }
  res.set_content(body.dump(), "application/json");
}

Server::Impl::Impl(ServerOptions server_options) : options(std::move(server_options)) {
  const auto n_threads = static_cast<std::size_t>(std::max(1, options.http_threads));
  http.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  http.set_payload_max_length(static_cast<std::size_t>(options.max_upload_bytes));
  const auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
  http.set_read_timeout(timeout);
  http.set_write_timeout(timeout);
  http.set_keep_alive_timeout(kKeepAliveTimeoutS);
  http.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // httplib's default options add SO_REUSEPORT, which lets a second server
  // bind the same port and silently take half the connections; only
  // SO_REUSEADDR is wanted (restart while old connections linger in TIME_WAIT).
  http.set_socket_options([this](socket_t sock) {
    listen_socket = sock;
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  install_hooks();
  install_routes();
}

// Authentication before the body is read, JSON for every error page, and one
// access-log line plus metrics per request.
void Server::Impl::install_hooks() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_context() = RequestContext{std::chrono::steady_clock::now(), 0};
    if (options.token.empty() || !needs_token(req.path))
      return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.rfind(prefix, 0) == 0 && same_token(header.substr(prefix.size()), options.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    write_error(res, {401, "unauthorized", "send the token as 'Authorization: Bearer <token>'"});
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_header("Connection", "close");  // the unread body must not be parsed as a request
    return httplib::Server::HandlerResponse::Handled;
  });

  const httplib::Server::HandlerWithResponse json_error_page = [](const httplib::Request& req,
                                                                  httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    write_error(res, error_for_status(res.status, req));
    return httplib::Server::HandlerResponse::Handled;
  };
  http.set_error_handler(json_error_page);

  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    auto& context = request_context();
    const auto now = std::chrono::steady_clock::now();
    const double ms = context.start
                          ? std::chrono::duration<double, std::milli>(now - *context.start).count()
                          : 0.0;
    const std::string route = route_label(req.path);
    metrics.observe_request(route, req.method, res.status, ms / 1000.0);
    spdlog::info("{} {} {} {:.1f} ms batch={}", req.method, route, res.status, ms,
                 context.batch_size);
    context = RequestContext{};
  });
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
  if (impl_->batcher) impl_->batcher->stop();
}

int Server::bind() {
  auto& options = impl_->options;
  const int port = options.port == 0
                       ? impl_->http.bind_to_any_port(options.host)
                       : (impl_->http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) {
    throw InputError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                     " (address in use, not local, or a privileged port); pick another --host "
                     "or --port");
  }
  if (::listen(impl_->listen_socket, kListenBacklog) != 0) {
    spdlog::warn("could not raise the listen backlog to {}; bursts of new connections may wait",
                 kListenBacklog);
  }
  options.port = port;
  return port;
}

void Server::run() {
  impl_->running = true;
  if (!impl_->stopping) impl_->http.listen_after_bind();
  impl_->running = false;
  // listen_after_bind returns once the connection threads have finished their
  // requests; those may still have been waiting on the batcher, so stop it last.
  if (impl_->batcher) impl_->batcher->stop();
}

void Server::stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mutex);
  impl_->stopping = true;
  // run() may be between its check of `stopping` and the listening loop; a
  // stop() then would be lost, so wait until the loop runs (or run() is over).
  while (impl_->running && !impl_->http.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
}

void Server::set_model(ModelBackend backend) {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mutex);
  if (impl_->ready) throw Error("Server::set_model: a model is already set");
  impl_->model = std::make_shared<const ModelInfo>(std::move(backend.info));
  impl_->prepare = std::move(backend.prepare);
  impl_->batcher = std::make_unique<Batcher>(impl_->options.batching, std::move(backend.classify),
                                             &impl_->metrics);
  impl_->metrics.set_ready(true);
  impl_->ready = true;
}

bool Server::ready() const { return impl_->ready; }

Metrics& Server::metrics() { return impl_->metrics; }

const ServerOptions& Server::options() const { return impl_->options; }

}  // namespace bcd::serve
