#pragma once
// Leakage audit: exact and near-duplicate images within and across data sets
// (or the sides of a split), the thing that turns a random-split score or an
// "external" validation into a lie.
//
// Exact duplicates have the same decoded pixels (a 64-bit FNV-1a hash of the
// 8-bit colour pixels and the size), whatever the file bytes. Near duplicates
// are found with OpenCV img_hash's PHash (64-bit DCT hash of a 32x32 grey
// thumbnail): robust to resizing, JPEG re-encoding and brightness changes.
// Because PHash alone is not robust to cropping, each image is also hashed
// after cutting 5% off each corner side and 2.5% all round, and two images are
// compared by the smallest Hamming distance between one's full hash and any
// of the other's hashes. Pairs at or below the threshold are joined into
// groups with union-find.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/manifest.h"

namespace bcd::eval {

struct AuditOptions {
  /// Largest PHash Hamming distance (of 64 bits) still called a near
  /// duplicate. 8 sits in the gap between BUSI's duplicate frames and its
  /// distinct images (see docs/evaluation.md); raise it to catch more, at the
  /// price of false pairs.
  int hamming_threshold = 8;
  /// Compare the cropped variants too (finds copies cropped by up to ~5%).
  bool crop_variants = true;
  /// Decoding threads; 0 = one per core.
  int threads = 0;
};

constexpr int kHashVariants = 6;  // full image, four corner crops, centre crop

/// What the audit keeps of one image.
struct Fingerprint {
  bool ok = false;
  std::string error;  // why the image could not be read (when !ok)
  int width = 0, height = 0;
  std::uint64_t pixel_hash = 0;                      // exact-duplicate key
  std::array<std::uint64_t, kHashVariants> phash{};  // [0] is the full image
};

/// Fingerprints files in parallel. Never throws for a bad file: it is marked
/// !ok with the reason. `progress(done)` is called from the calling thread.
std::vector<Fingerprint> fingerprint_files(const std::vector<std::string>& paths,
                                           const AuditOptions& options,
                                           const std::function<void(std::size_t)>& progress = {});

/// Smallest Hamming distance between a and b over the variants in use.
int phash_distance(const Fingerprint& a, const Fingerprint& b, bool crop_variants);

struct DuplicatePair {
  int a = 0, b = 0;    // indices, a < b
  int distance = 0;    // PHash Hamming distance
  bool exact = false;  // same decoded pixels
};

/// Every pair of readable images that are exact or near duplicates.
std::vector<DuplicatePair> find_duplicate_pairs(const std::vector<Fingerprint>& prints,
                                                const AuditOptions& options);

/// Group id of each image (0, 1, ... in order of first member); -1 for an
/// image with no duplicate, and for unreadable images.
std::vector<int> group_duplicates(std::size_t n_images, const std::vector<DuplicatePair>& pairs);

/// For `bcd train`: group ids of near-duplicate images, so that a split can
/// keep each group on one side (make_split's group_of).
std::vector<int> near_duplicate_groups(const std::vector<std::string>& paths,
                                       const AuditOptions& options = {});

/// A short name of the grouping rule for Split::grouping, e.g. "phash<=8+crops".
std::string grouping_name(const AuditOptions& options);

/// One set taking part in an audit (a data set, or one side of a split).
struct AuditSet {
  std::string name;  // shown in verdicts: "training data", "test set", a folder
  std::vector<LabelledFile> files;
};

/// Audits the sets together: duplicate groups and cross-label groups within
/// each set, images shared between every two sets, and verdict lines.
/// JSON layout in docs/evaluation.md; "verdicts" holds the lines to print.
nlohmann::ordered_json audit_sets(const std::vector<AuditSet>& sets, const AuditOptions& options,
                                  const std::function<void(std::size_t)>& progress = {});

}  // namespace bcd::eval
