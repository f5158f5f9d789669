// Placeholder until the owner of `bcd evaluate` lands it; replaced, not kept.
#include "cli/commands.h"
#include "common/errors.h"

namespace bcd::cli {

RunFn add_evaluate_command(CLI::App& app) {
  app.add_subcommand("evaluate", "(not built yet)");
  return [] () -> int { throw Error("bcd evaluate is not built yet"); };
}

}  // namespace bcd::cli
