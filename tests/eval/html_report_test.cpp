// The HTML reports: self-contained, escaped, well-formed (checked by
// tests/eval/check_html.py with Python's html.parser), with their pictures.

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "eval/audit.h"
#include "eval/evaluation.h"
#include "eval/html.h"
#include "support/temp_path.h"

namespace {

namespace fs = std::filesystem;
using bcd::eval::Evaluation;
using bcd::eval::ImageResult;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class HtmlReports : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = bcd::test::temp_path("bcd_html_report_test");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string image(const std::string& name, int seed) {
    cv::Mat m(40, 60, CV_8UC3);
    cv::theRNG().state = static_cast<std::uint64_t>(seed);
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    const auto path = (dir_ / name).string();
    cv::imwrite(path, m);
    return path;
  }

  /// Writes the page and runs the checker on it; "" when it passes.
  std::string check(const std::string& html, const std::string& name) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << html;
    const std::string checker = std::string(BCD_SOURCE_DIR) + "/tests/eval/check_html.py";
    const std::string command = "/usr/bin/python3 '" + checker + "' '" + path + "'";
    return std::system(command.c_str()) == 0 ? "" : "check_html.py rejected " + path;
  }

  Evaluation evaluation() {
    Evaluation e;
    e.model_dir = "models/demo";
    e.data = "set <with> \"odd\" & names";
    e.model_labels = {"benign", "malignant", "normal"};
    const std::vector<std::pair<int, std::vector<double>>> scored = {
        {0, {0.8, 0.1, 0.1}}, {0, {0.2, 0.7, 0.1}}, {1, {0.1, 0.85, 0.05}},
        {1, {0.6, 0.3, 0.1}}, {1, {0.2, 0.2, 0.6}}, {0, {0.5, 0.4, 0.1}}};
    for (std::size_t i = 0; i < scored.size(); ++i) {
      ImageResult r;
      r.path = image("img<" + std::to_string(i) + ">.png", static_cast<int>(i));
      r.true_id = scored[i].first;
      r.true_label = e.model_labels[r.true_id];
      r.ok = true;
      r.probabilities = scored[i].second;
      r.predicted_id =
          static_cast<int>(std::max_element(r.probabilities.begin(), r.probabilities.end()) -
                           r.probabilities.begin());
      e.rows.push_back(r);
    }
    ImageResult broken;
    broken.path = (dir_ / "missing.png").string();
    broken.true_label = "benign";
    broken.true_id = 0;
    broken.error = "cannot open <file>";
    e.rows.push_back(broken);
    return e;
  }

  fs::path dir_;
};

TEST_F(HtmlReports, EvaluationPageIsSelfContainedAndWellFormed) {
  Evaluation e = evaluation();
  bcd::eval::build_report(e, {"malignant", 0.5, 100, 1, 15});
  const std::string html = bcd::eval::render_evaluation_html(e);
  EXPECT_EQ(html.find("{{"), std::string::npos);
  EXPECT_EQ(html.find("<with>"), std::string::npos) << "unescaped data set name";
  EXPECT_NE(html.find("set &lt;with&gt; &quot;odd&quot; &amp; names"), std::string::npos);
  EXPECT_EQ(html.find("cannot open <file>"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<svg"), 3u);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos) << "no mistake thumbnails";
  EXPECT_EQ(check(html, "evaluation.html"), "");
}

TEST_F(HtmlReports, AuditPageShowsGroupsSideBySide) {
  const std::string a = image("a.png", 1);
  const std::string a2 = (dir_ / "a_copy.png").string();
  fs::copy_file(a, a2);
  const bcd::eval::AuditSet set{
      "data <1>", {{a, "benign", 0}, {a2, "malignant", 0}, {image("b.png", 2), "normal", 0}}};
  const auto audit = bcd::eval::audit_sets({set}, {});
  const std::string html = bcd::eval::render_audit_html(audit);
  EXPECT_EQ(html.find("{{"), std::string::npos);
  EXPECT_NE(html.find("labels differ"), std::string::npos);
  EXPECT_NE(html.find("data:image/jpeg;base64,"), std::string::npos);
  EXPECT_NE(html.find("data &lt;1&gt;: 1 duplicate group"), std::string::npos);
  EXPECT_EQ(check(html, "audit.html"), "");
}

TEST(Html, TemplatesRejectUnknownPlaceholders) {
  EXPECT_EQ(bcd::eval::fill_template("a {{x}} b", {{"x", "1"}}), "a 1 b");
  EXPECT_THROW(bcd::eval::fill_template("{{y}}", {{"x", "1"}}), bcd::Error);
  EXPECT_THROW(bcd::eval::embedded_template("nope.html"), bcd::Error);
  EXPECT_EQ(bcd::eval::Tag("td").attr("title", "a\"b").text("<x>").str(),
            "<td title=\"a&quot;b\">&lt;x&gt;</td>");
}

TEST(Html, CheckerCatchesBrokenPages) {
  const auto path = (bcd::test::temp_path("bcd_broken_page.html")).string();
  std::ofstream(path) << "<!DOCTYPE html><html><body><div><img src=\"http://x/y.png\"></span>"
                         "</body></html>";
  const std::string checker = std::string(BCD_SOURCE_DIR) + "/tests/eval/check_html.py";
  EXPECT_NE(std::system(("/usr/bin/python3 '" + checker + "' '" + path + "' 2>/dev/null").c_str()),
            0);
  fs::remove(path);
}

}  // namespace
