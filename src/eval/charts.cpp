// The report's pictures as inline SVG: confusion matrix, ROC curves and the
// reliability diagram.

#include <algorithm>
#include <cstdio>

#include "eval/html.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
constexpr double kPlot = 300;   // plot area side, px
constexpr double kMargin = 50;  // room for axes and labels, px

std::string number(double value, const char* format = "%.3f") {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

Tag svg_root(double width, double height, const std::string& title) {
  Tag svg("svg");
  svg.attr("xmlns", "http://www.w3.org/2000/svg")
      .attr("width", width)
      .attr("height", height)
      .attr("viewBox", "0 0 " + number(width, "%.0f") + " " + number(height, "%.0f"))
      .attr("role", "img")
      .attr("aria-label", title);
  svg.child(Tag("title").text(title));
  return svg;
}

Tag svg_text(double x, double y, const std::string& text, const std::string& anchor = "middle") {
  Tag t("text");
  t.attr("x", x).attr("y", y).attr("text-anchor", anchor).text(text);
  return t;
}

Tag line(double x1, double y1, double x2, double y2, const std::string& style) {
  Tag l("line");
  l.attr("x1", x1).attr("y1", y1).attr("x2", x2).attr("y2", y2).attr("class", style);
  return l;
}

/// Unit-square axes with ticks at 0, 0.5 and 1 and their titles.
std::string unit_axes(const std::string& x_title, const std::string& y_title) {
  std::string out;
  out += line(kMargin, kMargin + kPlot, kMargin + kPlot, kMargin + kPlot, "axis").str();
  out += line(kMargin, kMargin, kMargin, kMargin + kPlot, "axis").str();
  for (double t : {0.0, 0.5, 1.0}) {
    out += svg_text(kMargin + t * kPlot, kMargin + kPlot + 16, number(t, "%.1f")).str();
    out += svg_text(kMargin - 6, kMargin + (1 - t) * kPlot + 4, number(t, "%.1f"), "end").str();
  }
  out += svg_text(kMargin + kPlot / 2, kMargin + kPlot + 36, x_title).str();
  Tag y = svg_text(0, 0, y_title);
  y.attr("transform", "translate(14," + number(kMargin + kPlot / 2, "%.0f") + ") rotate(-90)");
  out += y.str();
  out += line(kMargin, kMargin + kPlot, kMargin + kPlot, kMargin, "diagonal").str();
  return out;
}

std::string polyline_points(const std::vector<double>& x, const std::vector<double>& y) {
  std::string points;
  for (std::size_t k = 0; k < x.size() && k < y.size(); ++k) {
    points += number(kMargin + x[k] * kPlot, "%.1f") + "," +
              number(kMargin + (1 - y[k]) * kPlot, "%.1f") + " ";
  }
  return points;
}

}  // namespace

std::string confusion_matrix_svg(const Json& confusion) {
  const auto labels = confusion["labels"].get<std::vector<std::string>>();
  const auto counts = confusion["matrix"].get<std::vector<std::vector<long long>>>();
  const double cell = 72, left = 110, top = 60;
  const double n = static_cast<double>(labels.size());
  Tag svg = svg_root(left + n * cell + 20, top + n * cell + 20,
                     "Confusion matrix: rows are the true class, columns the predicted class");
  svg.child(svg_text(left + n * cell / 2, 18, "predicted class"));
  for (std::size_t c = 0; c < labels.size(); ++c) {
    svg.child(svg_text(left + (c + 0.5) * cell, top - 10, labels[c]));
    svg.child(svg_text(left - 8, top + (c + 0.5) * cell + 4, labels[c], "end"));
  }
  for (std::size_t r = 0; r < counts.size(); ++r) {
    long long row_total = 0;
    for (long long v : counts[r]) row_total += v;
    for (std::size_t c = 0; c < counts[r].size(); ++c) {
      const double share = row_total ? static_cast<double>(counts[r][c]) / row_total : 0;
      Tag rect("rect");
      rect.attr("x", left + c * cell)
          .attr("y", top + r * cell)
          .attr("width", cell)
          .attr("height", cell)
          .attr("class", r == c ? "cell diag" : "cell")
          .attr("fill-opacity", 0.08 + 0.85 * share);
      svg.child(rect);
      svg.child(
          svg_text(left + (c + 0.5) * cell, top + (r + 0.5) * cell, std::to_string(counts[r][c])));
      svg.child(svg_text(left + (c + 0.5) * cell, top + (r + 0.5) * cell + 16,
                         row_total ? number(100 * share, "%.0f%%") : "-"));
    }
  }
  return svg.str();
}

