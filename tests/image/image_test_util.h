#pragma once
// Helpers shared by the tests of src/image: fixture paths, PPM reading, the
// synthetic pattern of tools/make_image_fixtures.py, SHA-256 and pixel diffs.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "image/image.h"

namespace bcd::test {

inline std::string fixture_dir() { return std::string(BCD_SOURCE_DIR) + "/tests/fixtures/image"; }

inline nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file_text(path));
}

/// A binary PPM (P6, maxval 255) as Pillow writes it.
inline Image read_ppm(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  std::size_t at = 0;
  auto next_number = [&]() {
    while (at < bytes.size() && std::isspace(bytes[at])) ++at;
    int v = 0;
    while (at < bytes.size() && std::isdigit(bytes[at])) v = v * 10 + (bytes[at++] - '0');
    return v;
  };
  if (bytes.size() < 2 || bytes[0] != 'P' || bytes[1] != '6') {
    throw std::runtime_error(path + ": not a binary PPM");
  }
  at = 2;
  Image image;
  image.width = next_number();
  image.height = next_number();
  if (next_number() != 255) throw std::runtime_error(path + ": maxval is not 255");
  ++at;  // the single whitespace byte before the samples
  const std::size_t n = std::size_t(image.width) * image.height * 3;
  if (bytes.size() - at != n) throw std::runtime_error(path + ": wrong sample count");
  image.rgb.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
  return image;
}

/// pattern(width, height, seed) of tools/make_image_fixtures.py, bit for bit.
inline Image make_pattern(int width, int height, std::uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(std::size_t(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        std::uint32_t h = (std::uint32_t(x) * 73856093u) ^ (std::uint32_t(y) * 19349663u) ^
                          (std::uint32_t(c) * 83492791u + seed * 2654435761u);
        h ^= h >> 13;
        h *= 0x5BD1E995u;
        h ^= h >> 15;
        const int noise = static_cast<int>(h & 7u);
        int base = 0;
        if (c == 0) base = x * 191 / std::max(width - 1, 1);
        if (c == 1) base = y * 191 / std::max(height - 1, 1);
        if (c == 2) base = ((x / 8 + y / 8) % 2) * 191;
        image.rgb[(std::size_t(y) * width + x) * 3 + c] = static_cast<std::uint8_t>(base + noise);
      }
    }
  }
  return image;
}

/// Largest per-sample difference; -1 when the sizes differ.
inline int max_abs_diff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size()) return -1;
  int worst = 0;
  for (std::size_t i = 0; i < a.rgb.size(); ++i) {
    worst = std::max(worst, std::abs(int(a.rgb[i]) - int(b.rgb[i])));
  }
  return worst;
}

/// SHA-256 (FIPS 180-4) as a lower-case hex string.
inline std::string sha256_hex(const std::vector<std::uint8_t>& message) {
  static const std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  std::array<std::uint32_t, 8> state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<std::uint8_t> data = message;
  const std::uint64_t n_bits = std::uint64_t(message.size()) * 8;
  data.push_back(0x80);
  while (data.size() % 64 != 56) data.push_back(0);
  for (int i = 7; i >= 0; --i) data.push_back(static_cast<std::uint8_t>(n_bits >> (i * 8)));
  auto rotr = [](std::uint32_t v, int n) { return (v >> n) | (v << (32 - n)); };
  for (std::size_t block = 0; block < data.size(); block += 64) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const std::uint8_t* p = &data[block + i * 4];
      w[i] = (std::uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = state;
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      v = {t1 + s0 + maj, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) state[i] += v[i];
  }
  std::string hex;
  for (std::uint32_t word : state) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", word);
    hex += part;
  }
  return hex;
}

/// Compares an image with a digest entry of the fixture script ({width, height,
/// sha256, sum, samples: [[x, y, r, g, b], ...]}). Returns "" when identical,
/// else a description including the largest difference among the samples.
inline std::string compare_with_digest(const Image& image, const nlohmann::json& expected) {
  if (image.width != expected["width"].get<int>() ||
      image.height != expected["height"].get<int>()) {
    return "size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
           ", expected " + expected["width"].dump() + "x" + expected["height"].dump();
  }
  if (sha256_hex(image.rgb) == expected["sha256"].get<std::string>()) return "";
  std::int64_t sum = 0;
  for (std::uint8_t v : image.rgb) sum += v;
  int worst = 0;
  for (const auto& s : expected["samples"]) {
    const std::size_t at = (s[1].get<std::size_t>() * image.width + s[0].get<std::size_t>()) * 3;
    for (int c = 0; c < 3; ++c)
      worst = std::max(worst, std::abs(image.rgb[at + c] - s[2 + c].get<int>()));
  }
  return "digest differs; sum " + std::to_string(sum) + " vs " + expected["sum"].dump() +
         ", max diff over sampled pixels " + std::to_string(worst);
}

}  // namespace bcd::test
