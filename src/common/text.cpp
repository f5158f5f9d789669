#include "common/text.h"

#include <cctype>

namespace bcd {

std::string to_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

int find_ignoring_case(const std::vector<std::string>& names, const std::string& wanted) {
  const std::string key = to_lower(wanted);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (to_lower(names[i]) == key) return static_cast<int>(i);
  }
  return -1;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace bcd
