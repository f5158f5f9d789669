#include "data/split.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "common/errors.h"
#include "common/files.h"

namespace bcd {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string relative_to(const std::string& path, const std::string& root) {
  return fs::path(path).lexically_relative(root).generic_string();
}

/// Units of placement: one per group, or one per ungrouped sample.
struct Unit {
  int label = 0;
  std::vector<std::size_t> members;
};

std::vector<Unit> make_units(const Dataset& dataset, const std::vector<int>& group_of) {
  std::vector<Unit> units;
  std::map<int, std::size_t> unit_of_group;
  for (std::size_t i = 0; i < dataset.samples.size(); ++i) {
    const int group = group_of.empty() ? -1 : group_of[i];
    if (group < 0) {
      units.push_back({dataset.samples[i].label, {i}});
      continue;
    }
    auto [it, inserted] = unit_of_group.emplace(group, units.size());
    if (inserted) units.push_back({dataset.samples[i].label, {}});
    units[it->second].members.push_back(i);
  }
  return units;
}

}  // namespace

Split make_split(const Dataset& dataset, const SplitOptions& options,
                 const std::vector<int>& group_of) {
  if (!group_of.empty() && group_of.size() != dataset.samples.size()) {
    throw InputError("make_split: expected one group id per sample (" +
                     std::to_string(dataset.samples.size()) + "), got " +
                     std::to_string(group_of.size()));
  }
  const double held_out = options.validation_fraction + options.test_fraction;
  if (options.validation_fraction < 0 || options.test_fraction < 0 || held_out >= 1.0) {
    throw InputError(
        "split fractions: expected validation and test >= 0 with a sum below 1, "
        "got " +
        std::to_string(options.validation_fraction) + " and " +
        std::to_string(options.test_fraction));
  }
  Split split;
  split.data_root = dataset.root;
  split.seed = options.seed;
  split.class_names = dataset.class_names;

  // Shuffle each class's units with one seeded generator, then fill the test
  // and validation quotas (counted in images) before the rest goes to training.
  std::mt19937_64 rng(options.seed);
  const auto units = make_units(dataset, group_of);
  for (int label = 0; label < static_cast<int>(dataset.class_names.size()); ++label) {
    std::vector<const Unit*> mine;
    std::size_t n_images = 0;
    for (const auto& u : units) {
      if (u.label == label) {
        mine.push_back(&u);
        n_images += u.members.size();
      }
    }
    std::shuffle(mine.begin(), mine.end(), rng);
    const auto n_test = static_cast<std::size_t>(std::lround(n_images * options.test_fraction));
    const auto n_val =
        static_cast<std::size_t>(std::lround(n_images * options.validation_fraction));
    std::size_t placed_test = 0, placed_val = 0;
    for (const Unit* u : mine) {
      std::vector<std::string>* side = &split.train;
      if (placed_test < n_test) {
        side = &split.test;
        placed_test += u->members.size();
      } else if (placed_val < n_val) {
        side = &split.validation;
        placed_val += u->members.size();
      }
      for (auto i : u->members) side->push_back(relative_to(dataset.samples[i].path, dataset.root));
    }
  }
  for (const auto& u : units) {
    if (u.members.size() < 2) continue;
    std::vector<std::string> names;
    for (auto i : u.members) names.push_back(relative_to(dataset.samples[i].path, dataset.root));
    split.groups.push_back(std::move(names));
  }
  for (auto* side : {&split.train, &split.validation, &split.test}) {
    std::sort(side->begin(), side->end());
  }
  return split;
}

void save_split(const Split& split, const std::string& path) {
  json j;
  j["format"] = "bcd-split-v1";
  j["data_root"] = split.data_root;
  j["seed"] = split.seed;
  j["class_names"] = split.class_names;
  j["counts"] = {{"train", split.train.size()},
                 {"validation", split.validation.size()},
                 {"test", split.test.size()}};
  j["grouping"] = split.grouping;
  j["groups"] = split.groups;
  j["train"] = split.train;
  j["validation"] = split.validation;
  j["test"] = split.test;
  write_file_atomic(path, j.dump(1) + "\n");
}

Split load_split(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file_text(path));
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (j.value("format", "") != "bcd-split-v1") {
    throw InputError(path + ": field 'format': expected \"bcd-split-v1\"");
  }
  Split split;
  try {
    split.data_root = j.at("data_root").get<std::string>();
    split.seed = j.at("seed").get<std::uint64_t>();
    split.class_names = j.at("class_names").get<std::vector<std::string>>();
    split.train = j.at("train").get<std::vector<std::string>>();
    split.validation = j.at("validation").get<std::vector<std::string>>();
    split.test = j.at("test").get<std::vector<std::string>>();
    split.grouping = j.value("grouping", "");
    split.groups = j.value("groups", std::vector<std::vector<std::string>>{});
  } catch (const json::exception& e) {
    throw InputError(path + ": malformed split file (" + e.what() + ")");
  }
  return split;
}

std::vector<Sample> split_samples(const Split& split, const Dataset& dataset,
                                  const std::string& side) {
  const std::vector<std::string>* names = nullptr;
  if (side == "train") names = &split.train;
  if (side == "validation") names = &split.validation;
  if (side == "test") names = &split.test;
  if (!names) {
    throw InputError("split side: expected train, validation or test; got '" + side + "'");
  }
  std::map<std::string, const Sample*> by_name;
  for (const auto& s : dataset.samples) by_name[relative_to(s.path, dataset.root)] = &s;
  std::vector<Sample> out;
  for (const auto& name : *names) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      throw InputError("split: '" + name + "' (" + side + ") is not in the data set at " +
                       dataset.root + "; the data set changed since the split was made");
    }
    out.push_back(*it->second);
  }
  return out;
}

}  // namespace bcd
