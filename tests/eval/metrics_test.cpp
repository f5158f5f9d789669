// Metrics against a hand-worked case and against scikit-learn fixtures
// (tests/fixtures/eval/metrics_sklearn.json, made by tools/make_eval_fixtures.py).

#include <gtest/gtest.h>

#include <limits>

#include <fstream>

#include "common/errors.h"
#include "eval/metrics.h"

namespace {

using bcd::eval::ScoredSet;
using Json = nlohmann::ordered_json;

constexpr double kExact = 1e-12;  // same formula, double rounding only

ScoredSet tiny_set() {
  ScoredSet s;
  s.class_names = {"benign", "malignant", "normal"};
  s.truth = {0, 0, 1, 1, 1, 2};
  s.probabilities = {{0.7, 0.2, 0.1}, {0.3, 0.6, 0.1}, {0.2, 0.7, 0.1},
                     {0.5, 0.4, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}};
  return s;
}

Json load_fixture() {
  std::ifstream in(std::string(BCD_SOURCE_DIR) + "/tests/fixtures/eval/metrics_sklearn.json");
  EXPECT_TRUE(in) << "missing fixture; run /usr/bin/python3 tools/make_eval_fixtures.py";
  return Json::parse(in);
}

ScoredSet fixture_set(const Json& fixture, const Json& c) {
  ScoredSet s;
  s.class_names = fixture["class_names"].get<std::vector<std::string>>();
  s.truth = c["truth"].get<std::vector<int>>();
  s.probabilities = c["probabilities"].get<std::vector<std::vector<double>>>();
  return s;
}

void expect_report_near(const Json& expected, const Json& actual) {
  ASSERT_EQ(expected.size(), actual.size()) << actual.dump();
  for (const auto& [key, value] : expected.items()) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(actual.contains(key));
    if (!value.is_object()) {
      EXPECT_NEAR(value.get<double>(), actual[key].get<double>(), kExact);
      continue;
    }
    for (const char* field : {"precision", "recall", "f1_score"}) {
      EXPECT_NEAR(value[field].get<double>(), actual[key][field].get<double>(), kExact) << field;
    }
    EXPECT_EQ(value["support"].get<int>(), actual[key]["support"].get<int>());
  }
}

