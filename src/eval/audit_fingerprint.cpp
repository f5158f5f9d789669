// Image fingerprints for the audit: exact pixel hash and PHash variants, pair
// search and union-find grouping.

#include <opencv2/core.hpp>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/files.h"
#include "eval/audit.h"
#include "image/image.h"

namespace bcd::eval {
namespace {

/// Fractions cut off (left, top, right, bottom) for each hash variant.
constexpr std::array<std::array<double, 4>, kHashVariants> kCrops = {{
    {0, 0, 0, 0},
    {0.05, 0.05, 0, 0},
    {0, 0.05, 0.05, 0},
    {0.05, 0, 0, 0.05},
    {0, 0, 0.05, 0.05},
    {0.025, 0.025, 0.025, 0.025},
}};

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t n, std::uint64_t h) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= data[i];
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t pixel_hash(const cv::Mat& bgr) {
  const std::uint32_t dims[2] = {static_cast<std::uint32_t>(bgr.cols),
                                 static_cast<std::uint32_t>(bgr.rows)};
  std::uint64_t h =
      fnv1a(reinterpret_cast<const std::uint8_t*>(dims), sizeof dims, 14695981039346656037ULL);
  for (int y = 0; y < bgr.rows; ++y) {
    h = fnv1a(bgr.ptr<std::uint8_t>(y), static_cast<std::size_t>(bgr.cols) * 3, h);
  }
  return h;
}

cv::Mat crop(const cv::Mat& image, const std::array<double, 4>& cut) {
  const int x0 = static_cast<int>(image.cols * cut[0]);
  const int y0 = static_cast<int>(image.rows * cut[1]);
  const int x1 = image.cols - static_cast<int>(image.cols * cut[2]);
  const int y1 = image.rows - static_cast<int>(image.rows * cut[3]);
  return image(cv::Rect(x0, y0, std::max(1, x1 - x0), std::max(1, y1 - y0)));
}

std::uint64_t phash(cv::img_hash::PHash& hasher, const cv::Mat& image) {
  cv::Mat bits;
  hasher.compute(image, bits);
  std::uint64_t value = 0;
  std::memcpy(&value, bits.ptr<std::uint8_t>(0), sizeof value);
  return value;
}

/// True for a PNG that does not end with an IEND chunk: usually a truncated
/// file. (A few valid files carry bytes after IEND; they only cost an extra decode.)
bool png_without_final_iend(const std::vector<std::uint8_t>& bytes) {
  static const std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const std::uint8_t kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kPngSignature, 8) != 0) return false;
  return bytes.size() < 8 + 12 || std::memcmp(bytes.data() + bytes.size() - 12, kIend, 12) != 0;
}

/// Decodes a file for the audit, or says why it cannot: the header is checked first,
/// with the same pixel limit as bcd predict, so a decompression bomb is refused
/// before OpenCV allocates for it.
cv::Mat decode_for_audit(const std::string& path, std::string& error) {
  try {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path);
    const ImageSize size = probe_image_size(bytes.data(), bytes.size(), path);
    const DecodeLimits limits;
    if (static_cast<std::int64_t>(size.width) * size.height > limits.max_pixels) {
      error = std::to_string(size.width) + "x" + std::to_string(size.height) +
              " pixels exceeds the limit of " + std::to_string(limits.max_pixels);
      return {};
    }
    // OpenCV's PNG reader leaves libpng's error text on stderr and gives no
    // reason; a likely truncated PNG goes through our own decoder first, which
    // throws an ImageError that says what is wrong.
    if (png_without_final_iend(bytes)) decode_image(bytes.data(), bytes.size(), path, limits);
    // IMREAD_COLOR: 8-bit BGR whatever the file's depth or palette, EXIF
    // orientation applied, so equal pictures compare equal.
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<std::uint8_t*>(bytes.data()));
    cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);
    if (image.empty()) {
      // For the reason: our decoder throws where OpenCV only returned nothing.
      decode_image(bytes.data(), bytes.size(), path, limits);
      error = "not a decodable image";
    }
    return image;
  } catch (const InputError& e) {
    // The report lists the path beside the reason: keep the reason alone.
    error = e.what();
    if (error.rfind(path + ": ", 0) == 0) error.erase(0, path.size() + 2);
  } catch (const cv::Exception& e) {
    error = std::string("OpenCV could not decode it: ") + e.what();
  }
  return {};
}

