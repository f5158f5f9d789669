#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include "common/errors.h"

namespace bcd::eval {
namespace {

Ratio divide(double numerator, double denominator) {
  if (denominator == 0) return std::nullopt;
  return numerator / denominator;
}

/// Average of the defined entries, weighted; undefined when none is defined.
Ratio nan_average(const std::vector<Ratio>& values, const std::vector<double>& weights) {
  double sum = 0, weight_sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    sum += *values[i] * weights[i];
    weight_sum += weights[i];
  }
  if (weight_sum == 0) return std::nullopt;
  return sum / weight_sum;
}

ClassMetrics average_metrics(const std::vector<ClassMetrics>& rows, bool by_support) {
  std::vector<Ratio> p, r, f;
  std::vector<double> weights;
  ClassMetrics out;
  for (const auto& row : rows) {
    p.push_back(row.precision);
    r.push_back(row.recall);
    f.push_back(row.f1);
    weights.push_back(by_support ? static_cast<double>(row.support) : 1.0);
    out.support += row.support;
  }
  out.precision = nan_average(p, weights);
  out.recall = nan_average(r, weights);
  out.f1 = nan_average(f, weights);
  return out;
}

}  // namespace

void validate_scored_set(const ScoredSet& set) {
  const std::size_t n_classes = set.class_names.size();
  if (set.probabilities.size() != set.truth.size()) {
    throw InputError("metrics: expected one probability row per sample, found " +
                     std::to_string(set.probabilities.size()) + " rows for " +
                     std::to_string(set.truth.size()) + " samples");
  }
  for (std::size_t i = 0; i < set.size(); ++i) {
    if (set.probabilities[i].size() != n_classes || set.truth[i] < 0 ||
        set.truth[i] >= static_cast<int>(n_classes)) {
      throw InputError("metrics: sample " + std::to_string(i) + " has " +
                       std::to_string(set.probabilities[i].size()) + " scores and class id " +
                       std::to_string(set.truth[i]) + "; expected " + std::to_string(n_classes) +
                       " scores and an id below that");
    }
    for (const double p : set.probabilities[i]) {
      if (!std::isfinite(p)) {
        throw InputError("metrics: sample " + std::to_string(i) +
                         " has a score that is NaN or infinite; expected probabilities (a model "
                         "whose weights hold NaN, for example after training diverged)");
      }
    }
  }
}

std::vector<int> ScoredSet::classes_in_data() const {
  if (!dataset_classes.empty()) return dataset_classes;
  std::vector<int> all(class_names.size());
  std::iota(all.begin(), all.end(), 0);
  return all;
}

std::vector<int> argmax_predictions(const ScoredSet& set) {
  std::vector<int> predicted;
  predicted.reserve(set.size());
  for (const auto& row : set.probabilities) {
    predicted.push_back(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
  }
  return predicted;
}

ConfusionMatrix confusion_matrix(const std::vector<int>& truth, const std::vector<int>& predicted,
                                 int n_classes) {
  ConfusionMatrix m;
  m.counts.assign(n_classes, std::vector<std::int64_t>(n_classes, 0));
  for (std::size_t i = 0; i < truth.size(); ++i) ++m.counts.at(truth[i]).at(predicted[i]);
  return m;
}

ClassificationReport classification_report(const ConfusionMatrix& matrix,
                                           const std::vector<int>& classes) {
  const auto& m = matrix.counts;
  ClassificationReport report;
  report.classes = classes;
  std::int64_t total = 0, correct = 0;
  for (std::size_t t = 0; t < m.size(); ++t) {
    correct += m[t][t];
    total += std::accumulate(m[t].begin(), m[t].end(), std::int64_t{0});
  }
  for (int c : classes) {
    std::int64_t predicted = 0;
    for (const auto& row : m) predicted += row[c];
    ClassMetrics row;
    row.support = std::accumulate(m[c].begin(), m[c].end(), std::int64_t{0});
    const double tp = static_cast<double>(m[c][c]);
    row.precision = divide(tp, static_cast<double>(predicted));
    row.recall = divide(tp, static_cast<double>(row.support));
    // F1 = 2TP / (2TP + FP + FN): the harmonic mean, defined whenever the class
    // was either present or predicted.
    row.f1 = divide(2 * tp, static_cast<double>(predicted + row.support));
    report.per_class.push_back(row);
  }
  report.accuracy = divide(static_cast<double>(correct), static_cast<double>(total));
  report.macro_avg = average_metrics(report.per_class, false);
  report.weighted_avg = average_metrics(report.per_class, true);
  return report;
}

BinaryMetrics binary_metrics(const std::vector<bool>& truth_positive,
                             const std::vector<bool>& predicted_positive) {
  BinaryMetrics b;
  for (std::size_t i = 0; i < truth_positive.size(); ++i) {
    const bool t = truth_positive[i], p = predicted_positive[i];
    if (t && p) ++b.tp;
    if (!t && p) ++b.fp;
    if (!t && !p) ++b.tn;
    if (t && !p) ++b.fn;
  }
  const auto d = [](std::int64_t x) { return static_cast<double>(x); };
  b.sensitivity = divide(d(b.tp), d(b.tp + b.fn));
  b.specificity = divide(d(b.tn), d(b.tn + b.fp));
  b.ppv = divide(d(b.tp), d(b.tp + b.fp));
  b.npv = divide(d(b.tn), d(b.tn + b.fn));
  return b;
}

/// NaN compares unequal to itself, which would stall the tie grouping below.
static void require_finite(const std::vector<double>& scores, const char* where) {
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) {
      throw InputError(std::string(where) + ": score " + std::to_string(i) +
                       " is NaN or infinite; expected finite scores");
    }
  }
}

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require_finite(scores, "roc_curve");
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });

  // One point per distinct score, cumulative counts above and at it.
  std::vector<double> tps, fps, thresholds;
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < n; ++k) {
    (positive[order[k]] ? tp : fp) += 1;
    if (k + 1 == n || scores[order[k + 1]] != scores[order[k]]) {
      tps.push_back(tp);
      fps.push_back(fp);
      thresholds.push_back(scores[order[k]]);
    }
  }
  RocCurve curve;
  if (tp == 0 || fp == 0) return curve;

  // Keep the corners only: drop points collinear with both neighbours.
  curve.fpr.push_back(0);
  curve.tpr.push_back(0);
  curve.thresholds.push_back(std::numeric_limits<double>::infinity());
  for (std::size_t k = 0; k < tps.size(); ++k) {
    const bool inner = k > 0 && k + 1 < tps.size();
    if (inner && fps[k + 1] - 2 * fps[k] + fps[k - 1] == 0 &&
        tps[k + 1] - 2 * tps[k] + tps[k - 1] == 0) {
      continue;
    }
    curve.fpr.push_back(fps[k] / fp);
    curve.tpr.push_back(tps[k] / tp);
    curve.thresholds.push_back(thresholds[k]);
  }
  return curve;
}

