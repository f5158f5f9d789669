#include "model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "common/errors.h"

namespace bcd {
namespace {

using nlohmann::json;

/// A JSON value's type in words, with the value for scalars ("string \"x\"", "float 1.5").
std::string describe_json(const json& value) {
  switch (value.type()) {
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer " + value.dump();
    case json::value_t::number_float:
      return "float " + value.dump();
    case json::value_t::string:
      return "string " + value.dump();
    case json::value_t::boolean:
      return "boolean " + value.dump();
    default:
      return value.type_name();
  }
}

/// Reads typed fields of one JSON object, with errors naming the file and the field.
class FieldReader {
 public:
  FieldReader(const json& object, const std::string& path) : object_(object), path_(path) {}

  bool has(const std::string& field) const {
    return object_.contains(field) && !object_.at(field).is_null();
  }

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw ModelError(path_ + ": field '" + field + "': " + what);
  }

  const json& required(const std::string& field) const {
    if (!has(field)) fail(field, "required, but missing");
    return object_.at(field);
  }

  int get_int(const std::string& field) const {
    const json& value = required(field);
    if (!value.is_number_integer())
      fail(field, "expected an integer, found " + describe_json(value));
    const auto number = value.get<std::int64_t>();
    if (number <= 0 || number > (1 << 20)) {
      fail(field, "expected a positive integer up to 1048576, found " + value.dump());
    }
    return static_cast<int>(number);
  }

  int get_int(const std::string& field, int fallback) const {
    return has(field) ? get_int(field) : fallback;
  }

  double get_double(const std::string& field, double fallback) const {
    if (!has(field)) return fallback;
    const json& value = object_.at(field);
    if (!value.is_number()) fail(field, "expected a number, found " + describe_json(value));
    return value.get<double>();
  }

  bool get_bool(const std::string& field, bool fallback) const {
    if (!has(field)) return fallback;
    const json& value = object_.at(field);
    if (!value.is_boolean()) fail(field, "expected true or false, found " + describe_json(value));
    return value.get<bool>();
  }

  std::string get_string(const std::string& field, const std::string& fallback) const {
    if (!has(field)) return fallback;
    const json& value = object_.at(field);
    if (!value.is_string()) fail(field, "expected a string, found " + describe_json(value));
    return value.get<std::string>();
  }

  std::vector<std::string> get_string_list(const std::string& field) const {
    if (!has(field)) return {};
    const json& value = object_.at(field);
    if (!value.is_array()) fail(field, "expected a list of strings, found " + describe_json(value));
    std::vector<std::string> out;
    for (const auto& item : value) {
      if (!item.is_string())
        fail(field, "expected a list of strings, found " + describe_json(item));
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  const json& object() const { return object_; }

 private:
  const json& object_;
  const std::string& path_;
};

/// id2label: {"0": name, ..., "n-1": name}; every key from 0 to n-1 exactly once.
std::vector<std::string> parse_id2label(const FieldReader& reader) {
  if (!reader.has("id2label")) return {};
  const json& map = reader.object().at("id2label");
  if (!map.is_object()) {
    reader.fail("id2label", "expected an object {\"0\": label, ...}, found " + describe_json(map));
  }
  std::vector<std::string> labels(map.size());
  std::vector<bool> seen(map.size(), false);
  for (const auto& [key, value] : map.items()) {
    std::size_t pos = 0;
    long id = -1;
    try {
      id = std::stol(key, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos != key.size() || id < 0 || id >= static_cast<long>(map.size()) ||
        seen[static_cast<std::size_t>(id)]) {
      reader.fail("id2label", "expected the keys \"0\" to \"" + std::to_string(map.size() - 1) +
                                  "\" once each, found key \"" + key + "\"");
    }
    if (!value.is_string()) {
      reader.fail("id2label",
                  "label of id " + key + ": expected a string, found " + describe_json(value));
    }
    seen[static_cast<std::size_t>(id)] = true;
    labels[static_cast<std::size_t>(id)] = value.get<std::string>();
  }
  return labels;
}

/// label2id, when present, must be the exact inverse of id2label.
void check_label2id(const FieldReader& reader, const std::vector<std::string>& labels) {
  if (!reader.has("label2id")) return;
  const json& map = reader.object().at("label2id");
  if (!map.is_object()) {
    reader.fail("label2id", "expected an object {label: id, ...}, found " + describe_json(map));
  }
  if (map.size() != labels.size()) {
    reader.fail("label2id", "expected " + std::to_string(labels.size()) +
                                " labels to match id2label, found " + std::to_string(map.size()));
  }
  for (std::size_t id = 0; id < labels.size(); ++id) {
    const auto it = map.find(labels[id]);
    const bool matches = it != map.end() && it->is_number_integer() &&
                         it->get<std::int64_t>() == static_cast<std::int64_t>(id);
    if (!matches) {
      reader.fail("label2id", "expected \"" + labels[id] + "\": " + std::to_string(id) +
                                  " as in id2label, found " +
                                  (it == map.end() ? std::string("no such label") : it->dump()));
    }
  }
}

void check_consistency(const FieldReader& reader, const ViTConfig& config) {
  if (config.hidden_size % config.num_attention_heads != 0) {
    reader.fail("num_attention_heads", "hidden_size " + std::to_string(config.hidden_size) +
                                           " must be divisible by num_attention_heads, found " +
                                           std::to_string(config.num_attention_heads));
  }
  if (config.patch_size > config.image_size) {
    reader.fail("patch_size", "expected at most image_size " + std::to_string(config.image_size) +
                                  ", found " + std::to_string(config.patch_size));
  }
  if (!(config.layer_norm_eps > 0.0) || !std::isfinite(config.layer_norm_eps)) {
    reader.fail("layer_norm_eps",
                "expected a small positive number, found " + std::to_string(config.layer_norm_eps));
  }
  if (config.hidden_act != "gelu") {
    reader.fail("hidden_act",
                "only \"gelu\" (exact erf GELU) is supported, found \"" + config.hidden_act + "\"");
  }
  if (config.model_type != "vit") {
    reader.fail("model_type", "expected \"vit\", found \"" + config.model_type + "\"");
  }
}

}  // namespace

ViTConfig parse_vit_config(const std::string& json_text, const std::string& path) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ModelError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object()) {
    throw ModelError(path + ": expected a JSON object, found " + describe_json(root));
  }
  const FieldReader reader(root, path);

