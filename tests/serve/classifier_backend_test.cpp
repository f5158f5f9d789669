// The server with a real (tiny) ViT from tests/fixtures/model: the API must
// answer exactly what bcd::Classifier answers for the same image.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/files.h"
#include "serve/classifier_backend.h"
#include "serve_test_util.h"
#include "support/temp_path.h"

namespace bcd::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The tiny classifier with the real input size (224 x 224) from
// tools/make_vit_fixtures.py, or "" when it has not been made.
std::string fixture_model_dir() {
  const fs::path dir = fs::path(BCD_SOURCE_DIR) / "tests/fixtures/model/vit_h48_i224";
  return fs::is_regular_file(dir / "model.safetensors") ? dir.string() : "";
}

class ClassifierBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_dir_ = fixture_model_dir();
    if (model_dir_.empty()) GTEST_SKIP() << "no model under tests/fixtures/model yet";
  }
  std::string model_dir_;
};

TEST_F(ClassifierBackendTest, ApiScoresEqualTheClassifiers) {
  ServerOptions options;
  testing::RunningServer server(options);
  server.server().set_model(load_classifier_backend(model_dir_, {}));
  const auto reference = Classifier::load(model_dir_);

  const Image image = testing::solid_image(40, 30, 180);
  const auto res = server.client()->Post("/v1/classify", testing::png_bytes(image), "image/png");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  const Prediction expected = reference->classify({image}).at(0);

  ASSERT_EQ(body["predictions"].size(), expected.ranked.size());
  for (std::size_t i = 0; i < expected.ranked.size(); ++i) {
    EXPECT_EQ(body["predictions"][i]["label"], expected.ranked[i].label);
    EXPECT_FLOAT_EQ(body["predictions"][i]["score"].get<float>(), expected.ranked[i].score);
  }
  EXPECT_EQ(body["model"]["revision"],
            file_fingerprint((fs::path(model_dir_) / "model.safetensors").string()));
}

TEST_F(ClassifierBackendTest, ModelRouteReportsLabelsInputSizeAndCard) {
  testing::RunningServer server;
  server.server().set_model(load_classifier_backend(model_dir_, {}));
  const auto reference = Classifier::load(model_dir_);
  const auto res = server.client()->Get("/v1/model");
  ASSERT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  EXPECT_EQ(body["labels"], json(reference->labels()));
  EXPECT_EQ(body["input_size"]["height"], reference->preprocessor().height);
  EXPECT_EQ(body["input_size"]["width"], reference->preprocessor().width);
  EXPECT_EQ(body["num_parameters"], reference->n_parameters());
  EXPECT_FALSE(body["architecture"].get<std::string>().empty());
  EXPECT_EQ(body["model_card"].is_null(), !fs::exists(fs::path(model_dir_) / "README.md"));
}

TEST_F(ClassifierBackendTest, ModelCardIsTheReadmeOfTheModelDirectory) {
  const fs::path dir = bcd::test::temp_path("bcd_serve_model_card_test");
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* name : {"config.json", "preprocessor_config.json", "model.safetensors"}) {
    fs::copy_file(fs::path(model_dir_) / name, dir / name);
  }
  const std::string card = "---\nlicense: apache-2.0\n---\n# Tiny ViT\nFor tests only.\n";
  write_file_atomic((dir / "README.md").string(), card);
  const ModelBackend backend = load_classifier_backend(dir.string(), {});
  EXPECT_EQ(backend.info.description["model_card"], card);
  fs::remove_all(dir);
}

TEST(ClassifierBackend, FingerprintDependsOnEveryByte) {
  const fs::path dir = bcd::test::temp_path("bcd_serve_fingerprint_test");
  fs::create_directories(dir);
  write_file_atomic((dir / "a").string(), std::string("weights"));
  write_file_atomic((dir / "b").string(), std::string("weightz"));
  const std::string a = file_fingerprint((dir / "a").string());
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, file_fingerprint((dir / "b").string()));
  EXPECT_EQ(a, file_fingerprint((dir / "a").string()));
  EXPECT_THROW(file_fingerprint((dir / "missing").string()), InputError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bcd::serve
