#pragma once
// Small file helpers: whole-file reads with errors that name the file, and
// writes that never leave a half-written file behind (temporary file, then
// rename over the target).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bcd {

/// Reads a whole file. Throws InputError naming the path when it cannot.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

/// Writes `data` to `path` through `path.tmp.<pid>` and an atomic rename, so a
/// reader sees either the old file or the complete new one. Creates missing
/// parent folders. Throws OutputError naming the path.
void write_file_atomic(const std::string& path, std::string_view data);
void write_file_atomic(const std::string& path, const void* data, std::size_t n_bytes);

/// Writes results to standard output and flushes; throws OutputError when they did not
/// all get there (a full disk, a closed pipe), so the exit code says so.
void write_stdout(std::string_view data);

/// Lower-case file extension including the dot ("" when none).
std::string lower_extension(const std::string& path);

}  // namespace bcd
