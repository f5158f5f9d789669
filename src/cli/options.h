#pragma once
// Options shared by several subcommands, each defined once with its help
// text, default and environment variable.

#include <CLI/CLI.hpp>

#include <string>

namespace bcd::cli {

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
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

/// --batch-size N (env BCD_BATCH_SIZE): images per forward pass.
inline CLI::Option* add_batch_size_option(CLI::App& cmd, int& batch_size) {
  return cmd.add_option("--batch-size", batch_size, "Images per forward pass")
      ->envname("BCD_BATCH_SIZE")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace bcd::cli
