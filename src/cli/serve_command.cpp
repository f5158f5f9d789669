// Placeholder until the owner of `bcd serve` lands it; replaced, not kept.
#include "cli/commands.h"
#include "common/errors.h"

namespace bcd::cli {

RunFn add_serve_command(CLI::App& app) {
  app.add_subcommand("serve", "(not built yet)");
  return [] () -> int { throw Error("bcd serve is not built yet"); };
}

}  // namespace bcd::cli
