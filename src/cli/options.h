#pragma once
// Options shared by several subcommands, each defined once with its help
// text, default and environment variable.

#include <CLI/CLI.hpp>

#include <string>

namespace bcd::cli {

/// A number of at least `least`. CLI11's own PositiveNumber answers "Value 0 not in
/// range 0 to 1.797...e308" for 0, which reads as a contradiction; this says what it wants.
inline CLI::Validator at_least(double least) {
  return CLI::Validator(
      [least](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value))
          return "expected a number, found '" + text + "'";
        if (!(value >= least))
          return "expected at least " + CLI::detail::to_string(least) + ", found " + text;
        return {};
      },
      "", "AT_LEAST");
}

/// Most compute threads: far past any core count, short of thread counts that make
/// the runtime's start-up itself take minutes.
constexpr int kMaxThreads = 256;

/// --model DIR (env BCD_MODEL): a Hugging Face model directory.
inline CLI::Option* add_model_option(CLI::App& cmd, std::string& model_dir) {
  return cmd
      .add_option("-m,--model", model_dir,
                  "Model directory (config.json, preprocessor_config.json, model.safetensors)")
      ->envname("BCD_MODEL")
      ->required();
}

/// --threads N (env BCD_THREADS): compute threads, 0 = one per core.
inline CLI::Option* add_threads_option(CLI::App& cmd, int& threads) {
  return cmd.add_option("--threads", threads, "Compute threads (0: one per core)")
      ->envname("BCD_THREADS")
      ->check(CLI::Range(0, kMaxThreads))
      ->capture_default_str();
}

/// --batch-size N (env BCD_BATCH_SIZE): images per forward pass.
inline CLI::Option* add_batch_size_option(CLI::App& cmd, int& batch_size) {
  return cmd.add_option("--batch-size", batch_size, "Images per forward pass")
      ->envname("BCD_BATCH_SIZE")
      ->check(at_least(1))
      ->capture_default_str();
}

}  // namespace bcd::cli
