#include "train/train.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "common/errors.h"
#include "common/files.h"
#include "common/log.h"
#include "data/dataset.h"
#include "eval/audit.h"
#include "image/preprocess.h"
#include "image/resize.h"
#include "model/classifier.h"
#include "model/vit.h"

// Shapes: B batch, C = 3 channels, S image side in pixels, L labels.

namespace bcd {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Images already resized to the model's input side, with their labels.
struct ImageSet {
  std::vector<Image> images;
  std::vector<int> labels;
};

struct Model {
  ViTForImageClassification vit{nullptr};
  PreprocessorConfig preprocessor;
};

Split prepare_split(const TrainOptions& options, const Dataset& dataset) {
  const std::string path = options.split_path.empty()
                               ? (fs::path(options.output_dir) / "split.json").string()
                               : options.split_path;
  if (fs::exists(path)) {
    Split split = load_split(path);
    if (split.class_names != dataset.class_names) {
      throw InputError(path + ": the split's classes differ from the folders in " + dataset.root +
                       "; delete the split file or pass --split with another path");
    }
    spdlog::info("reusing split {} (train {}, validation {}, test {})", path, split.train.size(),
                 split.validation.size(), split.test.size());
    return split;
  }
  std::vector<int> group_of;
  std::string grouping;
  if (options.group_duplicates) {
    eval::AuditOptions audit;
    audit.threads = options.threads;
    if (options.duplicate_threshold >= 0) audit.hamming_threshold = options.duplicate_threshold;
    std::vector<std::string> paths;
    for (const auto& s : dataset.samples) paths.push_back(s.path);
    group_of = eval::near_duplicate_groups(paths, audit);
    grouping =
        "exact pixels or PHash Hamming distance <= " + std::to_string(audit.hamming_threshold) +
        " (bcd audit)";
  }
  Split split = make_split(dataset, options.split, group_of);
  split.grouping = grouping;
  spdlog::info("near-duplicate groups kept on one side: {}", split.groups.size());
  save_split(split, path);
  spdlog::info("wrote split {} (train {}, validation {}, test {})", path, split.train.size(),
               split.validation.size(), split.test.size());
  return split;
}

ImageSet load_resized(const std::vector<Sample>& samples, int side_px) {
  ImageSet set;
  for (const auto& s : samples) {
    set.images.push_back(resize_bilinear(load_image(s.path), side_px, side_px));
    set.labels.push_back(s.label);
  }
  return set;
}

/// The recipe's extra copies: round(fraction * n) training images drawn without
/// replacement, each degraded once, then resized like every other image.
void add_augmented_copies(const std::vector<Sample>& samples, const TrainOptions& options,
                          int side_px, std::mt19937_64& rng, ImageSet& set) {
  const auto n_extra =
      static_cast<std::size_t>(std::lround(samples.size() * options.augment_fraction));
  std::vector<std::size_t> order(samples.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t k = 0; k < std::min(n_extra, order.size()); ++k) {
    const Sample& s = samples[order[k]];
    const Image degraded = augment_copy(load_image(s.path), options.augment, rng);
    set.images.push_back(resize_bilinear(degraded, side_px, side_px));
    set.labels.push_back(s.label);
  }
}

Model build_model(const TrainOptions& options, const std::vector<std::string>& class_names) {
  Model m;
  ViTConfig config;
  std::unique_ptr<SafetensorsFile> base;
  if (!options.base_model_dir.empty()) {
    const fs::path dir(options.base_model_dir);
    config = parse_vit_config(read_file_text((dir / "config.json").string()),
                              (dir / "config.json").string());
    const auto pre_path = dir / "preprocessor_config.json";
    if (fs::exists(pre_path)) {
      m.preprocessor =
          parse_preprocessor_config(read_file_text(pre_path.string()), pre_path.string());
    }
    base = std::make_unique<SafetensorsFile>(
        SafetensorsFile::open((dir / "model.safetensors").string()));
  } else {
    config = vit_config_for_size(options.size);
    if (options.image_size > 0) config.image_size = options.image_size;
    if (options.patch_size > 0) config.patch_size = options.patch_size;
    if (options.hidden_size > 0) {
      config.hidden_size = options.hidden_size;
      config.intermediate_size = 4 * options.hidden_size;
    }
    if (options.num_layers > 0) config.num_hidden_layers = options.num_layers;
    if (options.num_heads > 0) config.num_attention_heads = options.num_heads;
    if (config.image_size % config.patch_size != 0 ||
        config.hidden_size % config.num_attention_heads != 0) {
      throw InputError(
          "model shape: expected --image-size divisible by --patch-size and "
          "--hidden-size divisible by --heads; got " +
          std::to_string(config.image_size) + "/" + std::to_string(config.patch_size) + " and " +
          std::to_string(config.hidden_size) + "/" + std::to_string(config.num_attention_heads));
    }
  }
  if (options.base_model_dir.empty() || !m.preprocessor.do_resize) {
    m.preprocessor.height = m.preprocessor.width = config.image_size;
  }
  config.id2label = class_names;
  config.architectures = {"ViTForImageClassification"};

  m.vit = ViTForImageClassification(config);
  init_vit_weights(m.vit);
  if (base) load_vit_weights(m.vit, *base, LoadMode::kBackbone);
  return m;
}

/// transformers' Trainer decays every weight but biases and LayerNorm weights.
std::unique_ptr<torch::optim::AdamW> make_optimizer(Model& m, const TrainOptions& options) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : m.vit->named_parameters()) {
    const std::string& name = p.key();
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    const bool exempt = is_bias || name.find("layernorm") != std::string::npos;
    (exempt ? no_decay : decay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decay,
      std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay)));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(options.learning_rate).weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(groups,
                                               torch::optim::AdamWOptions(options.learning_rate));
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

