#include "common/files.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/errors.h"

namespace bcd {
namespace fs = std::filesystem;

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw InputError(path + ": expected a file, found a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  }
  in.seekg(0, std::ios::end);
  const auto n_bytes = static_cast<std::size_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> bytes(n_bytes);
  if (n_bytes > 0 &&
      !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n_bytes))) {
    throw InputError(path + ": read failed after " + std::to_string(in.gcount()) + " of " +
                     std::to_string(n_bytes) + " bytes");
  }
  return bytes;
}

std::string read_file_text(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

void write_file_atomic(const std::string& path, const void* data, std::size_t n_bytes) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) {
    throw OutputError(target.parent_path().string() + ": cannot create folder (" + ec.message() +
                      ")");
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw OutputError(tmp + ": cannot open for writing (" + std::strerror(errno) + ")");
    }
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n_bytes));
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      throw OutputError(path + ": write failed (disk full or quota?)");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string reason = ec.message();  // before remove() reuses ec
    fs::remove(tmp, ec);
    throw OutputError(path + ": cannot move the finished file into place (" + reason + ")");
  }
}

void write_stdout(std::string_view data) {
  std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
  std::cout.flush();
  if (!std::cout) {
    throw OutputError(std::string("standard output: write failed (") + std::strerror(errno) +
                      "); nothing else was written");
  }
}

void write_file_atomic(const std::string& path, std::string_view data) {
  write_file_atomic(path, data.data(), data.size());
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace bcd
