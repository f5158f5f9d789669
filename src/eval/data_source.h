#pragma once
// Where `bcd evaluate` and `bcd audit` get labelled images from: a folder per
// class, a CSV / TSV manifest, or one side of a saved split.

#include <string>
#include <vector>

#include "eval/audit.h"
#include "eval/manifest.h"

namespace bcd::eval {

struct DataSourceOptions {
  ManifestOptions manifest;
  std::string split_file;  // with a folder data set: take one side of this split
  std::string side = "test";
};

/// The labelled files of DATA: a folder (folder per class; with split_file,
/// only `side`) or a manifest file. Throws InputError naming what is wrong.
std::vector<LabelledFile> load_labelled_files(const std::string& data,
                                              const DataSourceOptions& options);

/// Each side of a split (train, validation, test) as an audit set named
/// "training data", "validation set" and "test set".
std::vector<AuditSet> load_split_sets(const std::string& data_root, const std::string& split_file);

}  // namespace bcd::eval
