#pragma once
// Subcommands of `bcd`. Each add_*_command registers its options on `app` and
// returns a function that runs it and returns the process exit code.

#include <CLI/CLI.hpp>

#include <functional>

namespace bcd::cli {

using RunFn = std::function<int()>;

RunFn add_predict_command(CLI::App& app);
RunFn add_train_command(CLI::App& app);
RunFn add_evaluate_command(CLI::App& app);
RunFn add_audit_command(CLI::App& app);
RunFn add_serve_command(CLI::App& app);

}  // namespace bcd::cli
