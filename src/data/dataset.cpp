#include "data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <regex>

#include "common/errors.h"
#include "image/image.h"

namespace bcd {
namespace fs = std::filesystem;

std::vector<int> Dataset::class_counts() const {
  std::vector<int> counts(class_names.size(), 0);
  for (const auto& s : samples) counts.at(static_cast<std::size_t>(s.label))++;
  return counts;
}

bool is_mask_file(const std::string& path) {
  static const std::regex kMask(R"(_mask(_[0-9]+)?\.[A-Za-z]+$)");
  return std::regex_search(fs::path(path).filename().string(), kMask);
}

Dataset scan_folder_dataset(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw InputError(root + ": expected a data set folder with one sub-folder per class");
  }
  Dataset ds;
  ds.root = root;
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) class_dirs.push_back(entry.path());
  }
  std::sort(class_dirs.begin(), class_dirs.end());

  for (const auto& dir : class_dirs) {
    std::vector<std::string> images;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      const std::string path = entry.path().string();
      if (!has_image_extension(path) || is_mask_file(path)) {
        ds.skipped.push_back(path);
      } else {
        images.push_back(path);
      }
    }
    if (images.empty()) continue;
    std::sort(images.begin(), images.end());
    const int label = static_cast<int>(ds.class_names.size());
    ds.class_names.push_back(dir.filename().string());
    for (auto& p : images) ds.samples.push_back({std::move(p), label});
  }
  std::sort(ds.skipped.begin(), ds.skipped.end());
  if (ds.samples.empty()) {
    throw InputError(root +
                     ": no class folder with images (.png .jpg .jpeg .bmp) found; "
                     "expected ROOT/<class>/<image>");
  }
  return ds;
}

}  // namespace bcd
