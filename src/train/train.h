#pragma once
// Fine-tuning and training from scratch with the model card's recipe:
// AdamW (weight decay 0.1, none on biases and LayerNorm weights, as the
// transformers Trainer does), a cosine schedule from lr 5e-5, batch 64
// (gradient accumulation over micro-batches where memory asks for it),
// 12 epochs, and 20% extra copies of the training images degraded with noise,
// blur and JPEG re-encoding.

#include <cstdint>
#include <string>
#include <vector>

#include "data/split.h"
#include "train/augment.h"

namespace bcd {

struct TrainOptions {
  std::string data_root;
  std::string output_dir;
  std::string split_path;      // "" -> <output_dir>/split.json; reused when it exists
  std::string base_model_dir;  // "" -> from scratch with `size`
  std::string size = "demo";   // tiny, small, base, large, demo (from scratch only)
  int image_size = 0;          // from scratch: overrides the size's image side (0: keep)
  int patch_size = 0;          // from scratch: overrides (0: keep)
  int hidden_size = 0;         // from scratch: overrides; intermediate = 4 x hidden (0: keep)
  int num_layers = 0;          // from scratch: overrides (0: keep)
  int num_heads = 0;           // from scratch: overrides (0: keep)
  int epochs = 12;
  int batch_size = 64;
  int micro_batch_size = 0;  // 0: the whole batch in one pass
  double learning_rate = 5e-5;
  double weight_decay = 0.1;
  double warmup_ratio = 0.0;  // fraction of optimizer steps with a linear warm-up
  double augment_fraction = 0.2;
  double hflip_probability = 0.0;  // not in the model card's recipe; off by default
  double crop_min_area = 1.0;      // < 1: random resized crops each step (not in the recipe)
  bool keep_best = false;          // final model = best validation accuracy, not the last epoch
  int keep_checkpoints = 2;        // per-epoch checkpoints kept on disk
  bool group_duplicates = true;
  int duplicate_threshold = -1;  // Hamming distance for grouping; <0: the audit's default
  SplitOptions split;
  std::uint64_t seed = 42;
  int threads = 0;
  AugmentOptions augment;
};

/// One line of the training log (train_log.jsonl).
struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, train_accuracy = 0;
  double validation_loss = 0, validation_accuracy = 0;
  double learning_rate = 0;  // at the end of the epoch
  double seconds = 0;
};

/// Trains and writes a Hugging Face model directory to options.output_dir
/// (config.json, preprocessor_config.json, model.safetensors, split.json,
/// train_log.jsonl, training_args.json), plus checkpoints/epoch-N after each
/// epoch (model and optimizer state together). Same seed, data and threads:
/// the same model, bit for bit.
std::vector<EpochRecord> train_model(const TrainOptions& options);

/// The learning rate at optimizer step `step` of `total_steps`: linear warm-up
/// over `warmup_steps`, then cosine decay to 0 (transformers'
/// get_cosine_schedule_with_warmup with half a cycle).
double cosine_learning_rate(double peak, std::int64_t step, std::int64_t total_steps,
                            std::int64_t warmup_steps);

}  // namespace bcd
