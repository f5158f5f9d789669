#include "model/vit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/errors.h"
#include "common/files.h"
#include "model_fixtures.h"
#include "support/temp_path.h"

namespace bcd {
namespace {

namespace fs = std::filesystem;
using testing::fixture_dir;
using testing::load_reference;
using testing::max_abs_diff;

// Logit tolerance against the plain-PyTorch restatement of transformers' forward pass.
constexpr double kTolerance = 1e-4;

ViTConfig small_config(int n_labels) {
  ViTConfig c;
  c.hidden_size = 16;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.image_size = 16;
  c.patch_size = 8;
  for (int i = 0; i < n_labels; ++i) c.id2label.push_back("class" + std::to_string(i));
  return c;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

TEST(ViT, ParameterNamesAreTransformersNames) {
  ViTForImageClassification model(small_config(3));
  std::vector<std::string> names;
  for (const auto& item : model->named_parameters()) names.push_back(item.key());
  const std::string l = "vit.encoder.layer.0.";
  const std::vector<std::string> expected = {"vit.embeddings.cls_token",
                                             "vit.embeddings.position_embeddings",
                                             "vit.embeddings.patch_embeddings.projection.weight",
                                             "vit.embeddings.patch_embeddings.projection.bias",
                                             l + "attention.attention.query.weight",
                                             l + "attention.attention.query.bias",
                                             l + "attention.attention.key.weight",
                                             l + "attention.attention.key.bias",
                                             l + "attention.attention.value.weight",
                                             l + "attention.attention.value.bias",
                                             l + "attention.output.dense.weight",
                                             l + "attention.output.dense.bias",
                                             l + "intermediate.dense.weight",
                                             l + "intermediate.dense.bias",
                                             l + "output.dense.weight",
                                             l + "output.dense.bias",
                                             l + "layernorm_before.weight",
                                             l + "layernorm_before.bias",
                                             l + "layernorm_after.weight",
                                             l + "layernorm_after.bias",
                                             "vit.layernorm.weight",
                                             "vit.layernorm.bias",
                                             "classifier.weight",
                                             "classifier.bias"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(model->named_parameters()["vit.embeddings.position_embeddings"].sizes(),
            (std::vector<std::int64_t>{1, 5, 16}));
}

class ViTFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ViTFixture, LogitsMatchTheReference) {
  LoadedViT loaded = load_vit_model_dir(fixture_dir(GetParam()), LoadMode::kClassifier);
  const auto ref = load_reference(GetParam());
  torch::Tensor logits;
  {
    c10::InferenceMode inference;
    logits = loaded.model->forward(ref.pixels);
  }
  ASSERT_EQ(logits.sizes(), ref.expected.sizes());
  const double diff = max_abs_diff(logits, ref.expected);
  RecordProperty("max_abs_logit_diff", testing::scientific(diff));
  EXPECT_LT(diff, kTolerance) << GetParam();

  // The autograd path (separate fused weights, no in-place work) gives the same numbers.
  const torch::Tensor with_grad = loaded.model->forward(ref.pixels);
  EXPECT_TRUE(with_grad.requires_grad());
  EXPECT_LT(max_abs_diff(with_grad.detach(), ref.expected), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ViTFixture,
                         ::testing::Values("vit_h64_i32", "vit_h48_i224", "vit_h64_i32_f16",
                                           "vit_h32_i48_bf16"));

TEST(ViT, LoadsABareViTModelAsBackbone) {
  const std::string dir = fixture_dir("vitmodel_h32_i32_backbone");
  const auto ref = load_reference("vitmodel_h32_i32_backbone");
  LoadedViT loaded = load_vit_model_dir(dir, LoadMode::kBackbone);
  EXPECT_EQ(loaded.model->config().num_labels(), 0);
  torch::NoGradGuard no_grad;
  EXPECT_LT(max_abs_diff(loaded.model->forward(ref.pixels), ref.expected), kTolerance);

  // Into a model with its own labels: the backbone is loaded, the classifier keeps its init.
  ViTConfig config = loaded.model->config();
  config.id2label = {"a", "b", "c"};
  ViTForImageClassification model(config);
  torch::manual_seed(7);
  init_vit_weights(model);
  const torch::Tensor classifier_before = model->classifier->weight.clone();
  load_vit_weights(model, SafetensorsFile::open(dir + "/model.safetensors"), LoadMode::kBackbone);
  EXPECT_TRUE(torch::equal(model->classifier->weight, classifier_before));
  EXPECT_LT(max_abs_diff(model->vit->forward(ref.pixels), ref.expected), kTolerance);
}

TEST(ViT, BackboneIsNotAClassifier) {
  const std::string message = error_of(
      [] { load_vit_model_dir(fixture_dir("vitmodel_h32_i32_backbone"), LoadMode::kClassifier); });
  EXPECT_NE(message.find("unexpected tensor 'embeddings.cls_token'"), std::string::npos) << message;
  EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
}

TEST(ViT, MisshapenTensorNamesTensorShapesAndFile) {
  const std::string dir = fixture_dir("vit_h64_i32");
  ViTConfig config = load_vit_model_dir(dir, LoadMode::kClassifier).model->config();
  config.intermediate_size = 256;
  ViTForImageClassification model(config);
  const std::string message = error_of([&] {
    load_vit_weights(model, SafetensorsFile::open(dir + "/model.safetensors"),
                     LoadMode::kClassifier);
  });
  EXPECT_NE(message.find(dir + "/model.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("tensor 'vit.encoder.layer.0.intermediate.dense.weight': expected "
                         "shape [256, 64], found [128, 64]"),
            std::string::npos)
      << message;
}

TEST(ViT, MissingAndUnexpectedTensorsAreErrors) {
  ViTForImageClassification model(small_config(2));
  std::vector<TensorToWrite> tensors;
  for (const auto& item : model->named_parameters()) {
    if (item.key() == "classifier.bias") continue;
    tensors.push_back(
        {item.key(), DType::F32, item.value().sizes().vec(), item.value().data_ptr()});
  }
  const float extra = 1.0f;
  tensors.push_back({"vit.extra", DType::F32, {1}, &extra});
  const std::vector<std::int32_t> integers(16, 1);
  for (auto& t : tensors) {
    if (t.name == "vit.layernorm.bias") t = {t.name, DType::I32, t.shape, integers.data()};
  }
  const std::string path = (bcd::test::temp_path("bcd_vit_test_missing.safetensors"));
  write_safetensors(path, tensors);
  const torch::Tensor before = model->vit->layernorm->weight.clone();
  const std::string message = error_of(
      [&] { load_vit_weights(model, SafetensorsFile::open(path), LoadMode::kClassifier); });
  EXPECT_NE(message.find("missing tensor 'classifier.bias' (expected shape [2])"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("unexpected tensor 'vit.extra'"), std::string::npos) << message;
  EXPECT_NE(message.find("tensor 'vit.layernorm.bias': expected F32, F16 or BF16, found I32"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("missing tensor 'vit.layernorm.bias'"), std::string::npos) << message;
  // Nothing was copied: a bad file leaves the model as it was.
  EXPECT_TRUE(torch::equal(model->vit->layernorm->weight, before));
  fs::remove(path);
}

TEST(ViT, SaveThenLoadGivesTheSameModel) {
  LoadedViT loaded = load_vit_model_dir(fixture_dir("vit_h64_i32_f16"), LoadMode::kClassifier);
  const std::string dir = (bcd::test::temp_path("bcd_vit_test_saved")).string();
  fs::remove_all(dir);
  ViTForImageClassification model = loaded.model;
  save_vit_model_dir(model, loaded.preprocessor, dir, {{"bcd_epoch", "3"}});
  const auto file = SafetensorsFile::open(dir + "/model.safetensors");
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_EQ(file.metadata().at("bcd_epoch"), "3");
  EXPECT_EQ(file.find("classifier.weight")->dtype, DType::F32);

  LoadedViT again = load_vit_model_dir(dir, LoadMode::kClassifier);
  EXPECT_EQ(again.model->config().id2label, loaded.model->config().id2label);
  EXPECT_EQ(again.preprocessor.height, loaded.preprocessor.height);
  const auto ref = load_reference("vit_h64_i32_f16");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(again.model->forward(ref.pixels), loaded.model->forward(ref.pixels)));
  fs::remove_all(dir);
}

TEST(ViT, MissingFilesAreModelErrors) {
  const std::string dir = (bcd::test::temp_path("bcd_vit_test_incomplete")).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_NE(error_of([&] {
              load_vit_model_dir(dir, LoadMode::kClassifier);
            }).find(dir + "/config.json: not found"),
            std::string::npos);
  fs::copy_file(fixture_dir("vit_h64_i32") + "/config.json", dir + "/config.json");
  fs::copy_file(fixture_dir("vit_h64_i32") + "/preprocessor_config.json",
                dir + "/preprocessor_config.json");
  write_file_atomic(dir + "/pytorch_model.bin", std::string("x"));
  EXPECT_NE(error_of([&] {
              load_vit_model_dir(dir, LoadMode::kClassifier);
            }).find("convert pytorch_model.bin"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(ViT, InitialisationFollowsTransformers) {
  ViTForImageClassification a(small_config(3)), b(small_config(3));
  torch::manual_seed(42);
  init_vit_weights(a);
  torch::manual_seed(42);
  init_vit_weights(b);
  for (const auto& item : a->named_parameters()) {
    const torch::Tensor& t = item.value();
    EXPECT_TRUE(torch::equal(t, b->named_parameters()[item.key()])) << item.key();
    const bool is_norm = item.key().find("layernorm") != std::string::npos;
    const bool is_bias =
        item.key().size() > 5 && item.key().substr(item.key().size() - 5) == ".bias";
    if (is_bias) {
      EXPECT_EQ(t.abs().max().item<float>(), 0.0f) << item.key();
    } else if (is_norm) {
      EXPECT_TRUE(torch::equal(t, torch::ones_like(t))) << item.key();
    } else {
      EXPECT_LE(t.abs().max().item<float>(), 2.0f) << item.key();
      EXPECT_GT(t.std().item<float>(), 0.01f) << item.key();
      EXPECT_LT(t.std().item<float>(), 0.03f) << item.key();
    }
  }
}

TEST(ViT, TrainsUnderAutogradAndInferenceSeesNewWeights) {
  ViTForImageClassification model(small_config(3));
  torch::manual_seed(1);
  init_vit_weights(model);
  const torch::Tensor pixels = torch::rand({4, 3, 16, 16}) * 2 - 1;
  const torch::Tensor labels = torch::tensor({0, 1, 2, 1});
  model->prepare_inference();  // caches the fused qkv weights, which training must drop
  torch::optim::SGD sgd(model->parameters(), /*lr=*/0.5);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(pixels), labels);
  loss.backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_TRUE(torch::isfinite(item.value().grad()).all().item<bool>()) << item.key();
  }
  EXPECT_GT(model->named_parameters()["vit.encoder.layer.0.attention.attention.key.weight"]
                .grad()
                .abs()
                .sum()
                .item<float>(),
            0.0f);
  sgd.step();

  const torch::Tensor after_grad = model->forward(pixels).detach();
  c10::InferenceMode inference;
  EXPECT_LT(max_abs_diff(model->forward(pixels), after_grad), 1e-6);
}

TEST(ViT, GradientsMatchFiniteDifferences) {
  // In double precision, so that central differences are accurate to about 1e-8.
  ViTForImageClassification model(small_config(3));
  torch::manual_seed(3);
  init_vit_weights(model);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.3);
  }
  model->to(torch::kFloat64);
  const torch::Tensor pixels = torch::rand({2, 3, 16, 16}, torch::kFloat64) * 2 - 1;
  const torch::Tensor labels = torch::tensor({2, 0});
  const auto loss_of = [&] {
    return torch::nn::functional::cross_entropy(model->forward(pixels), labels);
  };
  loss_of().backward();

  const std::string l = "vit.encoder.layer.0.";
  auto params = model->named_parameters();
  for (const std::string& name : std::vector<std::string>{
           "vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
           "vit.embeddings.patch_embeddings.projection.weight",
           l + "attention.attention.query.weight", l + "attention.attention.key.bias",
           l + "attention.attention.value.weight", l + "layernorm_before.weight",
           l + "intermediate.dense.bias", "classifier.weight"}) {
    torch::Tensor flat = params[name].view({-1});
    const torch::Tensor grad = params[name].grad().view({-1});
    for (const std::int64_t i : {std::int64_t{0}, flat.size(0) / 2, flat.size(0) - 1}) {
      const double h = 1e-6;
      double up, down;
      {
        torch::NoGradGuard no_grad;
        flat[i] += h;
        up = loss_of().item<double>();
        flat[i] -= 2 * h;
        down = loss_of().item<double>();
        flat[i] += h;
      }
      EXPECT_NEAR(grad[i].item<double>(), (up - down) / (2 * h), 1e-6) << name << "[" << i << "]";
    }
  }
}

TEST(ViT, RejectsPixelsOfTheWrongShape) {
  ViTForImageClassification model(small_config(3));
  torch::NoGradGuard no_grad;
  try {
    model->forward(torch::zeros({1, 3, 32, 32}));
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected shape [B, 3, 16, 16]"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("found [1, 3, 32, 32]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bcd
