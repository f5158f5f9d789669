#include "model/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/files.h"

namespace bcd {
namespace {

using nlohmann::json;

json base_json() {
  return json::parse(R"({
    "architectures": ["ViTForImageClassification"], "model_type": "vit",
    "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 3,
    "intermediate_size": 96, "image_size": 224, "patch_size": 16, "num_channels": 3,
    "layer_norm_eps": 1e-06, "hidden_act": "gelu", "qkv_bias": false,
    "id2label": {"0": "benign", "1": "malignant", "2": "normal"},
    "label2id": {"benign": 0, "malignant": 1, "normal": 2}})");
}

/// The ModelError message for parsing `j`, or "" when it parses.
std::string error_for(const json& j) {
  try {
    parse_vit_config(j.dump(), "model/config.json");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ParsesEveryField) {
  const ViTConfig c = parse_vit_config(base_json().dump(), "config.json");
  EXPECT_EQ(c.hidden_size, 48);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 3);
  EXPECT_EQ(c.intermediate_size, 96);
  EXPECT_EQ(c.image_size, 224);
  EXPECT_EQ(c.patch_size, 16);
  EXPECT_EQ(c.num_channels, 3);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-6);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"benign", "malignant", "normal"}));
  EXPECT_EQ(c.architectures, std::vector<std::string>{"ViTForImageClassification"});
  EXPECT_EQ(c.num_labels(), 3);
  EXPECT_EQ(c.num_patches(), 196);
}

TEST(Config, ParsesTheFixtureWrittenLikeTransformers) {
  const std::string path =
      std::string(BCD_SOURCE_DIR) + "/tests/fixtures/model/vit_h32_i48_bf16/config.json";
  const ViTConfig c = parse_vit_config(read_file_text(path), path);
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_EQ(c.patch_size, 12);
  EXPECT_FALSE(c.qkv_bias);
}

TEST(Config, OptionalFieldsTakeViTConfigDefaults) {
  json j = base_json();
  for (const char* field : {"qkv_bias", "layer_norm_eps", "num_channels", "hidden_act", "id2label",
                            "label2id", "architectures", "model_type"}) {
    j.erase(field);
  }
  const ViTConfig c = parse_vit_config(j.dump(), "config.json");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.num_channels, 3);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_TRUE(c.id2label.empty());
}

