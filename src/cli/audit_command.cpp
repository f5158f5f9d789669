// `bcd audit`: exact and near-duplicate images within and across data sets or
// the sides of a split, with a verdict line a reader cannot miss.

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "common/errors.h"
#include "common/files.h"
#include "common/log.h"
#include "eval/cli_options.h"
#include "eval/data_source.h"
#include "eval/html.h"

namespace bcd::cli {
namespace {

struct AuditArgs {
  std::vector<std::string> data;
  std::string split_file, output, html, separator;
  eval::ManifestOptions manifest;
  eval::AuditOptions audit;
  bool no_crops = false;
  bool fail_on_shared = false;
};

std::vector<eval::AuditSet> load_sets(const AuditArgs& args) {
  if (!args.split_file.empty()) {
    if (args.data.size() != 1) {
      throw InputError("--split: expected exactly one DATA folder (the split's data set), got " +
                       std::to_string(args.data.size()));
    }
    return eval::load_split_sets(args.data[0], args.split_file);
  }
  eval::DataSourceOptions source;
  source.manifest = args.manifest;
  std::vector<eval::AuditSet> sets;
  for (const auto& data : args.data)
    sets.push_back({data, eval::load_labelled_files(data, source)});
  return sets;
}

std::size_t count_shared(const nlohmann::ordered_json& report) {
  std::size_t n = 0;
  for (const auto& across : report["across"]) n += across["n_images_of_b_in_a"].get<std::size_t>();
  return n;
}

std::size_t count_unreadable(const nlohmann::ordered_json& report) {
  std::size_t n = 0;
  for (const auto& set : report["sets"]) n += set["n_unreadable"].get<std::size_t>();
  return n;
}

int run_audit(AuditArgs args) {
  if (!args.separator.empty()) args.manifest.separator = eval::parse_separator(args.separator);
  args.audit.crop_variants = !args.no_crops;
  const auto sets = load_sets(args);
  std::size_t n_files = 0;
  for (const auto& set : sets) n_files += set.files.size();

  Progress progress("audit", n_files);
  std::size_t reported = 0;
  const auto report = eval::audit_sets(sets, args.audit, [&](std::size_t done) {
    progress.advance(done - reported);
    reported = done;
  });
  progress.finish();

  const std::string json = report.dump(2) + "\n";
  if (args.output.empty()) write_stdout(json);
  if (!args.output.empty()) write_file_atomic(args.output, json);
  if (!args.html.empty()) write_file_atomic(args.html, eval::render_audit_html(report));
  // The verdicts are the command's answer, so they reach stderr whatever the log level.
  for (const auto& verdict : report["verdicts"])
    std::cerr << "verdict: " << verdict.get<std::string>() << "\n";

  if (const std::size_t n = count_unreadable(report); n > 0) {
    spdlog::error("{} files could not be read (listed under \"unreadable\")", n);
    return kExitPartialFailure;
  }
  return args.fail_on_shared && count_shared(report) > 0 ? kExitPartialFailure : kExitOk;
}

}  // namespace

RunFn add_audit_command(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  auto* cmd = app.add_subcommand(
      "audit",
      "Find exact and near-duplicate images within and across data sets (or the sides "
      "of a split): duplicate groups, groups with conflicting labels, shared images");
  cmd->add_option("data", args->data,
                  "Data sets: folders with a sub-folder per class, or CSV / TSV manifests")
      ->required();
  cmd->add_option("--split", args->split_file,
                  "Split file written by bcd train: audit its train / validation / test sides");
  cmd->add_option("--threshold", args->audit.hamming_threshold,
                  "Largest PHash Hamming distance (of 64 bits) called a near duplicate")
      ->check(CLI::Range(0, 32))
      ->capture_default_str();
  cmd->add_flag("--no-crops", args->no_crops,
                "Compare whole images only (faster; misses copies cropped by a few percent)");
  cmd->add_flag("--fail-on-shared", args->fail_on_shared,
                "Exit with 1 when any image appears in two sets (for CI)");
  cmd->add_option("-o,--output", args->output, "Write the JSON report here instead of stdout");
  cmd->add_option("--html", args->html, "Also write an HTML page with the pairs side by side");
  cmd->add_option("--threads", args->audit.threads, "Decoding threads (0: one per core)")
      ->envname("BCD_THREADS")
      ->check(CLI::Range(0, kMaxThreads))
      ->capture_default_str();
  eval::add_manifest_options(*cmd, args->manifest, args->separator);
  return [args] { return run_audit(*args); };
}

}  // namespace bcd::cli
