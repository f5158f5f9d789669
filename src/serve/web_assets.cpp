#include "serve/web_assets.h"

#include <map>

#include "common/files.h"

namespace bcd::serve {

const EmbeddedFile* find_web_asset(const std::string& name) {
  for (std::size_t i = 0; i < kNumWebAssets; ++i) {
    if (name == kWebAssets[i].name) return &kWebAssets[i];
  }
  return nullptr;
}

std::string content_type_for(const std::string& name) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},
  };
  const auto it = kTypes.find(lower_extension(name));
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace bcd::serve
