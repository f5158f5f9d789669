// The evaluation and audit pages: tables and figures poured into the
// embedded templates.

#include <cstdio>

#include "eval/html.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kThumbnailPx = 180;
constexpr std::size_t kMistakesShown = 12;

std::string value_text(const Json& value) {
  if (value.is_null()) return "undefined";
  if (value.is_number_float()) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", value.get<double>());
    return buffer;
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

Tag cell(const Json& value, const char* tag = "td") {
  Tag td(tag);
  if (value.is_number()) td.attr("class", "num");
  if (value.is_null()) td.attr("class", "undefined");
  return td.text(value_text(value));
}

Tag row(const std::vector<Json>& values, const char* tag = "td") {
  Tag tr("tr");
  for (const auto& v : values) tr.child(cell(v, tag));
  return tr;
}

std::string table(const std::string& caption, const std::vector<Json>& header,
                  const std::vector<std::vector<Json>>& rows) {
  Tag t("table");
  if (!caption.empty()) t.child(Tag("caption").text(caption));
  t.child(row(header, "th"));
  for (const auto& r : rows) t.child(row(r));
  return t.str();
}

std::string report_table(const std::string& caption, const Json& report) {
  std::vector<std::vector<Json>> rows;
  for (const auto& [name, m] : report.items()) {
    if (name == "accuracy") continue;
    rows.push_back({name, m["precision"], m["recall"], m["f1_score"], m["support"]});
  }
  rows.push_back({"accuracy", "", "", report["accuracy"], ""});
  return table(caption, {"class", "precision", "recall", "F1", "support"}, rows);
}

std::string interval_text(const Json& iv) {
  if (iv.is_null() || iv["low"].is_null()) return "undefined";
  return value_text(iv["estimate"]) + " (" + value_text(iv["low"]) + " to " +
         value_text(iv["high"]) + ")";
}

std::string summary_html(const Evaluation& e) {
  const Json& r = e.report;
  const Json& mal = r["malignancy"];
  return table(
      "", {"measure", "value"},
      {{"images evaluated", r["n_evaluated"]},
       {"files that failed", r["n_failed"]},
       {"accuracy (set-aside predictions excluded)", r["classification_report"]["accuracy"]},
       {"accuracy (strict: they count as wrong)", r["classification_report_strict"]["accuracy"]},
       {"predictions of a class the data set lacks", r["set_aside"]["count"]},
       {"malignancy AUC", mal.is_null() ? Json() : mal["auc"]},
       {"expected calibration error", r["calibration"]["ece"]}});
}

std::string malignancy_html(const Json& mal) {
  if (mal.is_null()) return Tag("p").text("The model has no malignant class.").str();
  std::vector<std::vector<Json>> rows;
  for (const auto& [name, b] : {std::pair<std::string, Json>{"argmax", mal["argmax"]},
                                {"P(" + mal["positive_class"].get<std::string>() +
                                     ") >= " + value_text(mal["at_threshold"]["threshold"]),
                                 mal["at_threshold"]}}) {
    rows.push_back({name, b["sensitivity"], b["specificity"], b["ppv"], b["npv"], b["tp"], b["fp"],
                    b["tn"], b["fn"]});
  }
  return table("positive class: " + mal["positive_class"].get<std::string>() + "; AUC " +
                   value_text(mal["auc"]),
               {"decision", "sensitivity", "specificity", "PPV", "NPV", "TP", "FP", "TN", "FN"},
               rows);
}

std::string intervals_html(const Json& boot) {
  if (boot.is_null()) return Tag("p").text("Bootstrap turned off (--bootstrap 0).").str();
  std::vector<std::vector<Json>> rows = {
      {"accuracy", interval_text(boot["accuracy"])},
      {"accuracy (strict)", interval_text(boot["accuracy_strict"])},
      {"malignancy AUC", interval_text(boot["malignancy_auc"])}};
  for (const auto& [name, iv] : boot["recall"].items()) {
    rows.push_back({"recall of " + name, interval_text(iv)});
  }
  const std::string caption = "95% percentile intervals, " + value_text(boot["n_resamples"]) +
                              " resamples, seed " + value_text(boot["seed"]);
  return table(caption, {"metric", "estimate (95% CI)"}, rows);
}

std::string figure(const std::string& path, const std::string& caption, int px, bool jpeg) {
  Tag fig("figure");
  const std::string uri = thumbnail_data_uri(path, px, jpeg);
  if (!uri.empty()) fig.child(Tag("img").attr("src", uri).attr("alt", path));
  fig.child(Tag("figcaption").text(caption));
  return fig.str();
}

std::string mistakes_html(const Evaluation& e) {
  std::string out;
  for (const ImageResult* r : worst_mistakes(e, kMistakesShown)) {
    char score[16];
    std::snprintf(score, sizeof score, "%.3f", r->probabilities[r->predicted_id]);
    out += figure(r->path,
                  "true " + r->true_label + ", predicted " + e.model_labels[r->predicted_id] +
                      " (" + score + "): " + r->path,
                  kThumbnailPx, false);
  }
  return out.empty() ? Tag("p").text("No mistakes.").str() : out;
}

std::string failed_html(const Json& failed) {
  if (failed.empty()) return Tag("p").text("None.").str();
  std::vector<std::vector<Json>> rows;
  for (const auto& f : failed) rows.push_back({f["path"], f["line"], f["reason"]});
  return table("", {"file", "manifest line", "reason"}, rows);
}

}  // namespace

std::string render_evaluation_html(const Evaluation& e) {
  const Json& r = e.report;
  const std::string meta = value_text(r["n_files"]) + " files from " + e.data + "; model " +
                           e.model_dir + "; " + value_text(r["n_failed"]) + " failed";
  return fill_template(
      embedded_template("evaluation_report.html"),
      {{"title", html_escape("bcd evaluate: " + e.model_dir + " on " + e.data)},
       {"meta", html_escape(meta)},
       {"summary", summary_html(e)},
       {"reports",
        report_table("Predictions of a class the data set lacks set aside (the model card's way)",
                     r["classification_report"]) +
            report_table("Strict: those predictions count as wrong",
                         r["classification_report_strict"])},
       {"malignancy", malignancy_html(r["malignancy"])},
       {"intervals", intervals_html(r.value("bootstrap", Json()))},
       {"confusion_svg", confusion_matrix_svg(r["confusion_matrix"])},
       {"roc_svg", roc_svg(r["roc_curves"], r["roc_auc"])},
       {"reliability_svg", reliability_svg(r["calibration"])},
       {"mistakes", mistakes_html(e)},
       {"failed", failed_html(r["failed"])}});
}

}  // namespace bcd::eval
