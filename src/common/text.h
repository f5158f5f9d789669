#pragma once
// Small string helpers shared by the manifest reader, label mapping and reports.

#include <string>
#include <vector>

namespace bcd {

/// ASCII lower case (labels and column names are compared ignoring case).
std::string to_lower(std::string s);

/// `s` without leading and trailing spaces and tabs.
std::string trim(const std::string& s);

/// Index of the first of `names` equal to `wanted` ignoring ASCII case; -1 when none is.
int find_ignoring_case(const std::vector<std::string>& names, const std::string& wanted);

/// The names joined with ", " (for messages that list what was allowed).
std::string join_names(const std::vector<std::string>& names);

}  // namespace bcd
