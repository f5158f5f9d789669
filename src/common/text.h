#pragma once
// Small string helpers shared by the manifest reader, label mapping and reports.

#include <string>

namespace bcd {

/// ASCII lower case (labels and column names are compared ignoring case).
std::string to_lower(std::string s);

/// `s` without leading and trailing spaces and tabs.
std::string trim(const std::string& s);

}  // namespace bcd
