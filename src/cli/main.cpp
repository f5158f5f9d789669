// bcd: breast ultrasound classification with a Vision Transformer.
// Subcommands: predict, train, evaluate, audit, serve. Results go to stdout,
// logs and progress to stderr; the exit code says what went wrong (errors.h).

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

#include "cli/commands.h"
#include "common/errors.h"
#include "common/log.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "bcd: classify breast ultrasound images as benign, malignant or normal "
      "with a Vision Transformer (decision support, not a diagnosis)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand too
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->envname("BCD_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.set_version_flag("--version", "bcd 0.1.0");

  std::map<const CLI::App*, bcd::cli::RunFn> runs;
  auto add = [&](bcd::cli::RunFn (*adder)(CLI::App&)) {
    auto fn = adder(app);
    runs[app.get_subcommands({}).back()] = std::move(fn);
  };
  add(bcd::cli::add_predict_command);
  add(bcd::cli::add_train_command);
  add(bcd::cli::add_evaluate_command);
  add(bcd::cli::add_audit_command);
  add(bcd::cli::add_serve_command);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? bcd::kExitOk : bcd::kExitUsage;
  }
  bcd::setup_logging(log_level);
  for (const auto* sub : app.get_subcommands()) return runs.at(sub)();
  return bcd::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bcd: error: " << e.what() << "\n";
    return bcd::exit_code(e);
  }
}
