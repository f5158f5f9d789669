#pragma once
// Helpers of the serve tests: a server on a free loopback port, a fake model,
// and image bytes made in memory (valid, truncated, or lying about their size).

#include <httplib.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serve/server.h"

namespace bcd::serve::testing {

inline const std::vector<std::string> kLabels = {"benign", "malignant", "normal"};

/// A fake model: the scores follow the mean red value of the image (its
/// "preprocessing"), so different images get different, predictable answers.
/// Counts its calls.
struct FakeModel {
  std::atomic<int> n_calls{0};
  std::atomic<int> largest_batch{0};
  std::chrono::milliseconds delay{0};
  bool fail = false;

  static ModelInput prepare(const Image& image) {
    double red = 0.0;
    for (std::size_t i = 0; i < image.rgb.size(); i += 3) red += image.rgb[i];
    red /= 255.0 * std::max<std::size_t>(1, image.rgb.size() / 3);
    return {static_cast<float>(red)};
  }

  static Prediction predict(const Image& image) { return predict_input(prepare(image)); }

  static Prediction predict_input(const ModelInput& input) {
    const double red = input.at(0);
    Prediction p;
    p.probabilities = {static_cast<float>(0.6 * red + 0.2),
                       static_cast<float>(0.6 * (1 - red) + 0.1), 0.1f};
    for (int i = 0; i < 3; ++i) p.ranked.push_back({kLabels[i], p.probabilities[i]});
    std::stable_sort(p.ranked.begin(), p.ranked.end(),
                     [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
    return p;
  }

  ClassifyBatchFn fn() {
    return [this](const std::vector<ModelInput>& inputs) {
      ++n_calls;
      const int n = static_cast<int>(inputs.size());
      int seen = largest_batch.load();
      while (n > seen && !largest_batch.compare_exchange_weak(seen, n)) {
      }
      std::this_thread::sleep_for(delay);
      if (fail) throw std::runtime_error("fake model failure");
      std::vector<Prediction> out;
      for (const auto& input : inputs) out.push_back(predict_input(input));
      return out;
    };
  }

  ModelBackend backend() {
    ModelInfo info{"fake-vit",
                   "0123456789abcdef",
                   kLabels,
                   {{"name", "fake-vit"},
                    {"labels", kLabels},
                    {"input_size", {{"height", 224}, {"width", 224}, {"channels", 3}}}}};
    return {info, prepare, fn()};
  }
};

/// A Server on 127.0.0.1 with a free port, run on its own thread.
class RunningServer {
 public:
  explicit RunningServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~RunningServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }
  Server& server() { return *server_; }
  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client(const std::string& token = "") const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_read_timeout(std::chrono::seconds(20));
    if (!token.empty()) client->set_bearer_token_auth(token.c_str());
    return client;
  }

 private:
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
};

/// A w x h RGB image filled with `red`, green 100, blue 50.
inline Image solid_image(int width, int height, std::uint8_t red) {
  Image image{width, height, std::vector<std::uint8_t>(std::size_t(width) * height * 3)};
  for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
    image.rgb[i] = red;
    image.rgb[i + 1] = 100;
    image.rgb[i + 2] = 50;
  }
  return image;
}

inline void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::string typed = std::string(type, 4) + data;
  out += typed;
  const auto crc =
      crc32(0, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size()));
  put_be32(out, static_cast<std::uint32_t>(crc));
}

/// A valid 8-bit RGB PNG, written here with zlib so the tests do not depend on
/// the encoder they would be testing.
inline std::string png_bytes(const Image& image, int declared_width = 0, int declared_height = 0) {
  std::string ihdr;
  put_be32(ihdr, static_cast<std::uint32_t>(declared_width ? declared_width : image.width));
  put_be32(ihdr, static_cast<std::uint32_t>(declared_height ? declared_height : image.height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bit, RGB, deflate, no filter, no interlace
  std::string raw;
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0');  // filter type None
    raw.append(
        reinterpret_cast<const char*>(&image.rgb[static_cast<std::size_t>(y) * image.width * 3]),
        static_cast<std::size_t>(image.width) * 3);
  }
  uLongf n_packed = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(n_packed, '\0');
  compress(reinterpret_cast<Bytef*>(packed.data()), &n_packed,
           reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()));
  packed.resize(n_packed);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

}  // namespace bcd::serve::testing
