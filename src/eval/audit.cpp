// audit_sets: duplicate groups within and across sets, and the verdicts.

#include <map>
#include <set>

#include "eval/audit.h"

namespace bcd::eval {
namespace {

using Json = nlohmann::ordered_json;

/// All files of all sets in one list, remembering which set each came from.
struct Pool {
  std::vector<std::string> paths;
  std::vector<int> set_of;
  std::vector<const LabelledFile*> file;
};

Pool pool_sets(const std::vector<AuditSet>& sets) {
  Pool pool;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    for (const auto& f : sets[s].files) {
      pool.paths.push_back(f.path);
      pool.set_of.push_back(static_cast<int>(s));
      pool.file.push_back(&f);
    }
  }
  return pool;
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

Json member_json(const Pool& pool, const std::vector<AuditSet>& sets, int i) {
  return {
      {"set", sets[pool.set_of[i]].name}, {"path", pool.paths[i]}, {"label", pool.file[i]->label}};
}

/// Members of each group, in index order.
std::vector<std::vector<int>> group_members(const std::vector<int>& group) {
  std::vector<std::vector<int>> members;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (group[i] < 0) continue;
    if (static_cast<std::size_t>(group[i]) >= members.size()) members.resize(group[i] + 1);
    members[group[i]].push_back(static_cast<int>(i));
  }
  return members;
}

Json sets_json(const std::vector<AuditSet>& sets, const Pool& pool,
               const std::vector<Fingerprint>& prints) {
  Json out = Json::array();
  for (std::size_t s = 0; s < sets.size(); ++s) {
    Json unreadable = Json::array();
    for (std::size_t i = 0; i < prints.size(); ++i) {
      if (pool.set_of[i] != static_cast<int>(s) || prints[i].ok) continue;
      unreadable.push_back({{"path", pool.paths[i]}, {"reason", prints[i].error}});
    }
    out.push_back({{"name", sets[s].name},
                   {"n_files", sets[s].files.size()},
                   {"n_unreadable", unreadable.size()},
                   {"unreadable", unreadable}});
  }
  return out;
}

/// Duplicate groups inside one set, and the verdict line about them.
Json within_json(const std::vector<AuditSet>& sets, int s, const Pool& pool,
                 const std::vector<std::vector<int>>& members, Json& verdicts) {
  std::size_t n_groups = 0, n_images = 0;
  Json conflicting = Json::array();
  for (std::size_t g = 0; g < members.size(); ++g) {
    std::vector<int> here;
    std::set<std::string> labels;
    for (int i : members[g]) {
      if (pool.set_of[i] != s) continue;
      here.push_back(i);
      labels.insert(pool.file[i]->label);
    }
    if (here.size() < 2) continue;
    ++n_groups;
    n_images += here.size();
    if (labels.size() > 1) {
      Json group = {{"group", g}, {"members", Json::array()}};
      for (int i : here) group["members"].push_back(member_json(pool, sets, i));
      conflicting.push_back(group);
    }
  }
  verdicts.push_back(sets[s].name + ": " + plural(n_groups, "duplicate group") + " holding " +
                     std::to_string(n_images) + " of " + plural(sets[s].files.size(), "image") +
                     " (" + std::to_string(n_images - n_groups) + " extra copies); " +
                     plural(conflicting.size(), "group") + " with conflicting labels");
  return {{"set", sets[s].name},
          {"n_groups", n_groups},
          {"n_images_in_groups", n_images},
          {"n_extra_copies", n_images - n_groups},
          {"n_cross_label_groups", conflicting.size()},
          {"cross_label_groups", conflicting}};
}

/// Images of set b that have a duplicate in set a (and the reverse count).
Json across_json(const std::vector<AuditSet>& sets, int a, int b, const Pool& pool,
                 const std::vector<std::vector<int>>& members, Json& verdicts) {
  std::size_t shared_b = 0, shared_a = 0;
  Json shared_groups = Json::array();
  for (std::size_t g = 0; g < members.size(); ++g) {
    std::size_t in_a = 0, in_b = 0;
    for (int i : members[g]) {
      in_a += pool.set_of[i] == a;
      in_b += pool.set_of[i] == b;
    }
    if (in_a == 0 || in_b == 0) continue;
    shared_a += in_a;
    shared_b += in_b;
    shared_groups.push_back(g);
  }
  verdicts.push_back(sets[b].name + " shares " +
                     (shared_b == 0 ? std::string("no images") : plural(shared_b, "image")) +
                     " with " + sets[a].name);
  return {{"a", sets[a].name},
          {"b", sets[b].name},
          {"n_images_of_b_in_a", shared_b},
          {"n_images_of_a_in_b", shared_a},
          {"groups", shared_groups}};
}

Json groups_json(const std::vector<AuditSet>& sets, const Pool& pool,
                 const std::vector<std::vector<int>>& members,
                 const std::vector<Fingerprint>& prints) {
  Json out = Json::array();
  for (std::size_t g = 0; g < members.size(); ++g) {
    std::set<std::string> labels;
    bool exact = true;
    Json list = Json::array();
    for (int i : members[g]) {
      labels.insert(pool.file[i]->label);
      exact = exact && prints[i].pixel_hash == prints[members[g][0]].pixel_hash;
      list.push_back(member_json(pool, sets, i));
    }
    out.push_back(
        {{"id", g}, {"exact", exact}, {"cross_label", labels.size() > 1}, {"members", list}});
  }
  return out;
}

Json pairs_json(const std::vector<AuditSet>& sets, const Pool& pool,
                const std::vector<DuplicatePair>& pairs) {
  Json out = Json::array();
  for (const auto& p : pairs) {
    out.push_back({{"a", member_json(pool, sets, p.a)},
                   {"b", member_json(pool, sets, p.b)},
                   {"distance", p.distance},
                   {"exact", p.exact}});
  }
  return out;
}

}  // namespace

Json audit_sets(const std::vector<AuditSet>& sets, const AuditOptions& options,
                const std::function<void(std::size_t)>& progress) {
  const Pool pool = pool_sets(sets);
  const auto prints = fingerprint_files(pool.paths, options, progress);
  const auto pairs = find_duplicate_pairs(prints, options);
  const auto members = group_members(group_duplicates(pool.paths.size(), pairs));

  Json verdicts = Json::array();
  Json within = Json::array(), across = Json::array();
  for (int s = 0; s < static_cast<int>(sets.size()); ++s) {
    within.push_back(within_json(sets, s, pool, members, verdicts));
  }
  for (int b = 1; b < static_cast<int>(sets.size()); ++b) {
    for (int a = 0; a < b; ++a) across.push_back(across_json(sets, a, b, pool, members, verdicts));
  }
  std::size_t n_exact_pairs = 0;
  for (const auto& p : pairs) n_exact_pairs += p.exact;
  return {{"method",
           {{"exact", "FNV-1a 64 of the decoded 8-bit pixels and the size"},
            {"near", "OpenCV img_hash PHash (64 bits), Hamming distance"},
            {"hamming_threshold", options.hamming_threshold},
            {"crop_variants", options.crop_variants
                                  ? "full image, 5% off two sides at each corner, 2.5% all round"
                                  : "full image only"}}},
          {"verdicts", verdicts},
          {"sets", sets_json(sets, pool, prints)},
          {"n_pairs", pairs.size()},
          {"n_exact_pairs", n_exact_pairs},
          {"within", within},
          {"across", across},
          {"groups", groups_json(sets, pool, members, prints)},
          {"pairs", pairs_json(sets, pool, pairs)}};
}

}  // namespace bcd::eval
