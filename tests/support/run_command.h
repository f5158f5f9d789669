#pragma once
// Runs the built `bcd` binary from a test: stdout captured through a pipe, stderr
// through a file, and the exit code.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace bcd::test {

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal (a crash)
  std::string out, err;
};

/// Runs `BCD_BINARY_DIR/bcd ARGS` through the shell (ARGS quoted by the caller);
/// stderr goes through `err_file`.
inline CommandResult run_bcd(const std::string& args, const std::filesystem::path& err_file) {
  const std::string command =
      std::string(BCD_BINARY_DIR) + "/bcd " + args + " 2>'" + err_file.string() + "'";
  CommandResult run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  run.err.assign(std::istreambuf_iterator<char>(in), {});
  return run;
}

}  // namespace bcd::test