Ratio roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require_finite(scores, "roc_auc");
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });

  // Sum of the (tie-averaged, 1-based) ranks of the positives.
  double rank_sum = 0, n_pos = 0;
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    while (end < n && scores[order[end]] == scores[order[start]]) ++end;
    const double mean_rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2;
    for (std::size_t k = start; k < end; ++k) {
      if (positive[order[k]]) {
        rank_sum += mean_rank;
        n_pos += 1;
      }
    }
    start = end;
  }
  const double n_neg = static_cast<double>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) throw InputError("percentile of an empty sample");
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

std::vector<std::vector<int>> bootstrap_indices(int n_samples, int n_resamples,
                                                std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<int>> all(n_resamples, std::vector<int>(n_samples));
  for (auto& indices : all) {
    for (auto& index : indices) {
      index = static_cast<int>(rng() % static_cast<std::uint64_t>(n_samples));
    }
  }
  return all;
}

Calibration calibration(const std::vector<double>& confidence, const std::vector<bool>& correct,
                        int n_bins) {
  std::vector<double> sum_conf(n_bins, 0), sum_correct(n_bins, 0);
  std::vector<std::int64_t> counts(n_bins, 0);
  for (std::size_t i = 0; i < confidence.size(); ++i) {
    const int bin =
        std::clamp(static_cast<int>(std::ceil(confidence[i] * n_bins)) - 1, 0, n_bins - 1);
    ++counts[bin];
    sum_conf[bin] += confidence[i];
    sum_correct[bin] += correct[i] ? 1 : 0;
  }
  Calibration c;
  const double n = static_cast<double>(confidence.size());
  double ece = 0, mce = 0;
  for (int b = 0; b < n_bins; ++b) {
    CalibrationBin bin{static_cast<double>(b) / n_bins, static_cast<double>(b + 1) / n_bins,
                       counts[b], divide(sum_conf[b], static_cast<double>(counts[b])),
                       divide(sum_correct[b], static_cast<double>(counts[b]))};
    if (counts[b] > 0) {
      const double gap = std::abs(*bin.accuracy - *bin.mean_confidence);
      ece += static_cast<double>(counts[b]) / n * gap;
      mce = std::max(mce, gap);
    }
    c.bins.push_back(bin);
  }
  if (n > 0) {
    c.ece = ece;
    c.max_calibration_error = mce;
  }
  return c;
}

nlohmann::ordered_json ratio_json(const Ratio& value) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return *value;
}

namespace {

nlohmann::ordered_json class_metrics_json(const ClassMetrics& m) {
  return {{"precision", ratio_json(m.precision)},
          {"recall", ratio_json(m.recall)},
          {"f1_score", ratio_json(m.f1)},
          {"support", m.support}};
}

}  // namespace

nlohmann::ordered_json report_json(const ClassificationReport& report,
                                   const std::vector<std::string>& class_names) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (std::size_t k = 0; k < report.classes.size(); ++k) {
    j[class_names.at(report.classes[k])] = class_metrics_json(report.per_class[k]);
  }
  j["accuracy"] = ratio_json(report.accuracy);
  j["macro avg"] = class_metrics_json(report.macro_avg);
  j["weighted avg"] = class_metrics_json(report.weighted_avg);
  return j;
}

}  // namespace bcd::eval
