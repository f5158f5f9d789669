#pragma once
// Stratified train / validation / test split, stored as JSON and reused so that
// later runs and evaluations see the same images on the same side.

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace bcd {

struct SplitOptions {
  double validation_fraction = 0.15;
  double test_fraction = 0.15;
  std::uint64_t seed = 42;
};

/// Which side each sample is on; paths are relative to the data set root.
struct Split {
  std::string data_root;
  std::uint64_t seed = 0;
  std::vector<std::string> class_names;
  std::vector<std::string> train, validation, test;
  /// Groups of near-duplicate images kept on one side (paths relative to the
  /// root); empty when the split was made without grouping.
  std::vector<std::vector<std::string>> groups;
  std::string grouping;  // how groups were found, e.g. "phash<=8"; "" for none
};

/// Stratified by class. Samples in one group (group_of[i] == group_of[j] >= 0)
/// land on the same side; a group is placed by the label of its first member.
/// Deterministic for a given seed, data set and grouping.
Split make_split(const Dataset& dataset, const SplitOptions& options,
                 const std::vector<int>& group_of = {});

void save_split(const Split& split, const std::string& path);
/// Throws InputError naming the file and field on a malformed split file.
Split load_split(const std::string& path);

/// The samples of one side ("train", "validation", "test"), labels mapped onto
/// the data set's classes. A listed file missing from the data set is an
/// InputError naming it (the data set changed since the split was made).
std::vector<Sample> split_samples(const Split& split, const Dataset& dataset,
                                  const std::string& side);

}  // namespace bcd
