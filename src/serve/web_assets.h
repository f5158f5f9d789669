#pragma once
// The web page (web/*.html, *.css, *.js), compiled into the binary by
// embed_files.cmake so that `bcd serve` needs no files beside it and works offline.

#include <cstddef>
#include <string>

namespace bcd::serve {

/// One file of web/, as bytes.
struct EmbeddedFile {
  const char* name;  // file name without folder, e.g. "index.html"
  const unsigned char* data;
  std::size_t n_bytes;
};

extern const EmbeddedFile kWebAssets[];
extern const std::size_t kNumWebAssets;

/// The embedded file called `name`, or nullptr.
const EmbeddedFile* find_web_asset(const std::string& name);

/// The Content-Type for a file name, by extension ("application/octet-stream" if unknown).
std::string content_type_for(const std::string& name);

}  // namespace bcd::serve
