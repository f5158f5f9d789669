// The handlers of bcd_serve's routes. Each one either answers or throws
// ApiError (or a library error, mapped by `guarded`); nothing escapes as a 500
// unless it is our own fault.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/errors.h"
#include "image/image.h"
#include "serve/server_impl.h"
#include "serve/web_assets.h"

namespace bcd::serve {
namespace {

using httplib::Request;
using httplib::Response;
using Handler = std::function<void(const Request&, Response&)>;

// When the queue is full or the model still loading, how long a client should
// wait before retrying.
constexpr int kRetryAfterS = 1;

// Maps what a handler throws to a JSON error.
Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (const ApiError& e) {
      write_error(res, e);
    } catch (const ImageError& e) {
      write_error(res, {400, "invalid_image", e.what()});
    } catch (const InputError& e) {
      write_error(res, {400, "bad_request", e.what()});
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      write_error(res, {500, "internal", "internal server error; see the server log"});
    }
  };
}

void write_json(Response& res, const nlohmann::json& body) {
  res.set_content(body.dump(), "application/json");
}

// The uploaded bytes: the multipart field "image", else the raw body.
const std::string& uploaded_bytes(const Request& req) {
  if (req.is_multipart_form_data()) {
    if (!req.has_file("image")) {
      throw ApiError(
          400, "missing_image",
          "multipart upload without a field named 'image'; send the file as image=@FILE");
    }
    const auto& files = req.files;
    const std::string& content = files.find("image")->second.content;
    if (content.empty()) throw ApiError(400, "empty_body", "the 'image' field is empty");
    return content;
  }
  if (req.body.empty()) {
    throw ApiError(400, "empty_body",
                   "no image in the request; send PNG, JPEG or BMP bytes as the body or as the "
                   "multipart field 'image'");
  }
  return req.body;
}

// ?top_k=N as in transformers' pipeline; absent: every label.
int parse_top_k(const Request& req, int n_labels) {
  if (!req.has_param("top_k")) return n_labels;
  const std::string text = req.get_param_value("top_k");
  const bool digits =
      !text.empty() && text.size() <= 6 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  const int value = digits ? std::stoi(text) : 0;
  if (value < 1) {
    throw ApiError(400, "invalid_parameter",
                   "top_k must be a whole number >= 1, found '" + text + "'");
  }
  return std::min(value, n_labels);
}

// Checks the declared size before decoding, so a small file that claims a
// huge image (a decompression bomb) costs nothing.
Image decode_upload(const std::string& bytes, std::int64_t max_pixels) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  ImageSize size;
  try {
    size = probe_image_size(data, bytes.size(), "upload");
  } catch (const ImageError& e) {
    // A known signature with a bad header (say a PNG of 0 x 0 pixels) is a
    // broken image; anything else is not an image we read.
    if (has_image_signature(data, bytes.size())) throw ApiError(400, "invalid_image", e.what());
    throw ApiError(415, "not_an_image", e.what());
  }
  const std::int64_t n_pixels = std::int64_t{size.width} * size.height;
  if (n_pixels > max_pixels) {
    throw ApiError(413, "image_too_large",
                   "the image declares " + std::to_string(size.width) + " x " +
                       std::to_string(size.height) + " pixels, more than --max-pixels " +
                       std::to_string(max_pixels));
  }
  DecodeLimits limits;
  limits.max_pixels = max_pixels;
  return decode_image(data, bytes.size(), "upload", limits);
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

const ModelInfo& Server::Impl::require_model() const {
  if (!ready) {
    throw ApiError(503, "not_ready", "the model is still loading; retry shortly", kRetryAfterS);
  }
  return *model;
}

void Server::Impl::install_routes() {
  http.Post("/v1/classify",
            guarded([this](const Request& q, Response& r) { handle_classify(q, r); }));
  http.Get("/v1/model", guarded([this](const Request& q, Response& r) { handle_model(q, r); }));
  http.Get("/readyz", guarded([this](const Request& q, Response& r) { handle_readyz(q, r); }));
  http.Get("/metrics", guarded([this](const Request& q, Response& r) { handle_metrics(q, r); }));
  http.Get("/healthz", [](const Request&, Response& res) { write_json(res, {{"status", "ok"}}); });

  for (std::size_t i = 0; i < kNumWebAssets; ++i) {
    const EmbeddedFile& file = kWebAssets[i];
    const std::string name = file.name;
    // httplib's route patterns are regular expressions; "." must match only itself.
    const std::string pattern = std::regex_replace(name, std::regex(R"(\.)"), R"(\.)");
    http.Get(name == "index.html" ? "/" : "/" + pattern, [&file](const Request&, Response& res) {
      res.set_content(reinterpret_cast<const char*>(file.data), file.n_bytes,
                      content_type_for(file.name));
    });
  }
}

void Server::Impl::handle_classify(const Request& req, Response& res) {
  const auto start = std::chrono::steady_clock::now();
  const ModelInfo& info = require_model();
  const int top_k = parse_top_k(req, static_cast<int>(info.labels.size()));
  const Image image = decode_upload(uploaded_bytes(req), options.max_pixels);
  const double decode_ms = ms_since(start);
  ModelInput input = prepare(image);
  const double prepare_ms = ms_since(start) - decode_ms;

  const BatchResult result = classify_one(std::move(input), start);
  request_context().batch_size = result.batch_size;

  nlohmann::json predictions = nlohmann::json::array();
  const auto& ranked = result.prediction.ranked;
  for (std::size_t i = 0; i < ranked.size() && static_cast<int>(i) < top_k; ++i) {
    predictions.push_back({{"label", ranked[i].label}, {"score", ranked[i].score}});
  }
  write_json(res, {{"predictions", predictions},
                   {"predicted_label", ranked.at(0).label},
                   {"model", {{"name", info.name}, {"revision", info.revision}}},
                   {"image", {{"width", image.width}, {"height", image.height}}},
                   {"batch_size", result.batch_size},
                   {"timing_ms",
                    {{"decode", decode_ms},
                     {"preprocess", prepare_ms},
                     {"queue", result.queue_ms},
                     {"inference", result.inference_ms},
                     {"total", ms_since(start)}}}});
}

// Queues the image and waits for its batch, within what is left of the request timeout.
BatchResult Server::Impl::classify_one(ModelInput input,
                                       std::chrono::steady_clock::time_point start) {
  Submission submission;
  try {
    submission = batcher->submit(std::move(input));
  } catch (const QueueFullError& e) {
    throw ApiError(503, "queue_full", std::string(e.what()) + "; retry later", kRetryAfterS);
  } catch (const StoppingError& e) {
    throw ApiError(503, "shutting_down", e.what(), kRetryAfterS);
  }
  const auto deadline = start + std::chrono::milliseconds(options.request_timeout_ms);
  if (submission.result.wait_until(deadline) != std::future_status::ready) {
    submission.abandoned->store(true);
    throw ApiError(503, "timeout",
                   "no result within --request-timeout-ms " +
                       std::to_string(options.request_timeout_ms) + "; the server is overloaded",
                   kRetryAfterS);
  }
  return submission.result.get();
}

void Server::Impl::handle_model(const Request&, Response& res) {
  write_json(res, require_model().description);
}

void Server::Impl::handle_readyz(const Request&, Response& res) {
  const ModelInfo& info = require_model();
  write_json(res, {{"status", "ready"}, {"model", info.name}, {"revision", info.revision}});
}

void Server::Impl::handle_metrics(const Request&, Response& res) {
  res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace bcd::serve
