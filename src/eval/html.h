#pragma once
// Self-contained HTML reports (no network: styles inline, charts as inline
// SVG, thumbnails as data: URIs). The page skeletons are template files under
// src/eval/templates/, embedded at build time; this code only fills their
// {{placeholders}} with escaped fragments.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval/evaluation.h"

namespace bcd::eval {

/// Escapes &, <, >, " and ' for text and attribute values.
std::string html_escape(std::string_view text);

/// One element, built with escaped attributes and children:
///   Tag("td").attr("class", "num").text("0.93").str()
class Tag {
 public:
  explicit Tag(std::string name) : name_(std::move(name)) {}
  Tag& attr(const std::string& key, const std::string& value);
  Tag& attr(const std::string& key, double value);
  Tag& text(std::string_view text);     // escaped
  Tag& child(const std::string& html);  // an already built fragment
  Tag& child(const Tag& tag) { return child(tag.str()); }
  std::string str() const;

 private:
  std::string name_, attrs_, body_;
};

/// Replaces every {{name}} in `page` with values.at(name). Throws Error on a
/// placeholder without a value (a template and code out of step).
std::string fill_template(std::string_view page, const std::map<std::string, std::string>& values);

/// An embedded template by file name ("evaluation_report.html"); throws Error
/// when there is none.
std::string_view embedded_template(std::string_view name);

/// A data: URI of the image scaled to fit max_side (PNG or JPEG); "" when the
/// file cannot be read.
std::string thumbnail_data_uri(const std::string& path, int max_side, bool jpeg);

/// Charts, from the report JSON sections of compute_metrics.
std::string confusion_matrix_svg(const nlohmann::ordered_json& confusion);
std::string roc_svg(const nlohmann::ordered_json& curves, const nlohmann::ordered_json& aucs);
std::string reliability_svg(const nlohmann::ordered_json& calibration);

/// The evaluation report page (build_report must have run).
std::string render_evaluation_html(const Evaluation& evaluation);

/// The audit page for audit_sets' JSON: verdicts, conflicting labels, images
/// shared across sets and duplicate groups, side by side as thumbnails.
/// At most `max_groups` groups get thumbnails; the JSON lists them all.
std::string render_audit_html(const nlohmann::ordered_json& audit, std::size_t max_groups = 150);

}  // namespace bcd::eval
