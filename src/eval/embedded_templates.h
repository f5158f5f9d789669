#pragma once
// The files of src/eval/templates/, compiled in by embed_templates.cmake.

#include <cstddef>
#include <string_view>

namespace bcd::eval {

struct EmbeddedTemplate {
  std::string_view name;  // file name, e.g. "evaluation_report.html"
  std::string_view text;
};

extern const EmbeddedTemplate kEmbeddedTemplates[];
extern const std::size_t kEmbeddedTemplateCount;

}  // namespace bcd::eval
