// bcd serve: the HTTP API and web page (src/serve) around a loaded model.
// The process listens first and loads the model in the background, so probes
// see it alive (/healthz) before it is ready (/readyz). SIGTERM or SIGINT stop
// accepting connections, let requests in flight finish, and exit 0.

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/errors.h"
#include "serve/classifier_backend.h"
#include "serve/server.h"

namespace bcd::cli {
namespace {

struct ServeArgs {
  std::string model_dir;
  int threads = 0;
  serve::ServerOptions server;
};

// The model, where to listen, and how many threads.
void add_serve_options(CLI::App& cmd, ServeArgs& args) {
  auto& s = args.server;
  add_model_option(cmd, args.model_dir);
  add_threads_option(cmd, args.threads);
  cmd.add_option("--host", s.host, "Address to listen on (0.0.0.0: every interface)")
      ->envname("BCD_HOST")
      ->capture_default_str();
  cmd.add_option("--port", s.port, "TCP port (0: any free port)")
      ->envname("BCD_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd.add_option("--http-threads", s.http_threads, "Connections served at the same time")
      ->envname("BCD_HTTP_THREADS")
      ->check(at_least(1))
      ->capture_default_str();
}

// Batching and the limits that keep the server alive under load or bad input.
void add_limit_options(CLI::App& cmd, serve::ServerOptions& s) {
  cmd.add_option("--max-batch", s.batching.max_batch,
                 "Most images in one forward pass (1: no batching)")
      ->envname("BCD_MAX_BATCH")
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--max-wait-ms", s.batching.max_wait_ms,
                 "Longest an image waits for others to share its forward pass")
      ->envname("BCD_MAX_WAIT_MS")
      ->check(at_least(0))
      ->capture_default_str();
  cmd.add_option("--max-queue", s.batching.max_queue,
                 "Images waiting beyond this are refused with 503 and Retry-After")
      ->envname("BCD_MAX_QUEUE")
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--max-upload-bytes", s.max_upload_bytes, "Largest request body")
      ->envname("BCD_MAX_UPLOAD_BYTES")
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--max-pixels", s.max_pixels,
                 "Largest width x height, checked before decoding (decompression bombs)")
      ->envname("BCD_MAX_PIXELS")
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--request-timeout-ms", s.request_timeout_ms,
                 "Longest time to read a request, and to wait for its result (then 503)")
      ->envname("BCD_REQUEST_TIMEOUT_MS")
      ->check(at_least(1))
      ->capture_default_str();
  cmd.add_option("--token", s.token,
                 "Require 'Authorization: Bearer TOKEN' on /v1/* and /metrics (prefer the env var)")
      ->envname("BCD_TOKEN");
}

// Blocks SIGTERM and SIGINT in this thread and every thread started after it,
// so that only the waiter below receives them.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// Waits for a stop signal (or for `done`) and stops the server.
std::thread start_signal_waiter(serve::Server& server, sigset_t signals,
                                const std::atomic<bool>& done) {
  return std::thread([&server, signals, &done] {
    const timespec poll{0, 100'000'000};
    while (!done) {
      const int signal = sigtimedwait(&signals, nullptr, &poll);
      if (signal == SIGTERM || signal == SIGINT) {
        spdlog::info("received {}: no new connections; finishing {} images in flight",
                     signal == SIGTERM ? "SIGTERM" : "SIGINT", server.metrics().images_in_flight());
        server.stop();
        return;
      }
    }
  });
}

// Loads the model into the running server; on failure stops the server and
// keeps the exception for the caller.
std::thread start_model_loader(serve::Server& server, const ServeArgs& args,
                               std::exception_ptr& failure) {
  return std::thread([&server, &args, &failure] {
    try {
      ClassifierOptions options;
      options.threads = args.threads;
      options.max_batch_size = args.server.batching.max_batch;
      set_compute_threads(args.threads);
      server.set_model(serve::load_classifier_backend(args.model_dir, options));
      spdlog::info("model ready: {}", args.model_dir);
    } catch (...) {
      failure = std::current_exception();
      server.stop();
    }
  });
}

int run_serve(const ServeArgs& args) {
  const sigset_t signals = block_stop_signals();
  serve::Server server(args.server);
  const int port = server.bind();
  spdlog::info(
      "bcd serve: model {}, listening on http://{}:{}, {} http threads, {} compute "
      "threads, batches of up to {} (wait {} ms)",
      args.model_dir, args.server.host, port, args.server.http_threads,
      args.threads == 0 ? std::thread::hardware_concurrency() : unsigned(args.threads),
      args.server.batching.max_batch, args.server.batching.max_wait_ms);

  std::atomic<bool> done{false};
  std::exception_ptr load_failure;
  std::thread waiter = start_signal_waiter(server, signals, done);
  std::thread loader = start_model_loader(server, args, load_failure);
  server.run();
  done = true;
  loader.join();
  waiter.join();
  if (load_failure) std::rethrow_exception(load_failure);
  spdlog::info("bcd serve: stopped; every request in flight was answered");
  return kExitOk;
}

}  // namespace

RunFn add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the model over HTTP: a JSON API under /v1, /healthz, /readyz, /metrics "
      "and a web page at / (decision support, not a diagnosis)");
  auto args = std::make_shared<ServeArgs>();
  add_serve_options(*cmd, *args);
  add_limit_options(*cmd, args->server);
  return [args] { return run_serve(*args); };
}

}  // namespace bcd::cli
