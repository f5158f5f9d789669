#include "eval/evaluation.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/errors.h"
#include "common/text.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string score_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", value);
  return buffer;
}

}  // namespace

std::map<std::string, std::string> parse_label_map(const std::string& text) {
  std::map<std::string, std::string> map;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string entry = trim(text.substr(start, end - start));
    start = end + 1;
    if (entry.empty()) continue;
    const auto eq = entry.find('=');
    const std::string from = eq == std::string::npos ? "" : trim(entry.substr(0, eq));
    const std::string to = eq == std::string::npos ? "" : trim(entry.substr(eq + 1));
    if (from.empty() || to.empty()) {
      throw InputError("--label-map: expected DATASET_LABEL=MODEL_LABEL, found '" + entry + "'");
    }
    map[to_lower(from)] = to;
  }
  return map;
}

int model_class_for(const std::string& dataset_label, const std::vector<std::string>& model_labels,
                    const std::map<std::string, std::string>& label_map) {
  const auto mapped = label_map.find(to_lower(dataset_label));
  const std::string wanted = mapped == label_map.end() ? dataset_label : mapped->second;
  const int k = find_ignoring_case(model_labels, wanted);
  if (k >= 0) return k;
  const std::string known = join_names(model_labels);
  throw InputError("data set label '" + dataset_label + "'" +
                   (mapped == label_map.end() ? "" : " (mapped to '" + wanted + "')") +
                   " is not a model label; the model has " + known + ". Map it with --label-map " +
                   dataset_label + "=<model label>");
}

std::vector<ImageResult> prepare_rows(const std::vector<LabelledFile>& files,
                                      const std::vector<std::string>& model_labels,
                                      const std::map<std::string, std::string>& label_map) {
  std::vector<ImageResult> rows;
  rows.reserve(files.size());
  std::map<std::string, int> known;  // each label is looked up once
  for (const auto& f : files) {
    auto it = known.find(f.label);
    if (it == known.end()) {
      it = known.emplace(f.label, model_class_for(f.label, model_labels, label_map)).first;
    }
    ImageResult row;
    row.path = f.path;
    row.true_label = f.label;
    row.line = f.line;
    row.true_id = it->second;
    rows.push_back(row);
  }
  return rows;
}

void build_report(Evaluation& evaluation, const MetricsOptions& options) {
  ScoredSet set;
  set.class_names = evaluation.model_labels;
  std::set<int> classes;
  Json failed = Json::array();
  for (const auto& row : evaluation.rows) {
    classes.insert(row.true_id);
    if (!row.ok) {
      failed.push_back({{"path", row.path}, {"line", row.line}, {"reason", row.error}});
      continue;
    }
    set.truth.push_back(row.true_id);
    set.probabilities.push_back(row.probabilities);
  }
  set.dataset_classes.assign(classes.begin(), classes.end());
  Json report = {{"model", evaluation.model_dir},
                 {"data", evaluation.data},
                 {"model_labels", evaluation.model_labels},
                 {"n_files", evaluation.rows.size()},
                 {"n_evaluated", set.size()},
                 {"n_failed", failed.size()},
                 {"failed", failed}};
  const Json metrics = compute_metrics(set, options);
  for (const auto& [key, value] : metrics.items()) report[key] = value;
  evaluation.report = report;
}

std::string predictions_csv(const Evaluation& evaluation) {
  std::string out = "path,true_label";
  for (const auto& label : evaluation.model_labels) out += "," + csv_field("score_" + label);
  out += ",predicted,correct,error\n";
  for (const auto& row : evaluation.rows) {
    out += csv_field(row.path) + "," + csv_field(row.true_label);
    for (std::size_t k = 0; k < evaluation.model_labels.size(); ++k) {
      out += "," + (row.ok ? score_text(row.probabilities[k]) : std::string());
    }
    if (row.ok) {
      out += "," + csv_field(evaluation.model_labels[row.predicted_id]) + "," +
             (row.predicted_id == row.true_id ? "1" : "0") + ",\n";
    } else {
      out += ",,," + csv_field(row.error) + "\n";
    }
  }
  return out;
}

std::vector<const ImageResult*> worst_mistakes(const Evaluation& evaluation, std::size_t n) {
  std::vector<const ImageResult*> wrong;
  for (const auto& row : evaluation.rows) {
    if (row.ok && row.predicted_id != row.true_id) wrong.push_back(&row);
  }
  const auto confidence = [](const ImageResult* r) { return r->probabilities[r->predicted_id]; };
  std::stable_sort(wrong.begin(), wrong.end(), [&](const ImageResult* a, const ImageResult* b) {
    return confidence(a) > confidence(b);
  });
  if (wrong.size() > n) wrong.resize(n);
  return wrong;
}

}  // namespace bcd::eval
