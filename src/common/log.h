#pragma once
// Logging: levelled, to stderr, through spdlog. Results go to stdout; logs never do.

#include <spdlog/spdlog.h>

#include <string>

namespace bcd {

/// Sends spdlog's default logger to stderr at `level` ("trace", "debug", "info",
/// "warn", "error", "off"). Throws InputError on an unknown level name.
void setup_logging(const std::string& level);

}  // namespace bcd
