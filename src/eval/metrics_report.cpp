// compute_metrics: assembles every metric of the evaluation report as JSON.

#include <algorithm>
#include <functional>

#include "common/text.h"
#include "eval/metrics.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;
using Statistic = std::function<Ratio(const std::vector<int>&)>;

bool in_classes(const std::vector<int>& classes, int id) {
  return std::find(classes.begin(), classes.end(), id) != classes.end();
}

/// Everything a statistic needs, computed once from the full set.
struct Context {
  const ScoredSet& set;
  std::vector<int> predicted;
  std::vector<int> classes;
  int positive = -1;
};

Json binary_json(const BinaryMetrics& b) {
  return {{"sensitivity", ratio_json(b.sensitivity)},
          {"specificity", ratio_json(b.specificity)},
          {"ppv", ratio_json(b.ppv)},
          {"npv", ratio_json(b.npv)},
          {"tp", b.tp},
          {"fp", b.fp},
          {"tn", b.tn},
          {"fn", b.fn}};
}

Json curve_json(const RocCurve& curve) {
  Json thresholds = Json::array();
  for (double t : curve.thresholds) thresholds.push_back(ratio_json(t));  // +inf -> null
  return {{"fpr", curve.fpr}, {"tpr", curve.tpr}, {"thresholds", thresholds}};
}

std::vector<double> column(const ScoredSet& set, int class_id, const std::vector<int>& rows) {
  std::vector<double> scores;
  scores.reserve(rows.size());
  for (int i : rows) scores.push_back(set.probabilities[i][class_id]);
  return scores;
}

std::vector<bool> is_class(const ScoredSet& set, int class_id, const std::vector<int>& rows) {
  std::vector<bool> out;
  out.reserve(rows.size());
  for (int i : rows) out.push_back(set.truth[i] == class_id);
  return out;
}

std::vector<int> all_rows(std::size_t n) {
  std::vector<int> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = static_cast<int>(i);
  return rows;
}

// --- statistics evaluated on a list of row indices (the full set or a resample)

Ratio accuracy_on(const Context& c, const std::vector<int>& rows, bool set_aside) {
  double correct = 0, counted = 0;
  for (int i : rows) {
    if (set_aside && !in_classes(c.classes, c.predicted[i])) continue;
    counted += 1;
    correct += c.predicted[i] == c.set.truth[i] ? 1 : 0;
  }
  if (counted == 0) return std::nullopt;
  return correct / counted;
}

Ratio recall_on(const Context& c, const std::vector<int>& rows, int class_id, bool set_aside) {
  double hits = 0, support = 0;
  for (int i : rows) {
    if (c.set.truth[i] != class_id) continue;
    if (set_aside && !in_classes(c.classes, c.predicted[i])) continue;
    support += 1;
    hits += c.predicted[i] == class_id ? 1 : 0;
  }
  if (support == 0) return std::nullopt;
  return hits / support;
}

Ratio positive_auc_on(const Context& c, const std::vector<int>& rows) {
  return roc_auc(column(c.set, c.positive, rows), is_class(c.set, c.positive, rows));
}

Json interval_json(const Interval& iv) {
  return {{"estimate", ratio_json(iv.estimate)},
          {"low", ratio_json(iv.low)},
          {"high", ratio_json(iv.high)},
          {"n_resamples", iv.n_resamples},
          {"n_defined", iv.n_defined}};
}

Interval bootstrap_interval(const Statistic& statistic, std::size_t n,
                            const std::vector<std::vector<int>>& resamples) {
  Interval iv;
  iv.estimate = statistic(all_rows(n));
  iv.n_resamples = static_cast<int>(resamples.size());
  std::vector<double> values;
  for (const auto& rows : resamples) {
    if (const Ratio v = statistic(rows)) values.push_back(*v);
  }
  iv.n_defined = static_cast<int>(values.size());
  if (values.empty()) return iv;
  std::sort(values.begin(), values.end());
  iv.low = percentile_sorted(values, 2.5);
  iv.high = percentile_sorted(values, 97.5);
  return iv;
}

Json bootstrap_json(const Context& c, const MetricsOptions& options) {
  const std::size_t n = c.set.size();
  const auto resamples = bootstrap_indices(static_cast<int>(n), options.n_bootstrap, options.seed);
  const auto interval = [&](const Statistic& s) {
    return interval_json(bootstrap_interval(s, n, resamples));
  };
  Json j = {{"method", "percentile, 95% (2.5th and 97.5th percentiles)"},
            {"n_resamples", options.n_bootstrap},
            {"seed", options.seed}};
  j["accuracy"] = interval([&](const std::vector<int>& r) { return accuracy_on(c, r, true); });
  j["accuracy_strict"] =
      interval([&](const std::vector<int>& r) { return accuracy_on(c, r, false); });
  for (const bool set_aside : {true, false}) {
    Json recalls = Json::object();
    for (int k : c.classes) {
      recalls[c.set.class_names[k]] =
          interval([&](const std::vector<int>& r) { return recall_on(c, r, k, set_aside); });
    }
    j[set_aside ? "recall" : "recall_strict"] = recalls;
  }
  j["malignancy_auc"] = nullptr;
  if (c.positive >= 0) {
    j["malignancy_auc"] =
        interval([&](const std::vector<int>& r) { return positive_auc_on(c, r); });
  }
  return j;
}

