#include "eval/manifest.h"

#include <algorithm>
#include <filesystem>

#include "common/errors.h"
#include "common/files.h"
#include "common/text.h"

namespace bcd::eval {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBom = "\xEF\xBB\xBF";
const std::vector<std::string> kPathNames = {"path",  "file",       "filename", "file_name",
                                             "image", "image_path", "image_id", "id"};
const std::vector<std::string> kLabelNames = {"label", "class", "diagnosis", "category", "target"};

/// Accumulates fields and rows while the parser walks the text.
struct RowBuilder {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool row_has_content = false;

  void end_field() {
    row.fields.push_back(field);
    row_has_content = row_has_content || !field.empty() || row.fields.size() > 1;
    field.clear();
  }
  void end_row(int next_line) {
    end_field();
    if (row_has_content) rows.push_back(row);
    row = CsvRow{next_line, {}};
    row_has_content = false;
  }
};

char pick_separator(const std::string& manifest_path, std::string_view text) {
  const std::string ext = lower_extension(manifest_path);
  if (ext == ".tsv" || ext == ".tab") return '\t';
  const std::string_view header = text.substr(0, text.find_first_of("\r\n"));
  for (char c : {'\t', ',', ';'}) {
    if (header.find(c) != std::string_view::npos) return c;
  }
  return ',';
}

int find_column(const std::vector<std::string>& header, const std::string& wanted,
                const std::vector<std::string>& defaults, const std::string& manifest_path,
                const char* role) {
  std::vector<std::string> names;
  for (const auto& h : header) names.push_back(to_lower(trim(h)));
  const std::vector<std::string> candidates =
      wanted.empty() ? defaults : std::vector<std::string>{to_lower(wanted)};
  for (const auto& candidate : candidates) {
    const auto it = std::find(names.begin(), names.end(), candidate);
    if (it != names.end()) return static_cast<int>(it - names.begin());
  }
  std::string found;
  for (const auto& h : header) found += (found.empty() ? "" : ", ") + ("'" + h + "'");
  throw InputError(manifest_path + ": line 1: no " + role + " column " +
                   (wanted.empty() ? "(looked for the usual names)" : "'" + wanted + "'") +
                   "; the header has " + found + ". Name it with --" + role + "-column");
}

std::string resolve_path(const std::string& base, const std::string& cell,
                         const ManifestOptions& options) {
  const std::string name =
      options.path_pattern.empty() ? cell : apply_path_pattern(options.path_pattern, cell);
  const fs::path p(name);
  return p.is_absolute() ? p.string() : (fs::path(base) / p).lexically_normal().string();
}

}  // namespace

std::vector<CsvRow> parse_delimited(std::string_view text, char separator,
                                    const std::string& name) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  RowBuilder b;
  b.row.line = 1;
  int line = 1, quote_line = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        b.field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        b.field += c;
        if (c == '\n' || (c == '\r' && !crlf)) ++line;
      }
    } else if (c == '"' && b.field.empty()) {
      quoted = true;
      quote_line = line;
    } else if (c == separator) {
      b.end_field();
    } else if (c == '\n' || c == '\r') {
      if (crlf) ++i;
      b.end_row(++line);
    } else {
      b.field += c;
    }
  }
  if (quoted) {
    throw InputError(name + ": line " + std::to_string(quote_line) +
                     ": a quoted field is never closed (expected a closing \")");
  }
  b.end_row(line);
  return b.rows;
}

std::string apply_path_pattern(const std::string& pattern, const std::string& cell) {
  const auto at = pattern.find("{id}");
  if (at == std::string::npos) {
    throw InputError("path pattern '" + pattern + "': expected a '{id}' placeholder");
  }
  return pattern.substr(0, at) + cell + pattern.substr(at + 4);
}

std::vector<LabelledFile> read_manifest(const std::string& manifest_path,
                                        const ManifestOptions& options) {
  const std::string text = read_file_text(manifest_path);
  const char sep = options.separator ? options.separator : pick_separator(manifest_path, text);
  const auto rows = parse_delimited(text, sep, manifest_path);
  if (rows.empty()) throw InputError(manifest_path + ": empty manifest, expected a header line");

  const auto& header = rows.front().fields;
  const int path_col = find_column(header, options.path_column, kPathNames, manifest_path, "path");
  const int label_col =
      find_column(header, options.label_column, kLabelNames, manifest_path, "label");
  const std::string base =
      options.base_dir.empty() ? fs::path(manifest_path).parent_path().string() : options.base_dir;
  std::vector<LabelledFile> files;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = manifest_path + ": line " + std::to_string(row.line);
    if (row.fields.size() != header.size()) {
      throw InputError(where + ": expected " + std::to_string(header.size()) +
                       " fields as in the header, found " + std::to_string(row.fields.size()));
    }
    const std::string cell = trim(row.fields[path_col]);
    const std::string label = trim(row.fields[label_col]);
    if (cell.empty() || label.empty()) {
      throw InputError(where + ": empty " + (cell.empty() ? "path" : "label") + " field '" +
                       header[cell.empty() ? path_col : label_col] + "'");
    }
    files.push_back({resolve_path(base, cell, options), label, row.line});
  }
  return files;
}

}  // namespace bcd::eval
