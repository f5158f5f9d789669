// The audit page: verdicts first, then the images behind them side by side.

#include <set>

#include "eval/html.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kThumbnailPx = 160;

/// Renders groups with thumbnails until `budget` runs out.
class GroupPrinter {
 public:
  GroupPrinter(const Json& audit, std::size_t budget) : audit_(audit), budget_(budget) {}

  std::string group(std::size_t id, const std::string& css_class) {
    if (shown_.count(id)) return "";
    if (shown_.size() >= budget_) {
      ++skipped_;
      return "";
    }
    shown_.insert(id);
    const Json& g = audit_["groups"][id];
    Tag div("div");
    div.attr("class", "group " + css_class);
    div.child(Tag("p").text("Group " + std::to_string(id) + ": " +
                            std::to_string(g["members"].size()) + " images" +
                            (g["exact"].get<bool>() ? ", identical pixels" : "") +
                            (g["cross_label"].get<bool>() ? ", labels differ" : "")));
    Tag members("div");
    members.attr("class", "members");
    for (const auto& m : g["members"]) members.child(member(m));
    return div.child(members).str();
  }

  std::string overflow_note() const {
    if (skipped_ == 0) return "";
    return Tag("p")
        .text(std::to_string(skipped_) + " more groups are listed in the JSON output only.")
        .str();
  }

 private:
  static std::string member(const Json& m) {
    const std::string path = m["path"].get<std::string>();
    Tag fig("figure");
    const std::string uri = thumbnail_data_uri(path, kThumbnailPx, /*jpeg=*/true);
    if (!uri.empty()) fig.child(Tag("img").attr("src", uri).attr("alt", path));
    fig.child(Tag("figcaption")
                  .text(m["set"].get<std::string>() + " / " + m["label"].get<std::string>() + ": " +
                        path));
    return fig.str();
  }

  const Json& audit_;
  std::size_t budget_;
  std::set<std::size_t> shown_;
  std::size_t skipped_ = 0;
};

std::string sets_table(const Json& audit) {
  Tag t("table");
  t.child(Tag("tr")
              .child(Tag("th").text("set"))
              .child(Tag("th").text("files"))
              .child(Tag("th").text("unreadable"))
              .child(Tag("th").text("duplicate groups")));
  for (std::size_t s = 0; s < audit["sets"].size(); ++s) {
    const Json& set = audit["sets"][s];
    t.child(Tag("tr")
                .child(Tag("td").text(set["name"].get<std::string>()))
                .child(Tag("td").attr("class", "num").text(set["n_files"].dump()))
                .child(Tag("td").attr("class", "num").text(set["n_unreadable"].dump()))
                .child(Tag("td").attr("class", "num").text(audit["within"][s]["n_groups"].dump())));
  }
  return t.str();
}

std::string or_none(const std::string& html) {
  return html.empty() ? Tag("p").text("None.").str() : html;
}

}  // namespace

std::string render_audit_html(const Json& audit, std::size_t max_groups) {
  GroupPrinter printer(audit, max_groups);
  std::string verdicts, conflicts, shared, groups;
  for (const auto& v : audit["verdicts"]) verdicts += Tag("li").text(v.get<std::string>()).str();
  for (const auto& within : audit["within"]) {
    for (const auto& g : within["cross_label_groups"]) {
      conflicts += printer.group(g["group"].get<std::size_t>(), "conflict");
    }
  }
  for (const auto& across : audit["across"]) {
    for (const auto& id : across["groups"])
      shared += printer.group(id.get<std::size_t>(), "shared");
  }
  for (std::size_t id = 0; id < audit["groups"].size(); ++id) groups += printer.group(id, "");
  const Json& method = audit["method"];
  const std::string meta = method["near"].get<std::string>() +
                           " <= " + method["hamming_threshold"].dump() +
                           " bits, crops compared: " + method["crop_variants"].get<std::string>() +
                           "; exact: " + method["exact"].get<std::string>();
  return fill_template(embedded_template("audit_report.html"),
                       {{"title", "bcd audit"},
                        {"meta", html_escape(meta)},
                        {"verdicts", verdicts},
                        {"sets", sets_table(audit)},
                        {"conflicts", or_none(conflicts)},
                        {"shared", or_none(shared)},
                        {"groups", or_none(groups) + printer.overflow_note()}});
}

}  // namespace bcd::eval
