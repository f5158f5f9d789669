// Label mapping, report assembly, per-image CSV and the mistakes ranking.

#include <gtest/gtest.h>

#include "common/errors.h"
#include "eval/evaluation.h"

namespace {

using bcd::eval::Evaluation;
using bcd::eval::ImageResult;

const std::vector<std::string> kLabels = {"benign", "malignant", "normal"};

ImageResult scored(const std::string& path, int truth, std::vector<double> p) {
  ImageResult r;
  r.path = path;
  r.true_id = truth;
  r.true_label = kLabels[truth];
  r.ok = true;
  r.probabilities = std::move(p);
  r.predicted_id = static_cast<int>(
      std::max_element(r.probabilities.begin(), r.probabilities.end()) - r.probabilities.begin());
  return r;
}

TEST(Evaluation, MapsLabelsByNameIgnoringCaseAndByMap) {
  const auto map = bcd::eval::parse_label_map(" malign = malignant ,BENIGNE=benign,");
  EXPECT_EQ(bcd::eval::model_class_for("Malignant", kLabels, {}), 1);
  EXPECT_EQ(bcd::eval::model_class_for("malign", kLabels, map), 1);
  EXPECT_EQ(bcd::eval::model_class_for("benigne", kLabels, map), 0);
  try {
    bcd::eval::model_class_for("cyst", kLabels, map);
    FAIL() << "expected an InputError";
  } catch (const bcd::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("benign, malignant, normal"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--label-map cyst="), std::string::npos);
  }
  EXPECT_THROW(bcd::eval::parse_label_map("a=b,c"), bcd::InputError);
  EXPECT_THROW(bcd::eval::parse_label_map("=b"), bcd::InputError);
}

TEST(Evaluation, PreparesRowsKeepingManifestLines) {
  const auto rows = bcd::eval::prepare_rows({{"a.png", "BENIGN", 2}, {"b.png", "malign", 3}},
                                            kLabels, {{"malign", "malignant"}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].true_id, 0);
  EXPECT_EQ(rows[1].true_id, 1);
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_FALSE(rows[1].ok);
}

TEST(Evaluation, ReportCountsFailedRowsAndDatasetClasses) {
  Evaluation e;
  e.model_labels = kLabels;
  e.rows = {scored("a.png", 0, {0.7, 0.2, 0.1}), scored("b.png", 1, {0.1, 0.3, 0.6}),
            scored("c.png", 1, {0.2, 0.7, 0.1})};
  ImageResult broken;
  broken.path = "gone.png";
  broken.true_id = 0;
  broken.true_label = "benign";
  broken.line = 7;
  broken.error = "file not found";
  e.rows.push_back(broken);
  bcd::eval::build_report(e, {"malignant", 0.5, 0, 1, 15});
  const auto& r = e.report;
  EXPECT_EQ(r["n_files"], 4);
  EXPECT_EQ(r["n_evaluated"], 3);
  EXPECT_EQ(r["n_failed"], 1);
  EXPECT_EQ(r["failed"][0]["line"], 7);
  EXPECT_EQ(r["dataset_classes"], nlohmann::ordered_json({"benign", "malignant"}));
  // b.png was called "normal", a class this data set lacks: set aside, or wrong.
  EXPECT_EQ(r["set_aside"]["count"], 1);
  EXPECT_DOUBLE_EQ(r["classification_report"]["accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["classification_report_strict"]["accuracy"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(r["classification_report_strict"]["malignant"]["recall"].get<double>(), 0.5);
}

TEST(Evaluation, CsvQuotesFieldsAndListsErrors) {
  Evaluation e;
  e.model_labels = kLabels;
  e.rows = {scored("x, \"y\".png", 2, {0.25, 0.25, 0.5})};
  ImageResult broken;
  broken.path = "gone.png";
  broken.true_label = "benign";
  broken.error = "file not found";
  e.rows.push_back(broken);
  EXPECT_EQ(bcd::eval::predictions_csv(e),
            "path,true_label,score_benign,score_malignant,score_normal,predicted,correct,error\n"
            "\"x, \"\"y\"\".png\",normal,0.250000,0.250000,0.500000,normal,1,\n"
            "gone.png,benign,,,,,,file not found\n");
}

TEST(Evaluation, WorstMistakesAreTheMostConfidentOnes) {
  Evaluation e;
  e.model_labels = kLabels;
  e.rows = {scored("right.png", 0, {0.9, 0.05, 0.05}), scored("mild.png", 0, {0.3, 0.6, 0.1}),
            scored("bad.png", 1, {0.95, 0.03, 0.02}), scored("mid.png", 2, {0.1, 0.8, 0.1})};
  const auto worst = bcd::eval::worst_mistakes(e, 2);
  ASSERT_EQ(worst.size(), 2u);
  EXPECT_EQ(worst[0]->path, "bad.png");
  EXPECT_EQ(worst[1]->path, "mid.png");
}

}  // namespace