Fingerprint fingerprint_one(const std::string& path, cv::img_hash::PHash& hasher) {
  Fingerprint f;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    f.error = "file not found";
    return f;
  }
  const cv::Mat image = decode_for_audit(path, f.error);
  if (image.empty()) return f;
  f.ok = true;
  f.width = image.cols;
  f.height = image.rows;
  f.pixel_hash = pixel_hash(image);
  for (int v = 0; v < kHashVariants; ++v) f.phash[v] = phash(hasher, crop(image, kCrops[v]));
  return f;
}

int popcount(std::uint64_t x) { return __builtin_popcountll(x); }

int find_root(std::vector<int>& parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

}  // namespace

std::vector<Fingerprint> fingerprint_files(const std::vector<std::string>& paths,
                                           const AuditOptions& options,
                                           const std::function<void(std::size_t)>& progress) {
  std::vector<Fingerprint> prints(paths.size());
  std::atomic<std::size_t> next{0}, done{0};
  const auto work = [&](bool report) {
    auto hasher = cv::img_hash::PHash::create();
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      prints[i] = fingerprint_one(paths[i], *hasher);
      ++done;
      if (report && progress) progress(done.load());
    }
  };
  const int n_threads = options.threads > 0
                            ? options.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> workers;
  for (int t = 1; t < n_threads; ++t) workers.emplace_back(work, false);
  work(true);
  for (auto& w : workers) w.join();
  if (progress) progress(paths.size());
  return prints;
}

int phash_distance(const Fingerprint& a, const Fingerprint& b, bool crop_variants) {
  int best = popcount(a.phash[0] ^ b.phash[0]);
  if (!crop_variants) return best;
  for (int v = 1; v < kHashVariants; ++v) {
    best = std::min({best, popcount(a.phash[v] ^ b.phash[0]), popcount(a.phash[0] ^ b.phash[v])});
  }
  return best;
}

std::vector<DuplicatePair> find_duplicate_pairs(const std::vector<Fingerprint>& prints,
                                                const AuditOptions& options) {
  std::vector<DuplicatePair> pairs;
  const int n = static_cast<int>(prints.size());
  for (int a = 0; a < n; ++a) {
    if (!prints[a].ok) continue;
    for (int b = a + 1; b < n; ++b) {
      if (!prints[b].ok) continue;
      const bool exact = prints[a].pixel_hash == prints[b].pixel_hash;
      const int distance = phash_distance(prints[a], prints[b], options.crop_variants);
      if (exact || distance <= options.hamming_threshold) pairs.push_back({a, b, distance, exact});
    }
  }
  return pairs;
}

std::vector<int> group_duplicates(std::size_t n_images, const std::vector<DuplicatePair>& pairs) {
  std::vector<int> parent(n_images);
  std::iota(parent.begin(), parent.end(), 0);
  for (const auto& p : pairs) {
    const int ra = find_root(parent, p.a), rb = find_root(parent, p.b);
    parent[std::max(ra, rb)] = std::min(ra, rb);  // the root is the first member
  }
  std::vector<int> size(n_images, 0), id_of_root(n_images, -1), group(n_images, -1);
  for (std::size_t i = 0; i < n_images; ++i) ++size[find_root(parent, static_cast<int>(i))];
  int next_id = 0;
  for (std::size_t i = 0; i < n_images; ++i) {
    const int root = find_root(parent, static_cast<int>(i));
    if (size[root] < 2) continue;
    if (id_of_root[root] < 0) id_of_root[root] = next_id++;
    group[i] = id_of_root[root];
  }
  return group;
}

std::vector<int> near_duplicate_groups(const std::vector<std::string>& paths,
                                       const AuditOptions& options) {
  const auto prints = fingerprint_files(paths, options);
  return group_duplicates(paths.size(), find_duplicate_pairs(prints, options));
}

std::string grouping_name(const AuditOptions& options) {
  return "phash<=" + std::to_string(options.hamming_threshold) +
         (options.crop_variants ? "+crops" : "");
}

}  // namespace bcd::eval
