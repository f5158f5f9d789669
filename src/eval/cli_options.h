#pragma once
// Command-line options for data sets given as manifests, shared by
// `bcd evaluate` and `bcd audit` (header-only: only the CLI includes CLI11).

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "common/errors.h"
#include "eval/manifest.h"

namespace bcd::eval {

/// "," ";" "|" or "tab" / "\t" as a separator character.
inline char parse_separator(const std::string& text) {
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text.size() == 1) return text[0];
  throw InputError("--separator: expected one character or 'tab', found '" + text + "'");
}

/// Adds --path-column, --label-column, --separator, --base-dir and
/// --path-pattern. The separator text is stored in `separator` and must be
/// turned into options.separator with parse_separator before use.
inline void add_manifest_options(CLI::App& cmd, ManifestOptions& options, std::string& separator) {
  cmd.add_option("--path-column", options.path_column,
                 "Manifest column holding the image path or id (default: path, file, "
                 "filename, image, image_path, image_id or id)");
  cmd.add_option("--label-column", options.label_column,
                 "Manifest column holding the label (default: label, class, diagnosis, "
                 "category or target)");
  cmd.add_option("--separator", separator,
                 "Manifest field separator: one character or 'tab' (default: tab for "
                 ".tsv, else guessed from the header)");
  cmd.add_option("--base-dir", options.base_dir,
                 "Folder that relative manifest paths start from (default: the manifest's)");
  cmd.add_option("--path-pattern", options.path_pattern,
                 "Turns a manifest id into a file name, e.g. '{id}.png'");
}

}  // namespace bcd::eval
