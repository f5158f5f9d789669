#include "model/vit.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "common/errors.h"
#include "common/files.h"
#include "common/log.h"

// Shapes as in vit_modules.h: B batch, N tokens, D hidden, Hd heads, d head size.

namespace bcd {
namespace {

namespace fs = std::filesystem;

ViTLinear make_linear(int in_features, int out_features, bool bias = true) {
  return ViTLinear(in_features, out_features, bias);
}

torch::nn::LayerNorm make_layer_norm(const ViTConfig& config) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps));
}

/// True when no gradient is being recorded, so tensors may be overwritten in place.
bool may_work_in_place() { return !torch::GradMode::is_enabled(); }

/// a + b, written into a. Safe under autograd too: every caller passes as `a` the fresh
/// output of a linear layer, which no backward function reads.
torch::Tensor add_residual(torch::Tensor a, const torch::Tensor& b) { return a.add_(b); }

std::string shape_string(at::IntArrayRef shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return out + "]";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Modules

ViTLinearImpl::ViTLinearImpl(int in_features, int out_features, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}));
}

ViTPatchEmbeddingsImpl::ViTPatchEmbeddingsImpl(const ViTConfig& config)
    : num_channels_(config.num_channels), image_size_(config.image_size) {
  projection = register_module(
      "projection",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(config.num_channels, config.hidden_size, config.patch_size)
              .stride(config.patch_size)));
}

torch::Tensor ViTPatchEmbeddingsImpl::forward(const torch::Tensor& pixel_values) {
  const auto sizes = pixel_values.sizes();
  if (pixel_values.dim() != 4 || sizes[1] != num_channels_ || sizes[2] != image_size_ ||
      sizes[3] != image_size_) {
    throw InputError("pixel_values: expected shape [B, " + std::to_string(num_channels_) + ", " +
                     std::to_string(image_size_) + ", " + std::to_string(image_size_) +
                     "] for this model, found " + shape_string(sizes));
  }
  // [B, D, H/P, W/P] -> [B, N - 1, D]
  return projection->forward(pixel_values).flatten(/*start_dim=*/2).transpose(1, 2);
}

ViTEmbeddingsImpl::ViTEmbeddingsImpl(const ViTConfig& config) {
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, config.hidden_size}));
  position_embeddings = register_parameter(
      "position_embeddings", torch::zeros({1, config.num_patches() + 1, config.hidden_size}));
  patch_embeddings = register_module("patch_embeddings", ViTPatchEmbeddings(config));
}

torch::Tensor ViTEmbeddingsImpl::forward(const torch::Tensor& pixel_values) {
  const torch::Tensor patches = patch_embeddings->forward(pixel_values);
  const auto batch = patches.size(0);
  torch::Tensor tokens = torch::cat({cls_token.expand({batch, -1, -1}), patches}, /*dim=*/1);
  // tokens is a fresh tensor that cat's backward does not read, so it may take the sum.
  return tokens.add_(position_embeddings);
}

ViTSelfAttentionImpl::ViTSelfAttentionImpl(const ViTConfig& config)
    : num_heads_(config.num_attention_heads),
      head_size_(config.hidden_size / config.num_attention_heads) {
  const int d = config.hidden_size;
  query = register_module("query", make_linear(d, d, config.qkv_bias));
  key = register_module("key", make_linear(d, d, config.qkv_bias));
  value = register_module("value", make_linear(d, d, config.qkv_bias));
}

std::array<const torch::Tensor*, 6> ViTSelfAttentionImpl::qkv_tensors() const {
  return {&query->weight, &key->weight, &value->weight, &query->bias, &key->bias, &value->bias};
}

bool ViTSelfAttentionImpl::fused_cache_valid() const {
  if (!fused_weight_.defined()) return false;
  const auto tensors = qkv_tensors();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor& t = *tensors[i];
    if (!t.defined()) continue;
    // Inference tensors keep no version counter: rebuild every time rather than go stale.
    if (t.is_inference()) return false;
    if (t.data_ptr() != fused_pointers_[i] || t._version() != fused_versions_[i]) return false;
  }
  return true;
}

