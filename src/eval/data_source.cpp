#include "eval/data_source.h"

#include <filesystem>

#include "common/errors.h"
#include "data/dataset.h"
#include "data/split.h"

namespace bcd::eval {
namespace {

namespace fs = std::filesystem;

std::vector<LabelledFile> to_files(const std::vector<Sample>& samples, const Dataset& dataset) {
  std::vector<LabelledFile> files;
  files.reserve(samples.size());
  for (const auto& s : samples) files.push_back({s.path, dataset.class_names.at(s.label), 0});
  return files;
}

}  // namespace

std::vector<LabelledFile> load_labelled_files(const std::string& data,
                                              const DataSourceOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(data, ec)) {
    if (!options.split_file.empty()) {
      throw InputError("--split: works with a folder-per-class data set; " + data +
                       " is not a folder");
    }
    return read_manifest(data, options.manifest);
  }
  const Dataset dataset = scan_folder_dataset(data);
  if (options.split_file.empty()) return to_files(dataset.samples, dataset);
  const Split split = load_split(options.split_file);
  return to_files(split_samples(split, dataset, options.side), dataset);
}

std::vector<AuditSet> load_split_sets(const std::string& data_root, const std::string& split_file) {
  const Dataset dataset = scan_folder_dataset(data_root);
  const Split split = load_split(split_file);
  std::vector<AuditSet> sets;
  const std::pair<const char*, const char*> sides[] = {
      {"train", "training data"}, {"validation", "validation set"}, {"test", "test set"}};
  for (const auto& [side, name] : sides) {
    sets.push_back({name, to_files(split_samples(split, dataset, side), dataset)});
  }
  return sets;
}

}  // namespace bcd::eval
