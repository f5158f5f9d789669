#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/errors.h"

namespace bcd {

void setup_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw InputError("--log-level: expected trace, debug, info, warn, error or off; got '" + level +
                     "'");
  }
  auto logger = spdlog::stderr_color_mt("bcd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
}

}  // namespace bcd
