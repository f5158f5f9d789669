#pragma once
// The result of evaluating a model on a labelled set: one row per file (scores
// or the reason it failed) and the report built from them. Torch-free: the
// rows come from evaluate() (evaluate.h) or from a test.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "eval/manifest.h"
#include "eval/metrics.h"

namespace bcd::eval {

/// One file of the data set.
struct ImageResult {
  std::string path;
  std::string true_label;  // as the data set names it
  int line = 0;            // manifest line, 0 for folder data sets
  int true_id = -1;        // model class id the label maps onto
  bool ok = false;
  std::string error;                  // why it failed (when !ok)
  std::vector<double> probabilities;  // by model class id (when ok)
  int predicted_id = -1;
};

struct Evaluation {
  std::string model_dir;
  std::string data;  // what was evaluated, as given on the command line
  std::vector<std::string> model_labels;
  std::vector<ImageResult> rows;
  nlohmann::ordered_json report;  // filled by build_report()
};

/// Parses "a=b,c=d" (data set label = model label). Throws InputError on an
/// entry without '=' or with an empty side.
std::map<std::string, std::string> parse_label_map(const std::string& text);

/// Model class id for a data set label: --label-map first, then the model
/// label with the same name ignoring case. Throws InputError listing the
/// model's labels and suggesting --label-map.
int model_class_for(const std::string& dataset_label, const std::vector<std::string>& model_labels,
                    const std::map<std::string, std::string>& label_map);

/// Rows for `files` with labels mapped onto the model's (see model_class_for);
/// scores still empty. Throws InputError on a label the model lacks.
std::vector<ImageResult> prepare_rows(const std::vector<LabelledFile>& files,
                                      const std::vector<std::string>& model_labels,
                                      const std::map<std::string, std::string>& label_map);

/// Computes every metric over the rows that were scored and fills
/// evaluation.report: the metrics of compute_metrics plus the model, the
/// data, the counts and the list of failed rows.
void build_report(Evaluation& evaluation, const MetricsOptions& options);

/// Per-image CSV: path, true label, a score column per model label, predicted
/// label, correct, error (RFC 4180 quoting).
std::string predictions_csv(const Evaluation& evaluation);

/// Wrongly classified rows, most confident mistake first, at most `n`.
std::vector<const ImageResult*> worst_mistakes(const Evaluation& evaluation, std::size_t n);

}  // namespace bcd::eval