std::pair<torch::Tensor, torch::Tensor> ViTSelfAttentionImpl::fused_qkv() {
  const auto concat = [](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
    return q.defined() ? torch::cat({q, k, v}, /*dim=*/0) : torch::Tensor();
  };
  if (torch::GradMode::is_enabled()) {
    // Training: the weights are about to change, through paths (Tensor::data()) that leave
    // no trace in their version counters, so the cache goes until prepare_inference().
    clear_inference_cache();
  }
  if (!cache_enabled_) {
    return {concat(query->weight, key->weight, value->weight),
            concat(query->bias, key->bias, value->bias)};
  }
  if (!fused_cache_valid()) {
    fused_weight_ = concat(query->weight, key->weight, value->weight);
    fused_bias_ = concat(query->bias, key->bias, value->bias);
    const auto tensors = qkv_tensors();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      const torch::Tensor& t = *tensors[i];
      fused_pointers_[i] = t.defined() ? t.data_ptr() : nullptr;
      fused_versions_[i] = t.defined() && !t.is_inference() ? t._version() : 0;
    }
  }
  return {fused_weight_, fused_bias_};
}

void ViTSelfAttentionImpl::prepare_inference() {
  torch::NoGradGuard no_grad;
  cache_enabled_ = true;
  fused_qkv();
}

void ViTSelfAttentionImpl::clear_inference_cache() {
  cache_enabled_ = false;
  fused_weight_ = torch::Tensor();
  fused_bias_ = torch::Tensor();
}

torch::Tensor ViTSelfAttentionImpl::forward(const torch::Tensor& x, bool cls_only) {
  const auto batch = x.size(0), n_tokens = x.size(1);
  const auto [weight, bias] = fused_qkv();

  // One projection for query, key and value: [B, N, 3D] -> three [B, Hd, N, d] views.
  const torch::Tensor qkv =
      torch::linear(x, weight, bias).view({batch, n_tokens, 3, num_heads_, head_size_});
  torch::Tensor q = qkv.select(/*dim=*/2, 0).transpose(1, 2);
  const torch::Tensor k = qkv.select(/*dim=*/2, 1).transpose(1, 2);
  const torch::Tensor v = qkv.select(/*dim=*/2, 2).transpose(1, 2);
  if (cls_only) q = q.narrow(/*dim=*/2, /*start=*/0, /*length=*/1);

  // [B, Hd, Nq, N]; divided after the product, as transformers does, for the same rounding.
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1));
  scores.div_(std::sqrt(static_cast<double>(head_size_)));
  const torch::Tensor probs = torch::softmax(scores, /*dim=*/-1);

  // [B, Hd, Nq, d] -> [B, Nq, D]
  const torch::Tensor context = torch::matmul(probs, v).transpose(1, 2);
  return context.reshape({batch, q.size(2), num_heads_ * head_size_});
}

ViTSelfOutputImpl::ViTSelfOutputImpl(const ViTConfig& config) {
  dense = register_module("dense", make_linear(config.hidden_size, config.hidden_size));
}

ViTAttentionImpl::ViTAttentionImpl(const ViTConfig& config) {
  attention = register_module("attention", ViTSelfAttention(config));
  output = register_module("output", ViTSelfOutput(config));
}

torch::Tensor ViTAttentionImpl::forward(const torch::Tensor& x, bool cls_only) {
  return output->dense->forward(attention->forward(x, cls_only));
}

ViTIntermediateImpl::ViTIntermediateImpl(const ViTConfig& config) {
  dense = register_module("dense", make_linear(config.hidden_size, config.intermediate_size));
}

torch::Tensor ViTIntermediateImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = dense->forward(x);
  // GELU's backward reads its input, so only without autograd may it overwrite it.
  return may_work_in_place() ? torch::gelu_(h) : torch::gelu(h);
}

ViTOutputImpl::ViTOutputImpl(const ViTConfig& config) {
  dense = register_module("dense", make_linear(config.intermediate_size, config.hidden_size));
}

torch::Tensor ViTOutputImpl::forward(const torch::Tensor& h, const torch::Tensor& residual) {
  return add_residual(dense->forward(h), residual);
}

ViTLayerImpl::ViTLayerImpl(const ViTConfig& config) {
  attention = register_module("attention", ViTAttention(config));
  intermediate = register_module("intermediate", ViTIntermediate(config));
  output = register_module("output", ViTOutput(config));
  layernorm_before = register_module("layernorm_before", make_layer_norm(config));
  layernorm_after = register_module("layernorm_after", make_layer_norm(config));
}

