// Placeholder until the owner of `bcd audit` lands it; replaced, not kept.
#include "cli/commands.h"
#include "common/errors.h"

namespace bcd::cli {

RunFn add_audit_command(CLI::App& app) {
  app.add_subcommand("audit", "(not built yet)");
  return [] () -> int { throw Error("bcd audit is not built yet"); };
}

}  // namespace bcd::cli