// --- report sections

Json confusion_json(const Context& c) {
  const auto m =
      confusion_matrix(c.set.truth, c.predicted, static_cast<int>(c.set.class_names.size()));
  return {{"labels", c.set.class_names},
          {"rows", "true class"},
          {"columns", "predicted class"},
          {"matrix", m.counts}};
}

Json reports_json(const Context& c) {
  const int n_classes = static_cast<int>(c.set.class_names.size());
  std::vector<int> truth_kept, predicted_kept;
  Json foreign = Json::object();
  std::int64_t n_foreign = 0;
  for (std::size_t i = 0; i < c.set.size(); ++i) {
    if (in_classes(c.classes, c.predicted[i])) {
      truth_kept.push_back(c.set.truth[i]);
      predicted_kept.push_back(c.predicted[i]);
      continue;
    }
    ++n_foreign;
    const auto& name = c.set.class_names[c.predicted[i]];
    foreign[name] = foreign.value(name, 0) + 1;
  }
  const auto set_aside =
      classification_report(confusion_matrix(truth_kept, predicted_kept, n_classes), c.classes);
  const auto strict =
      classification_report(confusion_matrix(c.set.truth, c.predicted, n_classes), c.classes);
  return {
      {"classification_report", report_json(set_aside, c.set.class_names)},
      {"classification_report_strict", report_json(strict, c.set.class_names)},
      {"set_aside",
       {{"count", n_foreign}, {"by_predicted_class", foreign}, {"n_counted", truth_kept.size()}}}};
}

Json malignancy_json(const Context& c, const MetricsOptions& options) {
  if (c.positive < 0) return nullptr;
  const auto rows = all_rows(c.set.size());
  const auto truth = is_class(c.set, c.positive, rows);
  const auto scores = column(c.set, c.positive, rows);
  std::vector<bool> by_argmax, by_threshold;
  for (std::size_t i = 0; i < c.set.size(); ++i) {
    by_argmax.push_back(c.predicted[i] == c.positive);
    by_threshold.push_back(scores[i] >= options.threshold);
  }
  Json at_threshold = binary_json(binary_metrics(truth, by_threshold));
  at_threshold["threshold"] = options.threshold;
  return {{"positive_class", c.set.class_names[c.positive]},
          {"argmax", binary_json(binary_metrics(truth, by_argmax))},
          {"at_threshold", at_threshold},
          {"auc", ratio_json(roc_auc(scores, truth))},
          {"roc", curve_json(roc_curve(scores, truth))}};
}

Json per_class_roc_json(const Context& c) {
  const auto rows = all_rows(c.set.size());
  Json auc = Json::object(), curves = Json::object();
  for (int k : c.classes) {
    const auto scores = column(c.set, k, rows);
    const auto truth = is_class(c.set, k, rows);
    auc[c.set.class_names[k]] = ratio_json(roc_auc(scores, truth));
    curves[c.set.class_names[k]] = curve_json(roc_curve(scores, truth));
  }
  return {{"roc_auc", auc}, {"roc_curves", curves}};
}

Json calibration_json(const Context& c, int n_bins) {
  std::vector<double> confidence;
  std::vector<bool> correct;
  for (std::size_t i = 0; i < c.set.size(); ++i) {
    confidence.push_back(c.set.probabilities[i][c.predicted[i]]);
    correct.push_back(c.predicted[i] == c.set.truth[i]);
  }
  const Calibration cal = calibration(confidence, correct, n_bins);
  Json bins = Json::array();
  for (const auto& b : cal.bins) {
    bins.push_back({{"lower", b.lower},
                    {"upper", b.upper},
                    {"count", b.count},
                    {"mean_confidence", ratio_json(b.mean_confidence)},
                    {"accuracy", ratio_json(b.accuracy)}});
  }
  return {{"method", "top-class probability, " + std::to_string(n_bins) +
                         " equal-width bins, all samples (strict)"},
          {"ece", ratio_json(cal.ece)},
          {"mce", ratio_json(cal.max_calibration_error)},
          {"bins", bins}};
}

}  // namespace

Json compute_metrics(const ScoredSet& set, const MetricsOptions& options) {
  validate_scored_set(set);
  const Context c{set, argmax_predictions(set), set.classes_in_data(),
                  find_ignoring_case(set.class_names, options.positive_class)};
  Json j = {{"n_samples", set.size()}};
  Json names = Json::array();
  for (int k : c.classes) names.push_back(set.class_names[k]);
  j["dataset_classes"] = names;
  const Json reports = reports_json(c);
  for (const auto& [key, value] : reports.items()) j[key] = value;
  j["confusion_matrix"] = confusion_json(c);
  j["malignancy"] = malignancy_json(c, options);
  const Json roc = per_class_roc_json(c);
  for (const auto& [key, value] : roc.items()) j[key] = value;
  j["calibration"] = calibration_json(c, options.n_calibration_bins);
  if (options.n_bootstrap > 0 && set.size() > 0) j["bootstrap"] = bootstrap_json(c, options);
  return j;
}

}  // namespace bcd::eval
