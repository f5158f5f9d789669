#pragma once
// Labelled image lists from CSV / TSV manifests, the second form (besides a
// folder per class) in which people hold data sets. Handles a UTF-8 byte order
// mark, quoted fields (with "" for a quote, separators and line ends inside),
// and Windows or old Mac line ends.

#include <string>
#include <string_view>
#include <vector>

namespace bcd::eval {

/// One row: the image path (base folder applied) and its label name as written.
struct LabelledFile {
  std::string path;
  std::string label;
  int line = 0;  // 1-based line of the row in its manifest; 0 for folder data sets
};

struct ManifestOptions {
  /// Column names; "" picks the first header cell named path, file, filename,
  /// file_name, image, image_path, image_id or id (label: label, class,
  /// diagnosis, category, target), compared case-insensitively.
  std::string path_column;
  std::string label_column;
  /// Field separator; '\0' picks tab for .tsv / .tab files, otherwise the
  /// first of tab, comma or semicolon found in the header line.
  char separator = '\0';
  /// Folder that relative paths are resolved against; "" is the manifest's folder.
  std::string base_dir;
  /// Turns a cell into a file name, "{id}" standing for the cell:
  /// "{id}.png" makes "case_0001" into "case_0001.png". "" uses the cell as is.
  std::string path_pattern;
};

/// Splits delimited text into rows of fields (RFC 4180 quoting). Blank lines
/// are skipped. `name` appears in errors (unterminated quote, with its line).
/// Each row is returned with the 1-based line it starts on.
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRow> parse_delimited(std::string_view text, char separator, const std::string& name);

/// Reads a manifest. Throws InputError naming the file, the line and the
/// column at fault (missing column, row with the wrong number of fields,
/// empty path or label). Files are not opened here: a missing file is
/// reported by whoever reads it, as a failed row.
std::vector<LabelledFile> read_manifest(const std::string& manifest_path,
                                        const ManifestOptions& options = {});

/// "{id}.png" applied to "case_1" gives "case_1.png"; throws InputError when
/// the pattern has no "{id}".
std::string apply_path_pattern(const std::string& pattern, const std::string& cell);

}  // namespace bcd::eval