TEST(Config, MissingStructureFieldNamesFileAndField) {
  for (const char* field : {"hidden_size", "num_hidden_layers", "num_attention_heads",
                            "intermediate_size", "image_size", "patch_size"}) {
    json j = base_json();
    j.erase(field);
    const std::string message = error_for(j);
    EXPECT_NE(message.find("model/config.json"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("field '") + field + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("missing"), std::string::npos) << message;
  }
}

TEST(Config, WrongTypeSaysExpectedAndFound) {
  json j = base_json();
  j["hidden_size"] = "48";
  EXPECT_EQ(error_for(j),
            "model/config.json: field 'hidden_size': expected an integer, found string \"48\"");
  j = base_json();
  j["patch_size"] = 16.5;
  EXPECT_NE(error_for(j).find("expected an integer, found float 16.5"), std::string::npos);
  j = base_json();
  j["qkv_bias"] = "yes";
  EXPECT_NE(error_for(j).find("field 'qkv_bias': expected true or false"), std::string::npos);
  j = base_json();
  j["layer_norm_eps"] = "1e-6";
  EXPECT_NE(error_for(j).find("field 'layer_norm_eps': expected a number"), std::string::npos);
  j = base_json();
  j["num_hidden_layers"] = 0;
  EXPECT_NE(error_for(j).find("expected a positive integer"), std::string::npos);
}

TEST(Config, RejectsInconsistentValues) {
  json j = base_json();
  j["num_attention_heads"] = 5;
  EXPECT_NE(error_for(j).find("divisible"), std::string::npos);
  j = base_json();
  j["hidden_act"] = "gelu_new";
  EXPECT_NE(error_for(j).find("field 'hidden_act'"), std::string::npos);
  j = base_json();
  j["model_type"] = "deit";
  EXPECT_NE(error_for(j).find("field 'model_type'"), std::string::npos);
  j = base_json();
  j["patch_size"] = 300;
  EXPECT_NE(error_for(j).find("field 'patch_size'"), std::string::npos);
}

TEST(Config, ChecksLabelMaps) {
  json j = base_json();
  j["id2label"] = {{"0", "a"}, {"2", "b"}};
  j.erase("label2id");
  EXPECT_NE(error_for(j).find("field 'id2label'"), std::string::npos);
  j["id2label"] = {{"0", "a"}, {"x", "b"}};
  EXPECT_NE(error_for(j).find("found key \"x\""), std::string::npos);
  j["id2label"] = {{"0", "a"}, {"1", 7}};
  EXPECT_NE(error_for(j).find("expected a string"), std::string::npos);
  j = base_json();
  j["label2id"] = {{"benign", 1}, {"malignant", 0}, {"normal", 2}};
  EXPECT_NE(error_for(j).find("field 'label2id'"), std::string::npos);
  j["label2id"] = {{"benign", 0}};
  EXPECT_NE(error_for(j).find("expected 3 labels"), std::string::npos);
}

TEST(Config, RejectsMalformedJson) {
  try {
    parse_vit_config("{\"hidden_size\": 4", "dir/config.json");
    FAIL() << "expected a ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("dir/config.json: not valid JSON"), std::string::npos);
  }
  EXPECT_THROW(parse_vit_config("[1]", "config.json"), ModelError);
}

TEST(Config, WritesWhatTransformersWritesAndReadsItBack) {
  ViTConfig c = parse_vit_config(base_json().dump(), "config.json");
  const std::string text = vit_config_to_json(c);
  const json j = json::parse(text);
  EXPECT_EQ(j.at("model_type"), "vit");
  EXPECT_EQ(j.at("architectures"), json({"ViTForImageClassification"}));
  EXPECT_EQ(j.at("hidden_dropout_prob"), 0.0);
  EXPECT_EQ(j.at("attention_probs_dropout_prob"), 0.0);
  EXPECT_EQ(j.at("initializer_range"), 0.02);
  EXPECT_EQ(j.at("encoder_stride"), 16);
  EXPECT_EQ(j.at("torch_dtype"), "float32");
  EXPECT_EQ(j.at("id2label").at("1"), "malignant");
  EXPECT_EQ(j.at("label2id").at("normal"), 2);
  EXPECT_EQ(text.back(), '\n');

  const ViTConfig back = parse_vit_config(text, "config.json");
  EXPECT_EQ(back.hidden_size, c.hidden_size);
  EXPECT_EQ(back.intermediate_size, c.intermediate_size);
  EXPECT_EQ(back.layer_norm_eps, c.layer_norm_eps);
  EXPECT_EQ(back.qkv_bias, c.qkv_bias);
  EXPECT_EQ(back.id2label, c.id2label);
}

TEST(Config, NamedSizes) {
  const ViTConfig base = vit_config_for_size("base");
  EXPECT_EQ(base.hidden_size, 768);
  EXPECT_EQ(base.num_hidden_layers, 12);
  EXPECT_EQ(base.num_attention_heads, 12);
  EXPECT_EQ(base.intermediate_size, 3072);
  EXPECT_EQ(vit_config_for_size("large").num_hidden_layers, 24);
  EXPECT_EQ(vit_config_for_size("tiny").hidden_size, 192);
  EXPECT_EQ(vit_config_for_size("small").num_attention_heads, 6);
  const ViTConfig demo = vit_config_for_size("demo");
  EXPECT_EQ(demo.hidden_size % demo.num_attention_heads, 0);
  try {
    vit_config_for_size("huge");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tiny, small, base, large, demo"), std::string::npos);
  }
}

}  // namespace
}  // namespace bcd