torch::Tensor ViTLayerImpl::forward(const torch::Tensor& x, bool cls_only) {
  const torch::Tensor residual = cls_only ? x.narrow(/*dim=*/1, 0, 1) : x;
  const torch::Tensor h =
      add_residual(attention->forward(layernorm_before->forward(x), cls_only), residual);
  return output->forward(intermediate->forward(layernorm_after->forward(h)), h);
}

ViTEncoderImpl::ViTEncoderImpl(const ViTConfig& config) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int i = 0; i < config.num_hidden_layers; ++i) layer->push_back(ViTLayer(config));
}

torch::Tensor ViTEncoderImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  const std::size_t n_layers = layer->size();
  for (std::size_t i = 0; i < n_layers; ++i) {
    h = layer->at<ViTLayerImpl>(i).forward(h, /*cls_only=*/i + 1 == n_layers);
  }
  return h;
}

ViTModelImpl::ViTModelImpl(const ViTConfig& config) {
  embeddings = register_module("embeddings", ViTEmbeddings(config));
  encoder = register_module("encoder", ViTEncoder(config));
  layernorm = register_module("layernorm", make_layer_norm(config));
}

torch::Tensor ViTModelImpl::forward(const torch::Tensor& pixel_values) {
  const torch::Tensor cls = encoder->forward(embeddings->forward(pixel_values));
  return layernorm->forward(cls).select(/*dim=*/1, 0);
}

ViTForImageClassificationImpl::ViTForImageClassificationImpl(const ViTConfig& config)
    : config_(config) {
  vit = register_module("vit", ViTModel(config));
  if (config.num_labels() > 0) {
    classifier =
        register_module("classifier", make_linear(config.hidden_size, config.num_labels()));
  }
}

torch::Tensor ViTForImageClassificationImpl::forward(const torch::Tensor& pixel_values) {
  const torch::Tensor features = vit->forward(pixel_values);
  return classifier ? classifier->forward(features) : features;
}

void ViTForImageClassificationImpl::prepare_inference() {
  for (auto& module : modules()) {
    if (auto* attention = module->as<ViTSelfAttentionImpl>()) attention->prepare_inference();
  }
}

void ViTForImageClassificationImpl::clear_inference_cache() {
  for (auto& module : modules()) {
    if (auto* attention = module->as<ViTSelfAttentionImpl>()) attention->clear_inference_cache();
  }
}

// ---------------------------------------------------------------------------------------------
// Initialisation

namespace {

/// torch.nn.init.trunc_normal_(t, mean=0, std, a=-2, b=2) step by step, for the same draws:
/// uniform on [2 cdf(a) - 1, 2 cdf(b) - 1], inverse erf, scale, clamp.
void trunc_normal_(torch::Tensor& t, double std_dev) {
  const auto norm_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lower = -2.0, upper = 2.0;
  const double l = norm_cdf(lower / std_dev), u = norm_cdf(upper / std_dev);
  t.uniform_(2 * l - 1, 2 * u - 1);
  t.erfinv_();
  t.mul_(std_dev * std::sqrt(2.0));
  t.clamp_(lower, upper);
}

constexpr double kInitializerRange = 0.02;  // ViTConfig.initializer_range

}  // namespace

