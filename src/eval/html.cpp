#include "eval/html.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

#include "common/errors.h"

namespace bcd::eval {
namespace {

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::uint32_t chunk = (bytes[i] << 16) | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0) |
                                (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Tag& Tag::attr(const std::string& key, const std::string& value) {
  attrs_ += " " + key + "=\"" + html_escape(value) + "\"";
  return *this;
}

Tag& Tag::attr(const std::string& key, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return attr(key, std::string(buffer));
}

Tag& Tag::text(std::string_view text) {
  body_ += html_escape(text);
  return *this;
}

Tag& Tag::child(const std::string& html) {
  body_ += html;
  return *this;
}

std::string Tag::str() const {
  // Void elements have no end tag in HTML.
  if (name_ == "img" || name_ == "br" || name_ == "meta") return "<" + name_ + attrs_ + ">";
  return "<" + name_ + attrs_ + ">" + body_ + "</" + name_ + ">";
}

std::string fill_template(std::string_view page, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = page.find("{{", pos);
    if (open == std::string_view::npos) break;
    const auto close = page.find("}}", open);
    if (close == std::string_view::npos) break;
    const std::string key(page.substr(open + 2, close - open - 2));
    const auto it = values.find(key);
    if (it == values.end()) throw Error("HTML template: no value for placeholder {{" + key + "}}");
    out.append(page.substr(pos, open - pos));
    out += it->second;
    pos = close + 2;
  }
  out.append(page.substr(pos));
  return out;
}

std::string thumbnail_data_uri(const std::string& path, int max_side, bool jpeg) {
  const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) return "";
  const double scale =
      std::min(1.0, static_cast<double>(max_side) / std::max(image.cols, image.rows));
  cv::Mat small;
  cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
  std::vector<std::uint8_t> bytes;
  const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, 80};
  if (!cv::imencode(jpeg ? ".jpg" : ".png", small, bytes, jpeg ? params : std::vector<int>{})) {
    return "";
  }
  return std::string(jpeg ? "data:image/jpeg;base64," : "data:image/png;base64,") + base64(bytes);
}

}  // namespace bcd::eval

#include "eval/embedded_templates.h"

namespace bcd::eval {

std::string_view embedded_template(std::string_view name) {
  for (std::size_t i = 0; i < kEmbeddedTemplateCount; ++i) {
    if (kEmbeddedTemplates[i].name == name) return kEmbeddedTemplates[i].text;
  }
  throw Error("no embedded template named '" + std::string(name) + "'");
}

}  // namespace bcd::eval