TEST(Metrics, HandWorkedClassificationReport) {
  const auto s = tiny_set();
  const auto m = bcd::eval::confusion_matrix(s.truth, bcd::eval::argmax_predictions(s), 3);
  EXPECT_EQ(m.counts, (std::vector<std::vector<std::int64_t>>{{1, 1, 0}, {1, 2, 0}, {0, 0, 1}}));

  const auto r = bcd::eval::classification_report(m, {0, 1, 2});
  EXPECT_DOUBLE_EQ(*r.per_class[0].precision, 0.5);
  EXPECT_DOUBLE_EQ(*r.per_class[1].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(*r.per_class[2].f1, 1.0);
  EXPECT_EQ(r.per_class[1].support, 3);
  EXPECT_DOUBLE_EQ(*r.accuracy, 4.0 / 6);
  EXPECT_DOUBLE_EQ(*r.macro_avg.precision, (0.5 + 2.0 / 3 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(*r.weighted_avg.precision, (2 * 0.5 + 3 * 2.0 / 3 + 1 * 1.0) / 6);
  EXPECT_EQ(r.weighted_avg.support, 6);
}

TEST(Metrics, UndefinedRatiosAreNullNotZero) {
  // Class 1 is never present and never predicted: every ratio is 0/0.
  const auto m = bcd::eval::confusion_matrix({0, 0, 2}, {0, 2, 2}, 3);
  const auto r = bcd::eval::classification_report(m, {0, 1, 2});
  EXPECT_FALSE(r.per_class[1].precision.has_value());
  EXPECT_FALSE(r.per_class[1].recall.has_value());
  EXPECT_FALSE(r.per_class[1].f1.has_value());
  // Averages skip the undefined class instead of counting it as 0.
  EXPECT_DOUBLE_EQ(*r.macro_avg.recall, (0.5 + 1.0) / 2);
  const auto j = bcd::eval::report_json(r, {"a", "b", "c"});
  EXPECT_TRUE(j["b"]["precision"].is_null());

  // No positive in truth nor in the predictions: sensitivity and PPV undefined.
  const auto b = bcd::eval::binary_metrics({false, false}, {false, false});
  EXPECT_FALSE(b.sensitivity.has_value());
  EXPECT_FALSE(b.ppv.has_value());
  EXPECT_DOUBLE_EQ(*b.specificity, 1.0);
  EXPECT_DOUBLE_EQ(*b.npv, 1.0);
}

TEST(Metrics, HandWorkedMalignancy) {
  const auto j = bcd::eval::compute_metrics(tiny_set(), {"malignant", 0.4, 0, 1, 15});
  const auto& argmax = j["malignancy"]["argmax"];
  EXPECT_EQ(argmax["tp"], 2);
  EXPECT_EQ(argmax["fp"], 1);
  EXPECT_DOUBLE_EQ(argmax["sensitivity"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(argmax["npv"].get<double>(), 2.0 / 3);
  const auto& at = j["malignancy"]["at_threshold"];
  EXPECT_DOUBLE_EQ(at["sensitivity"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(at["specificity"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(at["ppv"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(at["npv"].get<double>(), 1.0);
  // Positives score 0.7, 0.4, 0.8; negatives 0.2, 0.6, 0.1: 8 of 9 pairs ordered.
  EXPECT_DOUBLE_EQ(j["malignancy"]["auc"].get<double>(), 8.0 / 9);
}

TEST(Metrics, AucCountsTiesAsHalf) {
  EXPECT_DOUBLE_EQ(*bcd::eval::roc_auc({0.4, 0.6, 0.4, 0.2}, {true, true, false, false}), 0.875);
  EXPECT_DOUBLE_EQ(*bcd::eval::roc_auc({0.5, 0.5}, {true, false}), 0.5);
  EXPECT_FALSE(bcd::eval::roc_auc({0.1, 0.9}, {true, true}).has_value());
}

// NaN is unequal to itself: it once stalled the tie grouping of the AUC for good.
TEST(Metrics, NonFiniteScoresAreInputErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(bcd::eval::roc_auc({nan, 0.6, nan}, {true, false, false}), bcd::InputError);
  EXPECT_THROW(bcd::eval::roc_curve({0.1, nan}, {true, false}), bcd::InputError);
  bcd::eval::ScoredSet set;
  set.class_names = {"benign", "malignant"};
  set.truth = {0, 1};
  set.probabilities = {{0.5, 0.5}, {nan, nan}};
  EXPECT_THROW(bcd::eval::compute_metrics(set, {}), bcd::InputError);
}

TEST(Metrics, HandWorkedCalibration) {
  const auto c = bcd::eval::calibration({0.95, 0.95, 0.55, 0.55}, {true, false, true, true}, 15);
  EXPECT_NEAR(*c.ece, 0.5 * 0.45 + 0.5 * 0.45, kExact);
  EXPECT_NEAR(*c.max_calibration_error, 0.45, kExact);
  ASSERT_EQ(c.bins.size(), 15u);
  EXPECT_EQ(c.bins[14].count, 2);
  EXPECT_EQ(c.bins[8].count, 2);
  EXPECT_FALSE(c.bins[0].accuracy.has_value());
}

TEST(Metrics, MatchesSklearnOnMulticlassScores) {
  const Json f = load_fixture();
  const Json& c = f["multiclass"];
  const auto j = bcd::eval::compute_metrics(fixture_set(f, c), {"malignant", 0.5, 0, 1, 15});
  EXPECT_EQ(j["confusion_matrix"]["matrix"], c["confusion_matrix"]);
  expect_report_near(c["classification_report"], j["classification_report"]);
  for (const auto& [name, auc] : c["roc_auc"].items()) {
    EXPECT_NEAR(auc.get<double>(), j["roc_auc"][name].get<double>(), kExact) << name;
  }
  const Json& roc = j["malignancy"]["roc"];
  const auto fpr = roc["fpr"].get<std::vector<double>>();
  ASSERT_EQ(fpr.size(), c["malignant_roc"]["fpr"].size());
  for (std::size_t k = 0; k < fpr.size(); ++k) {
    EXPECT_NEAR(fpr[k], c["malignant_roc"]["fpr"][k].get<double>(), kExact);
    EXPECT_NEAR(roc["tpr"][k].get<double>(), c["malignant_roc"]["tpr"][k].get<double>(), kExact);
    if (k > 0) {
      EXPECT_NEAR(roc["thresholds"][k].get<double>(),
                  c["malignant_roc"]["thresholds"][k - 1].get<double>(), kExact);
    }
  }
  EXPECT_TRUE(roc["thresholds"][0].is_null());
  EXPECT_NEAR(j["calibration"]["ece"].get<double>(), c["ece"].get<double>(), kExact);
}

TEST(Metrics, SetAsideAndStrictMatchSklearnOnTwoClassData) {
  const Json f = load_fixture();
  const Json& c = f["subset"];
  auto s = fixture_set(f, c);
  s.dataset_classes = {0, 1};
  const auto j = bcd::eval::compute_metrics(s, {"malignant", 0.5, 0, 1, 15});
  EXPECT_EQ(j["set_aside"]["count"], c["n_set_aside"]);
  EXPECT_EQ(j["set_aside"]["by_predicted_class"]["normal"], c["n_set_aside"]);
  expect_report_near(c["classification_report"], j["classification_report"]);
  expect_report_near(c["classification_report_strict"], j["classification_report_strict"]);
  EXPECT_NEAR(j["malignancy"]["auc"].get<double>(), c["malignancy_auc"].get<double>(), kExact);
  EXPECT_FALSE(j["roc_auc"].contains("normal"));
}

TEST(Bootstrap, PercentileMatchesNumpyLinearMethod) {
  EXPECT_DOUBLE_EQ(bcd::eval::percentile_sorted({1, 2, 3, 4}, 25), 1.75);
  EXPECT_DOUBLE_EQ(bcd::eval::percentile_sorted({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 97.5), 8.775);
  EXPECT_DOUBLE_EQ(bcd::eval::percentile_sorted({3}, 2.5), 3.0);
}

TEST(Bootstrap, SeededAndReproducible) {
  const auto a = bcd::eval::bootstrap_indices(50, 20, 7);
  EXPECT_EQ(a, bcd::eval::bootstrap_indices(50, 20, 7));
  EXPECT_NE(a, bcd::eval::bootstrap_indices(50, 20, 8));
  for (const auto& rows : a) {
    for (int i : rows) ASSERT_TRUE(i >= 0 && i < 50);
  }
  const auto s = tiny_set();
  const auto j1 = bcd::eval::compute_metrics(s, {"malignant", 0.5, 200, 3, 15});
  const auto j2 = bcd::eval::compute_metrics(s, {"malignant", 0.5, 200, 3, 15});
  EXPECT_EQ(j1["bootstrap"], j2["bootstrap"]);
  // AUC is undefined on resamples holding one class only; they are counted.
  EXPECT_LT(j1["bootstrap"]["malignancy_auc"]["n_defined"].get<int>(), 200);
}

// A large sample: the interval must hold the scikit-learn point value, and its
// width must match an independent numpy bootstrap (other RNG, same method)
// within 15%. The Monte Carlo spread of a 1,000-resample 95% width is about 3%
// per implementation, so 15% is more than three standard deviations of the
// difference.
TEST(Bootstrap, LargeSampleIntervalMatchesNumpyWidth) {
  const Json f = load_fixture();
  const Json& c = f["bootstrap"];
  const auto j = bcd::eval::compute_metrics(fixture_set(f, c), {"malignant", 0.5, 1000, 11, 15});
  const struct {
    const char* key;
    const char* point;
    const char* width;
  } checks[] = {{"accuracy_strict", "accuracy", "numpy_accuracy_ci_width"},
                {"malignancy_auc", "malignancy_auc", "numpy_auc_ci_width"}};
  for (const auto& check : checks) {
    SCOPED_TRACE(check.key);
    const Json& iv = j["bootstrap"][check.key];
    const double point = c[check.point].get<double>();
    EXPECT_NEAR(iv["estimate"].get<double>(), point, kExact);
    EXPECT_LT(iv["low"].get<double>(), point);
    EXPECT_GT(iv["high"].get<double>(), point);
    const double width = iv["high"].get<double>() - iv["low"].get<double>();
    EXPECT_NEAR(width / c[check.width].get<double>(), 1.0, 0.15);
  }
}

}  // namespace
