#pragma once
// A one-line progress report on stderr for long runs: redrawn in place on a
// terminal, a line every few seconds otherwise (logs, CI).

#include <chrono>
#include <cstddef>
#include <string>

namespace bcd::cli {

class Progress {
 public:
  Progress(std::string what, std::size_t total);
  void advance(std::size_t n);
  void finish();

 private:
  void draw(bool final_line);

  std::string what_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t drawn_ = 0;  // done_ when last drawn
  bool tty_ = false;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace bcd::cli