/// Per-step random transforms of a training image (none for evaluation).
struct StepAugment {
  const TrainOptions* options = nullptr;
  std::mt19937_64* rng = nullptr;

  Image apply(const Image& image) const {
    if (!options) return image;
    Image out = image;
    if (options->crop_min_area < 1.0) {
      out = random_resized_crop(out, options->crop_min_area, *rng);
    }
    if (std::bernoulli_distribution(options->hflip_probability)(*rng)) {
      out = flip_horizontal(out);
    }
    return out;
  }
};

/// [B, C, S, S] pixel values for the images at `indices`.
torch::Tensor make_batch(const ImageSet& set, const std::vector<std::size_t>& indices,
                         const PreprocessorConfig& pre, const StepAugment& augment) {
  const int64_t h = pre.height, w = pre.width;
  auto pixels = torch::empty({static_cast<int64_t>(indices.size()), 3, h, w});
  float* out = pixels.data_ptr<float>();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    preprocess_into(augment.apply(set.images[indices[i]]), pre, out + i * 3 * h * w);
  }
  return pixels;
}

torch::Tensor make_labels(const ImageSet& set, const std::vector<std::size_t>& indices) {
  auto labels = torch::empty({static_cast<int64_t>(indices.size())}, torch::kLong);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    labels[static_cast<int64_t>(i)] = set.labels[indices[i]];
  }
  return labels;
}

struct Totals {
  double loss_sum = 0;
  std::int64_t correct = 0, seen = 0;
};

struct Schedule {
  std::int64_t step = 0, total_steps = 0, warmup_steps = 0;
};

void train_one_epoch(Model& m, torch::optim::AdamW& optimizer, const ImageSet& set,
                     const TrainOptions& options, std::mt19937_64& rng, Schedule& schedule,
                     Totals& totals) {
  m.vit->train();
  std::vector<std::size_t> order(set.images.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const StepAugment augment{&options, &rng};
  const std::size_t micro =
      options.micro_batch_size > 0 ? options.micro_batch_size : options.batch_size;

  for (std::size_t begin = 0; begin < order.size(); begin += options.batch_size) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t end = std::min(order.size(), begin + options.batch_size);
    const double lr = cosine_learning_rate(options.learning_rate, schedule.step,
                                           schedule.total_steps, schedule.warmup_steps);
    set_learning_rate(optimizer, lr);
    optimizer.zero_grad();
    double batch_loss = 0;
    for (std::size_t mb = begin; mb < end; mb += micro) {
      const std::vector<std::size_t> idx(order.begin() + mb,
                                         order.begin() + std::min(end, mb + micro));
      const auto logits = m.vit->forward(make_batch(set, idx, m.preprocessor, augment));
      const auto labels = make_labels(set, idx);
      // Sum over the micro-batch, divided by the whole batch: the accumulated
      // gradient equals that of one pass over the batch with mean reduction.
      const auto loss = torch::nn::functional::cross_entropy(
          logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      (loss / static_cast<double>(end - begin)).backward();
      batch_loss += loss.item<double>();
      totals.correct += logits.argmax(/*dim=*/1).eq(labels).sum().item<std::int64_t>();
    }
    optimizer.step();
    ++schedule.step;
    totals.loss_sum += batch_loss;
    totals.seen += static_cast<std::int64_t>(end - begin);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    spdlog::debug("step {}/{} loss {:.4f} lr {:.3g} {:.0f} ms/step", schedule.step,
                  schedule.total_steps, batch_loss / (end - begin), lr, ms);
  }
}

Totals evaluate_set(Model& m, const ImageSet& set, int micro) {
  torch::NoGradGuard no_grad;
  m.vit->eval();
  Totals totals;
  for (std::size_t begin = 0; begin < set.images.size(); begin += micro) {
    std::vector<std::size_t> idx;
    for (std::size_t i = begin; i < std::min(set.images.size(), begin + micro); ++i) {
      idx.push_back(i);
    }
    const auto logits = m.vit->forward(make_batch(set, idx, m.preprocessor, StepAugment{}));
    const auto labels = make_labels(set, idx);
    totals.loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    totals.correct += logits.argmax(/*dim=*/1).eq(labels).sum().item<std::int64_t>();
    totals.seen += static_cast<std::int64_t>(idx.size());
  }
  return totals;
}

json record_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy},
          {"validation_loss", r.validation_loss},
          {"validation_accuracy", r.validation_accuracy},
          {"learning_rate", r.learning_rate},
          {"seconds", r.seconds}};
}

