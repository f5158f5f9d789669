#pragma once
// Labelled image collections: a folder per class (the BUSI layout), and the
// train / validation / test split written to a file and reused.

#include <cstdint>
#include <string>
#include <vector>

namespace bcd {

/// One labelled image. `label` indexes Dataset::class_names.
struct Sample {
  std::string path;
  int label = -1;
};

struct Dataset {
  std::string root;
  std::vector<std::string> class_names;  // sorted folder names
  std::vector<Sample> samples;           // sorted by class, then path
  std::vector<std::string> skipped;      // files that are not images to learn from

  std::vector<int> class_counts() const;
};

/// Scans `root`/<class>/<image>. Files without an image extension, and BUSI's
/// lesion masks (`NAME_mask.png`, `NAME_mask_1.png`), are skipped and listed.
/// Throws InputError when `root` is missing or has no class folder with images.
Dataset scan_folder_dataset(const std::string& root);

/// True for BUSI-style mask file names ("x_mask.png", "x_mask_1.png").
bool is_mask_file(const std::string& path);

}  // namespace bcd
