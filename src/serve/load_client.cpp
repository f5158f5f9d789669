// bcd_serve_load: a small closed-loop load generator for `bcd serve`, used by
// bench/serve_load.sh. N clients each send one image, wait for the answer,
// and send the next, for a fixed time; it prints one JSON line with the
// request rate, latency percentiles and every outcome that was not a 200.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "common/errors.h"
#include "common/files.h"

namespace {

using Clock = std::chrono::steady_clock;

struct LoadArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string path = "/v1/classify";
  std::vector<std::string> images;
  int clients = 16;
  double duration_s = 20.0;
  std::string token;
};

/// What the clients saw, merged under a mutex at the end of each client.
struct Tally {
  std::mutex mutex;
  std::vector<double> ok_ms;
  std::map<int, std::int64_t> statuses;           // non-200 responses
  std::map<std::string, std::int64_t> transport;  // no response: httplib::Error names
  double first_transport_error_s = -1.0;
  std::int64_t batch_sum = 0;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void run_client(const LoadArgs& args, const std::vector<std::string>& bodies, int index,
                Clock::time_point start, Tally& tally) {
  httplib::Client client(args.host, args.port);
  client.set_keep_alive(true);
  client.set_read_timeout(std::chrono::seconds(60));
  if (!args.token.empty()) client.set_bearer_token_auth(args.token.c_str());
  Tally mine;
  for (std::size_t n = static_cast<std::size_t>(index); seconds_since(start) < args.duration_s;
       ++n) {
    const auto sent = Clock::now();
    const auto res =
        client.Post(args.path.c_str(), bodies[n % bodies.size()], "application/octet-stream");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
    if (!res) {
      ++mine.transport[httplib::to_string(res.error())];
      if (mine.first_transport_error_s < 0) mine.first_transport_error_s = seconds_since(start);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // do not spin on a dead port
    } else if (res->status != 200) {
      ++mine.statuses[res->status];
    } else {
      mine.ok_ms.push_back(ms);
      const auto body = nlohmann::json::parse(res->body, nullptr, false);
      if (body.contains("batch_size")) mine.batch_sum += body["batch_size"].get<int>();
    }
  }
  std::lock_guard<std::mutex> lock(tally.mutex);
  tally.ok_ms.insert(tally.ok_ms.end(), mine.ok_ms.begin(), mine.ok_ms.end());
  for (const auto& [status, n] : mine.statuses) tally.statuses[status] += n;
  for (const auto& [name, n] : mine.transport) tally.transport[name] += n;
  if (mine.first_transport_error_s >= 0 &&
      (tally.first_transport_error_s < 0 ||
       mine.first_transport_error_s < tally.first_transport_error_s)) {
    tally.first_transport_error_s = mine.first_transport_error_s;
  }
  tally.batch_sum += mine.batch_sum;
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

nlohmann::json summarise(const LoadArgs& args, Tally& tally, double elapsed_s) {
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, n] : tally.statuses) statuses[std::to_string(status)] = n;
  std::int64_t n_errors = 0;
  for (const auto& [status, n] : tally.statuses) n_errors += n;
  for (const auto& [name, n] : tally.transport) n_errors += n;
  const auto n_ok = static_cast<std::int64_t>(tally.ok_ms.size());
  return {{"clients", args.clients},
          {"duration_s", elapsed_s},
          {"ok", n_ok},
          {"errors", n_errors},
          {"non_200", statuses},
          {"transport_errors", tally.transport},
          {"first_transport_error_s", tally.first_transport_error_s},
          {"requests_per_s", static_cast<double>(n_ok) / elapsed_s},
          {"p50_ms", percentile(tally.ok_ms, 0.50)},
          {"p90_ms", percentile(tally.ok_ms, 0.90)},
          {"p99_ms", percentile(tally.ok_ms, 0.99)},
          {"mean_batch_size",
           n_ok ? static_cast<double>(tally.batch_sum) / static_cast<double>(n_ok) : 0.0}};
}

int run(int argc, char** argv) {
  LoadArgs args;
  CLI::App app{"Closed-loop load test of bcd serve; prints one JSON line to stdout"};
  app.add_option("--host", args.host, "Server address")->capture_default_str();
  app.add_option("--port", args.port, "Server port")->capture_default_str();
  app.add_option("--path", args.path, "Route to POST to")->capture_default_str();
  app.add_option("--image", args.images, "Image files sent in turn (repeatable)")->required();
  app.add_option("--clients", args.clients, "Concurrent clients")->capture_default_str();
  app.add_option("--duration-s", args.duration_s, "Seconds to run")->capture_default_str();
  app.add_option("--token", args.token, "Bearer token")->envname("BCD_TOKEN");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> bodies;
  for (const auto& path : args.images) bodies.push_back(bcd::read_file_text(path));

  Tally tally;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < args.clients; ++i) {
    clients.emplace_back(run_client, std::cref(args), std::cref(bodies), i, start, std::ref(tally));
  }
  for (auto& client : clients) client.join();
  std::cout << summarise(args, tally, seconds_since(start)).dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bcd_serve_load: error: " << e.what() << "\n";
    return bcd::exit_code(e);
  }
}
