// `bcd evaluate`: a model measured on a labelled data set, with everything a
// reader of a diagnostic-accuracy paper expects (docs/evaluation.md).

#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "common/errors.h"
#include "common/files.h"
#include "common/log.h"
#include "common/text.h"
#include "eval/cli_options.h"
#include "eval/data_source.h"
#include "eval/evaluate.h"
#include "eval/html.h"

namespace bcd::cli {
namespace {

struct EvaluateArgs {
  std::string model_dir, data, label_map, output, html, predictions, separator;
  eval::DataSourceOptions source;
  eval::MetricsOptions metrics;
  int batch_size = 16;
  int threads = 0;
};

/// A misspelt --positive-class would silently drop every malignancy metric: refuse it
/// before any image is scored.
void require_positive_class(const std::string& wanted, const std::vector<std::string>& labels) {
  if (find_ignoring_case(labels, wanted) >= 0) return;
  throw InputError("--positive-class: the model has no label '" + wanted + "'; its labels are " +
                   join_names(labels));
}

void write_outputs(const eval::Evaluation& evaluation, const EvaluateArgs& args) {
  const std::string json = evaluation.report.dump(2) + "\n";
  if (args.output.empty()) {
    write_stdout(json);
  } else {
    write_file_atomic(args.output, json);
    spdlog::info("report written to {}", args.output);
  }
  if (!args.predictions.empty()) {
    write_file_atomic(args.predictions, eval::predictions_csv(evaluation));
    spdlog::info("per-image predictions written to {}", args.predictions);
  }
  if (!args.html.empty()) {
    write_file_atomic(args.html, eval::render_evaluation_html(evaluation));
    spdlog::info("HTML report written to {}", args.html);
  }
}

void log_summary(const nlohmann::ordered_json& r) {
  const auto text = [](const nlohmann::ordered_json& v) {
    return v.is_number() ? fmt::format("{:.3f}", v.get<double>()) : std::string("undefined");
  };
  spdlog::info("{} images evaluated: accuracy {} (strict {}), {} predictions set aside",
               r["n_evaluated"].get<std::size_t>(), text(r["classification_report"]["accuracy"]),
               text(r["classification_report_strict"]["accuracy"]),
               r["set_aside"]["count"].get<std::size_t>());
  if (!r["malignancy"].is_null()) spdlog::info("malignancy AUC {}", text(r["malignancy"]["auc"]));
}

int run_evaluate(EvaluateArgs args) {
  if (!args.separator.empty())
    args.source.manifest.separator = eval::parse_separator(args.separator);
  const auto label_map = eval::parse_label_map(args.label_map);
  const auto files = eval::load_labelled_files(args.data, args.source);
  if (files.empty()) throw InputError(args.data + ": no labelled images to evaluate");

  ClassifierOptions options;
  options.threads = args.threads;
  options.max_batch_size = args.batch_size;
  const auto classifier = Classifier::load(args.model_dir, options);

  eval::Evaluation evaluation;
  evaluation.model_dir = args.model_dir;
  evaluation.data = args.data;
  evaluation.model_labels = classifier->labels();
  require_positive_class(args.metrics.positive_class, evaluation.model_labels);
  evaluation.rows = eval::prepare_rows(files, evaluation.model_labels, label_map);

  Progress progress("evaluate", evaluation.rows.size());
  std::size_t reported = 0;
  eval::score_rows(*classifier, evaluation.rows, args.batch_size, [&](std::size_t done) {
    progress.advance(done - reported);
    reported = done;
  });
  progress.finish();

  eval::build_report(evaluation, args.metrics);
  write_outputs(evaluation, args);
  log_summary(evaluation.report);
  const auto n_failed = evaluation.report["n_failed"].get<std::size_t>();
  if (n_failed == 0) return kExitOk;
  spdlog::error("{} of {} files could not be evaluated (listed under \"failed\")", n_failed,
                files.size());
  return kExitPartialFailure;
}

}  // namespace

RunFn add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* cmd =
      app.add_subcommand("evaluate",
                         "Measure a model on a labelled data set: classification report, confusion "
                         "matrix, sensitivity / specificity / PPV / NPV, ROC AUC, bootstrap 95% "
                         "intervals and calibration, as JSON (and optionally HTML and CSV)");
  add_model_option(*cmd, args->model_dir);
  cmd->add_option("data", args->data,
                  "A folder with a sub-folder per class, or a CSV / TSV manifest")
      ->required();
  cmd->add_option("--split", args->source.split_file,
                  "Split file written by bcd train: evaluate one side of it (folder data only)");
  cmd->add_option("--side", args->source.side, "Side of the split to evaluate")
      ->check(CLI::IsMember({"train", "validation", "test"}))
      ->capture_default_str();
  cmd->add_option("--label-map", args->label_map,
                  "Data set label = model label pairs, e.g. 'malign=malignant,benigne=benign'");
  cmd->add_option("--positive-class", args->metrics.positive_class,
                  "Model label treated as positive for sensitivity, specificity, PPV, NPV")
      ->capture_default_str();
  cmd->add_option("--threshold", args->metrics.threshold,
                  "Call an image positive when P(positive class) >= this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--bootstrap", args->metrics.n_bootstrap,
                  "Bootstrap resamples for the 95% intervals (0: none)")
      ->check(at_least(0))
      ->capture_default_str();
  cmd->add_option("--seed", args->metrics.seed, "Seed of the bootstrap")->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Write the JSON report here instead of stdout");
  cmd->add_option("--html", args->html, "Also write a self-contained HTML report here");
  cmd->add_option("--predictions", args->predictions, "Also write per-image scores as CSV here");
  eval::add_manifest_options(*cmd, args->source.manifest, args->separator);
  add_batch_size_option(*cmd, args->batch_size);
  add_threads_option(*cmd, args->threads);
  return [args] { return run_evaluate(*args); };
}

}  // namespace bcd::cli