void init_vit_weights(ViTForImageClassification& model) {
  torch::NoGradGuard no_grad;
  for (auto& module : model->modules()) {
    if (auto* linear = module->as<ViTLinearImpl>()) {
      trunc_normal_(linear->weight, kInitializerRange);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* conv = module->as<torch::nn::Conv2dImpl>()) {
      trunc_normal_(conv->weight, kInitializerRange);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* norm = module->as<torch::nn::LayerNormImpl>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    } else if (auto* embeddings = module->as<ViTEmbeddingsImpl>()) {
      trunc_normal_(embeddings->position_embeddings, kInitializerRange);
      trunc_normal_(embeddings->cls_token, kInitializerRange);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loading and saving weights

namespace {

/// The model's name for a checkpoint tensor, or "" for one that is ignored: the pooler
/// (ViTForImageClassification has none) and, for a backbone, any classifier.
std::string model_name_for(const std::string& name, LoadMode mode) {
  const auto starts_with = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts_with("pooler.") || starts_with("vit.pooler.")) return "";
  if (mode == LoadMode::kBackbone) {
    if (starts_with("classifier.")) return "";
    // transformers saves a bare ViTModel without the "vit." prefix.
    if (!starts_with("vit.")) return "vit." + name;
  }
  return name;
}

/// Every parameter the mode requires that the checkpoint did not provide.
void report_missing(const torch::OrderedDict<std::string, torch::Tensor>& params,
                    const std::set<std::string>& loaded, LoadMode mode,
                    std::vector<std::string>& problems) {
  for (const auto& item : params) {
    const bool required = mode == LoadMode::kClassifier || item.key().rfind("vit.", 0) == 0;
    if (required && loaded.count(item.key()) == 0) {
      problems.push_back("missing tensor '" + item.key() + "' (expected shape " +
                         shape_string(item.value().sizes()) + ")");
    }
  }
}

struct PlannedCopy {
  torch::Tensor* target;
  const TensorInfo* source;
};

/// Matches checkpoint tensors to parameters; every problem becomes one line of `problems`.
std::vector<PlannedCopy> plan_weight_copies(torch::OrderedDict<std::string, torch::Tensor>& params,
                                            const SafetensorsFile& file, LoadMode mode,
                                            std::vector<std::string>& problems) {
  std::vector<PlannedCopy> plan;
  std::set<std::string> loaded;
  for (const TensorInfo& info : file.tensors()) {
    const std::string name = model_name_for(info.name, mode);
    if (name.empty()) continue;
    torch::Tensor* param = params.find(name);
    if (param == nullptr) {
      problems.push_back("unexpected tensor '" + info.name + "' " + shape_string(info.shape) +
                         ": the model has no such parameter");
      continue;
    }
    loaded.insert(name);  // found; any problem below is its own, not a missing tensor
    if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16) {
      problems.push_back("tensor '" + info.name + "': expected F32, F16 or BF16, found " +
                         dtype_name(info.dtype));
      continue;
    }
    if (param->sizes() != at::IntArrayRef(info.shape)) {
      problems.push_back("tensor '" + info.name + "': expected shape " +
                         shape_string(param->sizes()) + ", found " + shape_string(info.shape));
      continue;
    }
    plan.push_back({param, &info});
  }
  report_missing(params, loaded, mode, problems);
  return plan;
}

/// Calls `use` with the checkpoint's values for one planned copy, as float32 of the
/// parameter's shape: F32 straight from the file's bytes (one copy fewer, which is
/// 340 MB for ViT-B), F16 and BF16 converted.
template <typename Use>
void with_source_values(const SafetensorsFile& file, const PlannedCopy& copy, Use&& use) {
  const std::uint8_t* raw = file.data(*copy.source);
  const bool aligned = reinterpret_cast<std::uintptr_t>(raw) % alignof(float) == 0;
  if (copy.source->dtype == DType::F32 && aligned) {
    use(torch::from_blob(const_cast<std::uint8_t*>(raw), copy.target->sizes(), torch::kFloat32));
    return;
  }
  std::vector<float> values = file.to_float32(*copy.source);
  use(torch::from_blob(values.data(), copy.target->sizes(), torch::kFloat32));
}

}  // namespace

void load_vit_weights(ViTForImageClassification& model, const SafetensorsFile& file,
                      LoadMode mode) {
  auto params = model->named_parameters(/*recurse=*/true);
  std::vector<std::string> problems;
  const auto plan = plan_weight_copies(params, file, mode, problems);
  if (!problems.empty()) {
    std::string message = file.path() + ": does not fit this model (" +
                          std::to_string(model->config().num_hidden_layers) + " layers, hidden " +
                          std::to_string(model->config().hidden_size) + "):";
    const std::size_t kShown = 8;
    for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) message += "\n  " + problems[i];
    if (problems.size() > kShown) {
      message += "\n  ... and " + std::to_string(problems.size() - kShown) + " more";
    }
    throw ModelError(message);
  }

  // Checked in full before the first copy, so a bad file leaves the model as it was.
  torch::NoGradGuard no_grad;
  for (const auto& copy : plan) {
    with_source_values(file, copy, [&](const torch::Tensor& values) {
      // A NaN weight (a diverged training run, a damaged file) would make every score NaN.
      if (!torch::isfinite(values).all().item<bool>()) {
        throw ModelError(file.path() + ": tensor '" + copy.source->name +
                         "' holds NaN or infinite values; expected finite weights");
      }
    });
  }
  model->clear_inference_cache();
  for (const auto& copy : plan) {
    with_source_values(file, copy,
                       [&](const torch::Tensor& values) { copy.target->copy_(values); });
  }
}

