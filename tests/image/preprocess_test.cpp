// ViTImageProcessor parity: config parsing and pixel values against the float32
// values tools/make_image_fixtures.py computed the way transformers does.

#include "image/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "image_test_util.h"

namespace bcd {
namespace {

std::vector<float> read_floats(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  std::vector<float> values(bytes.size() / 4);
  std::memcpy(values.data(), bytes.data(), values.size() * 4);  // little-endian host
  return values;
}

/// The ModelError message parsing `json` gives ("" if it parses).
std::string parse_error(const std::string& json) {
  try {
    parse_preprocessor_config(json, "model/preprocessor_config.json");
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(Preprocess, MatchesTransformersValues) {
  const std::string dir = test::fixture_dir() + "/preprocess/";
  const nlohmann::json manifest = test::read_json(test::fixture_dir() + "/manifest.json");
  ASSERT_EQ(manifest["preprocess"].size(), 2u);
  for (const auto& entry : manifest["preprocess"]) {
    const std::string config_path = dir + entry["config"].get<std::string>();
    SCOPED_TRACE(config_path);
    const PreprocessorConfig config =
        parse_preprocessor_config(read_file_text(config_path), config_path);
    const Image source = test::make_pattern(entry["source_width"], entry["source_height"],
                                            entry["source_seed"].get<std::uint32_t>());
    const std::vector<float> actual = preprocess(source, config);
    ASSERT_EQ(actual.size(), entry["count"].get<std::size_t>());

    const bool sampled = entry.contains("sampled_every");
    const std::size_t step = sampled ? entry["sampled_every"].get<std::size_t>() : 1;
    const std::vector<float> expected =
        read_floats(dir + entry[sampled ? "sampled_values" : "values"].get<std::string>());
    double worst = 0.0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      worst = std::max(worst, double(std::fabs(actual[i * step] - expected[i])));
    }
    std::printf("preprocess %-22s %zu values compared, max |diff| %.3g\n",
                entry["config"].get<std::string>().c_str(), expected.size(), worst);
    EXPECT_LE(worst, 1e-6);
  }
}

TEST(Preprocess, SizeForms) {
  EXPECT_EQ(parse_preprocessor_config(R"({"size": 384})", "p").height, 384);
  const PreprocessorConfig hw =
      parse_preprocessor_config(R"({"size": {"height": 32, "width": 48}})", "p");
  EXPECT_EQ(hw.height, 32);
  EXPECT_EQ(hw.width, 48);
  const PreprocessorConfig edge =
      parse_preprocessor_config(R"({"size": {"shortest_edge": 64}})", "p");
  EXPECT_EQ(edge.height, 64);
  EXPECT_EQ(edge.width, 64);
  const PreprocessorConfig defaults = parse_preprocessor_config("{}", "p");
  EXPECT_EQ(defaults.height, 224);
  EXPECT_TRUE(defaults.do_resize && defaults.do_rescale && defaults.do_normalize);
  EXPECT_EQ(defaults.image_mean[1], 0.5f);
}

TEST(Preprocess, RejectsUnsupportedResample) {
  const std::string message = parse_error(R"({"resample": 3})");
  EXPECT_NE(message.find("model/preprocessor_config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("\"resample\""), std::string::npos) << message;
  EXPECT_NE(message.find("only 2"), std::string::npos) << message;
}

TEST(Preprocess, WrongTypesNameFileAndField) {
  const struct {
    const char* json;
    const char* field;
  } cases[] = {{R"({"do_resize": "yes"})", "\"do_resize\""},
               {R"({"size": "big"})", "\"size\""},
               {R"({"size": {"height": 0, "width": 4}})", "\"size.height\""},
               {R"({"rescale_factor": "1/255"})", "\"rescale_factor\""},
               {R"({"image_mean": [0.5, 0.5]})", "\"image_mean\""},
               {R"({"image_std": [0.5, "x", 0.5]})", "\"image_std[1]\""},
               {R"({"image_std": [0.5, 0, 0.5]})", "\"image_std\""},
               {R"({"resample": 2.5})", "\"resample\""}};
  for (const auto& c : cases) {
    const std::string message = parse_error(c.json);
    EXPECT_EQ(message.rfind("model/preprocessor_config.json: ", 0), 0u) << c.json;
    EXPECT_NE(message.find(c.field), std::string::npos) << c.json << " -> " << message;
  }
  EXPECT_NE(parse_error("{not json").find("invalid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[1, 2]").find("expected a JSON object"), std::string::npos);
}

TEST(Preprocess, ConfigJsonRoundTrips) {
  PreprocessorConfig config;
  config.height = 32;
  config.width = 48;
  config.image_mean = {0.485f, 0.456f, 0.406f};
  const std::string text = preprocessor_config_to_json(config);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["image_processor_type"], "ViTImageProcessor");
  EXPECT_EQ(j["size"]["height"], 32);
  EXPECT_EQ(j["size"]["width"], 48);
  EXPECT_EQ(j["resample"], 2);
  EXPECT_EQ(j["image_mean"][0].get<double>(), 0.485);  // not 0.48500001430511475
  EXPECT_EQ(j["rescale_factor"].get<double>(), 1.0 / 255.0);
  const PreprocessorConfig back = parse_preprocessor_config(text, "p");
  EXPECT_EQ(back.image_mean, config.image_mean);
  EXPECT_EQ(back.width, 48);
}

TEST(Preprocess, NoResizeNeedsTheModelSize) {
  PreprocessorConfig config;
  config.do_resize = false;
  config.height = config.width = 8;
  EXPECT_THROW(preprocess(test::make_pattern(9, 8, 0), config), InputError);
  const std::vector<float> values = preprocess(test::make_pattern(8, 8, 0), config);
  EXPECT_EQ(values.size(), 3u * 8 * 8);
}

}  // namespace
}  // namespace bcd
