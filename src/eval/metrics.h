#pragma once
// Diagnostic-accuracy metrics computed from a model's class probabilities on a
// labelled set: confusion matrix, classification report, malignant-vs-rest
// sensitivity / specificity / PPV / NPV, ROC AUC, bootstrap confidence
// intervals and calibration. Torch-free and deterministic for a given seed.
//
// Conventions: an undefined ratio (0/0) is std::nullopt here and null in JSON,
// never 0. Class ids are the model's; the positive class of the binary metrics
// is named explicitly (by default "malignant").

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bcd::eval {

using Ratio = std::optional<double>;

/// A model's probabilities on a labelled set, everything in model class ids.
struct ScoredSet {
  std::vector<std::string> class_names;            // model labels, by id
  std::vector<int> truth;                          // true class id of each sample
  std::vector<std::vector<double>> probabilities;  // [sample][class id]
  /// Class ids the data set can contain (sorted). A prediction outside them is
  /// "foreign" (e.g. "normal" on a benign / malignant set). Empty: all classes.
  std::vector<int> dataset_classes;

  std::size_t size() const { return truth.size(); }
  /// dataset_classes, or every class id when it is empty.
  std::vector<int> classes_in_data() const;
};

/// Throws InputError unless every sample has one score per class and a valid id.
void validate_scored_set(const ScoredSet& set);

/// Predicted class of each sample: the argmax, ties to the lower id (as
/// Prediction::ranked orders them).
std::vector<int> argmax_predictions(const ScoredSet& set);

/// counts[true][predicted] over n_classes x n_classes.
struct ConfusionMatrix {
  std::vector<std::vector<std::int64_t>> counts;
};
ConfusionMatrix confusion_matrix(const std::vector<int>& truth, const std::vector<int>& predicted,
                                 int n_classes);

struct ClassMetrics {
  Ratio precision, recall, f1;
  std::int64_t support = 0;
};

/// sklearn's classification_report(output_dict=True) restricted to `classes`,
/// except that 0/0 is undefined rather than 0, and averages skip undefined
/// entries (like sklearn's zero_division=np.nan): "macro avg" is their plain
/// mean, "weighted avg" their support-weighted mean.
struct ClassificationReport {
  std::vector<int> classes;
  std::vector<ClassMetrics> per_class;  // parallel to classes
  Ratio accuracy;                       // correct / all samples counted in the matrix
  ClassMetrics macro_avg, weighted_avg;
};
ClassificationReport classification_report(const ConfusionMatrix& matrix,
                                           const std::vector<int>& classes);

/// 2x2 table and its ratios; positive = the positive class (malignant).
struct BinaryMetrics {
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  Ratio sensitivity, specificity, ppv, npv;
};
BinaryMetrics binary_metrics(const std::vector<bool>& truth_positive,
                             const std::vector<bool>& predicted_positive);

/// ROC curve as sklearn.metrics.roc_curve(drop_intermediate=True) gives it;
/// thresholds[0] is +infinity (the "nothing is positive" point).
struct RocCurve {
  std::vector<double> fpr, tpr, thresholds;
};
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive);

/// Area under the ROC curve, ties counted one half (the Mann-Whitney U form,
/// equal to sklearn's roc_auc_score). Undefined without both classes present.
Ratio roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

/// A 95% percentile-bootstrap interval. Resamples where the statistic is
/// undefined (e.g. AUC of a resample with one class only) are skipped and
/// counted out of n_resamples.
struct Interval {
  Ratio estimate, low, high;
  int n_resamples = 0;
  int n_defined = 0;
};

/// Linear-interpolation percentile of a sorted sample (numpy's default method).
double percentile_sorted(const std::vector<double>& sorted, double q);

/// Draws resample index sets reproducibly: std::mt19937_64(seed), index =
/// draw % n (bias below n / 2^64, negligible), so results are the same on
/// every platform and standard library.
std::vector<std::vector<int>> bootstrap_indices(int n_samples, int n_resamples, std::uint64_t seed);

/// Expected calibration error over equal-width bins of the top-class
/// probability (Guo et al. 2017): bin b holds confidences in (b/B, (b+1)/B]
/// (the first also holds 0); ECE = sum_b n_b / n * |accuracy_b - confidence_b|.
struct CalibrationBin {
  double lower = 0, upper = 0;
  std::int64_t count = 0;
  Ratio mean_confidence, accuracy;
};
struct Calibration {
  Ratio ece;
  Ratio max_calibration_error;
  std::vector<CalibrationBin> bins;
};
Calibration calibration(const std::vector<double>& confidence, const std::vector<bool>& correct,
                        int n_bins = 15);

struct MetricsOptions {
  std::string positive_class = "malignant";
  double threshold = 0.5;  // P(positive) >= threshold is called positive
  int n_bootstrap = 1000;  // 0 turns the intervals off
  std::uint64_t seed = 42;
  int n_calibration_bins = 15;
};

/// Every metric of the evaluation report, as JSON (layout in docs/evaluation.md).
nlohmann::ordered_json compute_metrics(const ScoredSet& set, const MetricsOptions& options);

/// JSON helpers: a Ratio as a number or null; a report in the model card's form
/// ({"benign": {"precision", "recall", "f1_score", "support"}, ..., "accuracy",
/// "macro avg", "weighted avg"}).
nlohmann::ordered_json ratio_json(const Ratio& value);
nlohmann::ordered_json report_json(const ClassificationReport& report,
                                   const std::vector<std::string>& class_names);

}  // namespace bcd::eval