  ViTConfig config;
  config.hidden_size = reader.get_int("hidden_size");
  config.num_hidden_layers = reader.get_int("num_hidden_layers");
  config.num_attention_heads = reader.get_int("num_attention_heads");
  config.intermediate_size = reader.get_int("intermediate_size");
  config.image_size = reader.get_int("image_size");
  config.patch_size = reader.get_int("patch_size");
  // Optional with ViTConfig's defaults: older checkpoints predate qkv_bias.
  config.num_channels = reader.get_int("num_channels", 3);
  config.layer_norm_eps = reader.get_double("layer_norm_eps", 1e-12);
  config.hidden_act = reader.get_string("hidden_act", "gelu");
  config.qkv_bias = reader.get_bool("qkv_bias", true);
  config.model_type = reader.get_string("model_type", "vit");
  config.architectures = reader.get_string_list("architectures");
  config.id2label = parse_id2label(reader);
  check_label2id(reader, config.id2label);
  check_consistency(reader, config);
  return config;
}

std::string vit_config_to_json(const ViTConfig& config) {
  json root;
  root["architectures"] = config.architectures.empty()
                              ? std::vector<std::string>{"ViTForImageClassification"}
                              : config.architectures;
  root["attention_probs_dropout_prob"] = 0.0;
  root["encoder_stride"] = config.patch_size;
  root["hidden_act"] = config.hidden_act;
  root["hidden_dropout_prob"] = 0.0;
  root["hidden_size"] = config.hidden_size;
  root["image_size"] = config.image_size;
  root["initializer_range"] = 0.02;
  root["intermediate_size"] = config.intermediate_size;
  root["layer_norm_eps"] = config.layer_norm_eps;
  root["model_type"] = config.model_type;
  root["num_attention_heads"] = config.num_attention_heads;
  root["num_channels"] = config.num_channels;
  root["num_hidden_layers"] = config.num_hidden_layers;
  root["patch_size"] = config.patch_size;
  root["qkv_bias"] = config.qkv_bias;
  root["torch_dtype"] = "float32";
  if (!config.id2label.empty()) {
    json id2label = json::object();
    json label2id = json::object();
    for (std::size_t id = 0; id < config.id2label.size(); ++id) {
      id2label[std::to_string(id)] = config.id2label[id];
      label2id[config.id2label[id]] = id;
    }
    root["id2label"] = id2label;
    root["label2id"] = label2id;
    root["problem_type"] = "single_label_classification";
  }
  // transformers writes sorted keys with an indent of 2 and a final newline.
  return root.dump(2) + "\n";
}

ViTConfig vit_config_for_size(const std::string& size_name) {
  struct Size {
    const char* name;
    int hidden, layers, heads, intermediate;
  };
  // tiny/small/base/large are DeiT-Ti, DeiT-S, ViT-B and ViT-L at 16 px patches. "demo" is
  // small enough to train from scratch on 2 CPU cores in under an hour.
  static const Size kSizes[] = {{"tiny", 192, 12, 3, 768},
                                {"small", 384, 12, 6, 1536},
                                {"base", 768, 12, 12, 3072},
                                {"large", 1024, 24, 16, 4096},
                                {"demo", 192, 6, 3, 768}};
  for (const auto& size : kSizes) {
    if (size_name != size.name) continue;
    ViTConfig config;
    config.hidden_size = size.hidden;
    config.num_hidden_layers = size.layers;
    config.num_attention_heads = size.heads;
    config.intermediate_size = size.intermediate;
    config.image_size = 224;
    config.patch_size = 16;
    config.architectures = {"ViTForImageClassification"};
    return config;
  }
  throw InputError("model size '" + size_name +
                   "': expected one of tiny, small, base, large, demo");
}

}  // namespace bcd