void write_log(const std::string& path, const std::vector<EpochRecord>& records) {
  std::string text;
  for (const auto& r : records) text += record_json(r).dump() + "\n";
  write_file_atomic(path, text);
}

void save_checkpoint(Model& m, torch::optim::AdamW& optimizer, const TrainOptions& options,
                     const EpochRecord& record, const Schedule& schedule) {
  const fs::path root = fs::path(options.output_dir) / "checkpoints";
  const fs::path dir = root / ("epoch-" + std::to_string(record.epoch));
  save_vit_model_dir(m.vit, m.preprocessor, dir.string(),
                     {{"epoch", std::to_string(record.epoch)}});
  const std::string tmp = (dir / "optimizer.pt.tmp").string();
  torch::save(optimizer, tmp);
  fs::rename(tmp, dir / "optimizer.pt");
  json state = record_json(record);
  state["global_step"] = schedule.step;
  state["total_steps"] = schedule.total_steps;
  write_file_atomic((dir / "trainer_state.json").string(), state.dump(2) + "\n");

  const int stale = record.epoch - options.keep_checkpoints;
  if (stale >= 1) fs::remove_all(root / ("epoch-" + std::to_string(stale)));
}

/// Largest --image-size for a model trained here: ViT-L at 1024 px already needs
/// tens of GiB per image for its attention matrices.
constexpr int kMaxImageSize = 1024;

void validate_options(const TrainOptions& o) {
  if (o.epochs < 1) throw InputError("--epochs: expected at least 1");
  if (o.batch_size < 1) throw InputError("--batch-size: expected at least 1");
  if (o.micro_batch_size < 0) throw InputError("--micro-batch-size: expected >= 0");
  if (!(o.learning_rate > 0 && o.learning_rate <= 1)) {
    throw InputError("--lr: expected a learning rate in (0, 1], found " +
                     std::to_string(o.learning_rate));
  }
  if (!(o.weight_decay >= 0 && o.weight_decay <= 10)) {
    throw InputError("--weight-decay: expected a value in [0, 10], found " +
                     std::to_string(o.weight_decay));
  }
  if (!(o.augment_fraction >= 0 && o.augment_fraction <= 10)) {
    throw InputError("--augment-fraction: expected a value in [0, 10]");
  }
  if (o.duplicate_threshold < -1 || o.duplicate_threshold > 32) {
    throw InputError(
        "--duplicate-threshold: expected -1 (the audit's default) or 0 to 32 bits of "
        "64; past 32 unrelated images count as duplicates");
  }
  if (o.image_size > kMaxImageSize) {
    throw InputError("--image-size: expected at most " + std::to_string(kMaxImageSize) +
                     " px, found " + std::to_string(o.image_size));
  }
  if (o.warmup_ratio < 0 || o.warmup_ratio >= 1) {
    throw InputError("--warmup-ratio: expected a value in [0, 1)");
  }
}

json options_json(const TrainOptions& o) {
  return {{"data_root", o.data_root},
          {"base_model_dir", o.base_model_dir},
          {"size", o.size},
          {"image_size", o.image_size},
          {"patch_size", o.patch_size},
          {"hidden_size", o.hidden_size},
          {"num_layers", o.num_layers},
          {"num_heads", o.num_heads},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"micro_batch_size", o.micro_batch_size},
          {"learning_rate", o.learning_rate},
          {"weight_decay", o.weight_decay},
          {"warmup_ratio", o.warmup_ratio},
          {"augment_fraction", o.augment_fraction},
          {"hflip_probability", o.hflip_probability},
          {"crop_min_area", o.crop_min_area},
          {"keep_best", o.keep_best},
          {"seed", o.seed},
          {"threads", o.threads},
          {"validation_fraction", o.split.validation_fraction},
          {"test_fraction", o.split.test_fraction}};
}

}  // namespace

