#pragma once
// Scratch paths for tests. ctest runs every test case as its own process, two
// or more at a time, so a fixed name under /tmp would let one case delete or
// overwrite another's files: each process gets its own suffix.

#include <unistd.h>

#include <filesystem>
#include <string>

namespace bcd::test {

/// temp_directory_path() / "<name>.<pid>"
inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()));
}

}  // namespace bcd::test
