#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace bcd::cli {

namespace {
constexpr double kQuietSeconds = 2.0;  // short runs print nothing
constexpr double kPipeEverySeconds = 10.0;
}  // namespace

Progress::Progress(std::string what, std::size_t total)
    : what_(std::move(what)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::advance(std::size_t n) {
  done_ += n;
  const auto now = std::chrono::steady_clock::now();
  const double since_start = std::chrono::duration<double>(now - start_).count();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (since_start < kQuietSeconds) return;
  if (tty_ ? since_draw >= 0.2 : (since_draw >= kPipeEverySeconds || !shown_)) draw(false);
}

void Progress::finish() {
  if (shown_ && (drawn_ != done_ || tty_)) draw(true);
}

void Progress::draw(bool final_line) {
  constexpr int kBarWidth = 30;
  const double fraction = total_ ? static_cast<double>(done_) / total_ : 1.0;
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed_s > 0 ? done_ / elapsed_s : 0.0;
  std::string bar(static_cast<std::size_t>(fraction * kBarWidth), '#');
  bar.resize(kBarWidth, '.');
  std::fprintf(stderr, "%s%s [%s] %zu/%zu %.1f/s %.0fs%s", tty_ ? "\r" : "", what_.c_str(),
               bar.c_str(), done_, total_, rate, elapsed_s, (tty_ && !final_line) ? "" : "\n");
  std::fflush(stderr);
  shown_ = true;
  drawn_ = done_;
  last_draw_ = std::chrono::steady_clock::now();
}

}  // namespace bcd::cli