double cosine_learning_rate(double peak, std::int64_t step, std::int64_t total_steps,
                            std::int64_t warmup_steps) {
  if (step < warmup_steps)
    return peak * static_cast<double>(step) / std::max<std::int64_t>(1, warmup_steps);
  const double progress = static_cast<double>(step - warmup_steps) /
                          std::max<std::int64_t>(1, total_steps - warmup_steps);
  return peak * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

std::vector<EpochRecord> train_model(const TrainOptions& options) {
  validate_options(options);
  set_compute_threads(options.threads);
  torch::manual_seed(options.seed);
  std::mt19937_64 rng(options.seed);

  const Dataset dataset = scan_folder_dataset(options.data_root);
  const Split split = prepare_split(options, dataset);
  Model m = build_model(options, dataset.class_names);
  const int side_px = m.preprocessor.height;

  const auto train_samples = split_samples(split, dataset, "train");
  ImageSet train_set = load_resized(train_samples, side_px);
  add_augmented_copies(train_samples, options, side_px, rng, train_set);
  const ImageSet val_set = load_resized(split_samples(split, dataset, "validation"), side_px);
  spdlog::info("training on {} images ({} originals + {} degraded copies), validating on {}",
               train_set.images.size(), train_samples.size(),
               train_set.images.size() - train_samples.size(), val_set.images.size());

  auto optimizer = make_optimizer(m, options);
  Schedule schedule;
  const auto steps_per_epoch =
      (static_cast<std::int64_t>(train_set.images.size()) + options.batch_size - 1) /
      options.batch_size;
  schedule.total_steps = steps_per_epoch * options.epochs;
  schedule.warmup_steps = std::llround(options.warmup_ratio * schedule.total_steps);

  const fs::path out(options.output_dir);
  write_file_atomic((out / "training_args.json").string(), options_json(options).dump(2) + "\n");
  save_split(split, (out / "split.json").string());

  std::vector<EpochRecord> records;
  std::vector<torch::Tensor> best_state;
  double best_accuracy = -1;
  const int eval_batch = options.micro_batch_size > 0 ? options.micro_batch_size : 32;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    Totals train_totals;
    train_one_epoch(m, *optimizer, train_set, options, rng, schedule, train_totals);
    const Totals val = evaluate_set(m, val_set, eval_batch);

    EpochRecord r;
    r.epoch = epoch;
    r.train_loss = train_totals.loss_sum / std::max<std::int64_t>(1, train_totals.seen);
    r.train_accuracy =
        static_cast<double>(train_totals.correct) / std::max<std::int64_t>(1, train_totals.seen);
    r.validation_loss = val.loss_sum / std::max<std::int64_t>(1, val.seen);
    r.validation_accuracy = static_cast<double>(val.correct) / std::max<std::int64_t>(1, val.seen);
    r.learning_rate = cosine_learning_rate(options.learning_rate, schedule.step,
                                           schedule.total_steps, schedule.warmup_steps);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    records.push_back(r);
    spdlog::info(
        "epoch {}/{}: train loss {:.4f} acc {:.3f} | validation loss {:.4f} acc {:.3f}"
        " | lr {:.3g} | {:.0f} s",
        epoch, options.epochs, r.train_loss, r.train_accuracy, r.validation_loss,
        r.validation_accuracy, r.learning_rate, r.seconds);
    write_log((out / "train_log.jsonl").string(), records);
    if (!std::isfinite(r.train_loss) || !std::isfinite(r.validation_loss)) {
      throw InputError(
          "training diverged in epoch " + std::to_string(epoch) +
          ": the loss is NaN or infinite; the model directory was not written (checkpoints of "
          "earlier epochs remain). Lower --lr (" +
          std::to_string(options.learning_rate) + ") or add --warmup-ratio");
    }
    save_checkpoint(m, *optimizer, options, r, schedule);

    if (options.keep_best && r.validation_accuracy > best_accuracy) {
      best_accuracy = r.validation_accuracy;
      best_state.clear();
      for (const auto& p : m.vit->parameters()) best_state.push_back(p.detach().clone());
    }
  }
  if (options.keep_best) {
    torch::NoGradGuard no_grad;
    auto params = m.vit->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
    spdlog::info("keeping the epoch with the best validation accuracy ({:.3f})", best_accuracy);
  }
  save_vit_model_dir(m.vit, m.preprocessor, options.output_dir,
                     {{"format", "pt"}, {"trained_by", "bcd train"}});
  spdlog::info("wrote model to {}", options.output_dir);
  return records;
}

}  // namespace bcd