std::string roc_svg(const Json& curves, const Json& aucs) {
  Tag svg = svg_root(kMargin + kPlot + 190, kMargin + kPlot + 50,
                     "ROC curves, one class against the rest");
  svg.child(unit_axes("1 - specificity (false positive rate)", "sensitivity"));
  int k = 0;
  for (const auto& [name, curve] : curves.items()) {
    const std::string colour = kColours[k % 5];
    if (!curve["fpr"].empty()) {
      Tag poly("polyline");
      poly.attr("points", polyline_points(curve["fpr"].get<std::vector<double>>(),
                                          curve["tpr"].get<std::vector<double>>()))
          .attr("class", "curve")
          .attr("stroke", colour);
      svg.child(poly);
    }
    const Json& auc = aucs.contains(name) ? aucs[name] : Json();
    const std::string legend = name + " (AUC " + (auc.is_number() ? number(auc) : "n/a") + ")";
    const double y = kMargin + 14 + 20 * k;
    svg.child(line(kMargin + kPlot + 14, y - 4, kMargin + kPlot + 34, y - 4, "legend")
                  .attr("stroke", colour));
    svg.child(svg_text(kMargin + kPlot + 40, y, legend, "start"));
    ++k;
  }
  return svg.str();
}

std::string reliability_svg(const Json& calibration) {
  Tag svg = svg_root(kMargin + kPlot + 190, kMargin + kPlot + 50,
                     "Reliability diagram: accuracy against confidence per bin");
  svg.child(unit_axes("confidence (top-class probability)", "accuracy"));
  for (const auto& bin : calibration["bins"]) {
    if (bin["count"].get<long long>() == 0) continue;
    const double lower = bin["lower"].get<double>(), upper = bin["upper"].get<double>();
    const double accuracy = bin["accuracy"].get<double>();
    Tag bar("rect");
    bar.attr("x", kMargin + lower * kPlot)
        .attr("width", (upper - lower) * kPlot - 1)
        .attr("y", kMargin + (1 - accuracy) * kPlot)
        .attr("height", accuracy * kPlot)
        .attr("class", "bar");
    bar.child(Tag("title").text(number(lower, "%.2f") + "-" + number(upper, "%.2f") + ": " +
                                std::to_string(bin["count"].get<long long>()) +
                                " images, accuracy " + number(accuracy)));
    svg.child(bar);
    const double confidence = bin["mean_confidence"].get<double>();
    svg.child(line(kMargin + lower * kPlot, kMargin + (1 - confidence) * kPlot,
                   kMargin + upper * kPlot, kMargin + (1 - confidence) * kPlot, "confidence"));
  }
  const Json& ece = calibration["ece"];
  svg.child(svg_text(kMargin + kPlot + 14, kMargin + 14,
                     "ECE " + (ece.is_number() ? number(ece.get<double>()) : "n/a"), "start"));
  svg.child(svg_text(kMargin + kPlot + 14, kMargin + 34, "bars: accuracy", "start"));
  svg.child(svg_text(kMargin + kPlot + 14, kMargin + 54, "lines: mean confidence", "start"));
  return svg.str();
}

}  // namespace bcd::eval