void save_vit_model_dir(ViTForImageClassification& model, const PreprocessorConfig& pre,
                        const std::string& dir,
                        const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep_alive;
  std::vector<TensorToWrite> tensors;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    keep_alive.push_back(item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous());
    const torch::Tensor& t = keep_alive.back();
    tensors.push_back({item.key(), DType::F32, t.sizes().vec(), t.data_ptr()});
  }
  // transformers writes this tag and refuses to load files without it.
  std::map<std::string, std::string> all_metadata = metadata;
  all_metadata["format"] = "pt";

  ViTConfig config = model->config();
  if (config.architectures.empty()) config.architectures = {"ViTForImageClassification"};
  const fs::path root(dir);
  write_safetensors((root / "model.safetensors").string(), tensors, all_metadata);
  write_file_atomic((root / "preprocessor_config.json").string(), preprocessor_config_to_json(pre));
  write_file_atomic((root / "config.json").string(), vit_config_to_json(config));
}

namespace {

std::string read_model_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw ModelError(path.string() +
                     ": not found (a model directory holds config.json, "
                     "preprocessor_config.json and model.safetensors)");
  }
  try {
    return read_file_text(path.string());
  } catch (const InputError& e) {
    throw ModelError(e.what());
  }
}

SafetensorsFile open_weights(const fs::path& dir) {
  std::error_code ec;
  const fs::path path = dir / "model.safetensors";
  if (fs::is_regular_file(path, ec)) return SafetensorsFile::open(path.string());
  if (fs::exists(dir / "model.safetensors.index.json", ec)) {
    throw ModelError(path.string() +
                     ": not found; sharded checkpoints "
                     "(model.safetensors.index.json) are not supported, save as one file");
  }
  if (fs::exists(dir / "pytorch_model.bin", ec)) {
    throw ModelError(path.string() +
                     ": not found; only safetensors weights are read, convert "
                     "pytorch_model.bin with save_pretrained(safe_serialization=True)");
  }
  throw ModelError(path.string() + ": not found");
}

PreprocessorConfig read_preprocessor(const fs::path& dir, const ViTConfig& config, LoadMode mode) {
  const fs::path path = dir / "preprocessor_config.json";
  std::error_code ec;
  PreprocessorConfig pre;
  if (mode == LoadMode::kBackbone && !fs::exists(path, ec)) {
    spdlog::warn("{}: not found; using ViTImageProcessor defaults at {} px", path.string(),
                 config.image_size);
    pre.height = pre.width = config.image_size;
    return pre;
  }
  pre = parse_preprocessor_config(read_model_file(path), path.string());
  if (pre.do_resize && (pre.height != config.image_size || pre.width != config.image_size)) {
    throw ModelError(path.string() + ": field 'size': expected " +
                     std::to_string(config.image_size) + "x" + std::to_string(config.image_size) +
                     " to match config.json image_size, found " + std::to_string(pre.height) + "x" +
                     std::to_string(pre.width));
  }
  return pre;
}

/// transformers gives a config without id2label two labels, LABEL_0 and LABEL_1; like it, name
/// the rows of the checkpoint's classifier.
void default_labels_from_checkpoint(ViTConfig& config, const SafetensorsFile& file) {
  const TensorInfo* weight = file.find("classifier.weight");
  if (weight == nullptr || weight->shape.size() != 2) return;
  for (std::int64_t i = 0; i < weight->shape[0]; ++i) {
    config.id2label.push_back("LABEL_" + std::to_string(i));
  }
}

}  // namespace

LoadedViT load_vit_model_dir(const std::string& dir, LoadMode mode) {
  const fs::path root(dir);
  const fs::path config_path = root / "config.json";
  ViTConfig config = parse_vit_config(read_model_file(config_path), config_path.string());
  PreprocessorConfig pre = read_preprocessor(root, config, mode);
  const SafetensorsFile weights = open_weights(root);
  if (mode == LoadMode::kClassifier && config.id2label.empty()) {
    default_labels_from_checkpoint(config, weights);
  }

  LoadedViT loaded;
  loaded.model = ViTForImageClassification(config);
  // A classifier checkpoint overwrites every parameter (load_vit_weights checks that it has
  // them all), so only a backbone needs the random initialisation, which for ViT-B costs
  // seconds (trunc_normal_ calls erf per element).
  if (mode == LoadMode::kBackbone) init_vit_weights(loaded.model);
  load_vit_weights(loaded.model, weights, mode);
  loaded.model->eval();
  loaded.preprocessor = pre;
  return loaded;
}

}  // namespace bcd
