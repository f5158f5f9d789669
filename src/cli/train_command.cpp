// bcd train: the model card's recipe on a folder-per-class data set.

#include "cli/commands.h"
#include "cli/options.h"
#include "common/errors.h"
#include "train/train.h"

namespace bcd::cli {

namespace {

void add_recipe_options(CLI::App& cmd, TrainOptions& o) {
  cmd.add_option("--epochs", o.epochs, "Passes over the training images")->capture_default_str();
  add_batch_size_option(cmd, o.batch_size);
  cmd.add_option("--micro-batch-size", o.micro_batch_size,
                 "Images per forward pass; gradients are accumulated up to --batch-size "
                 "(0: the whole batch at once)")
      ->capture_default_str();
  cmd.add_option("--lr", o.learning_rate, "Peak learning rate of the cosine schedule")
      ->capture_default_str();
  cmd.add_option("--weight-decay", o.weight_decay,
                 "AdamW weight decay (not applied to biases and LayerNorm weights)")
      ->capture_default_str();
  cmd.add_option("--warmup-ratio", o.warmup_ratio,
                 "Fraction of optimizer steps with a linear warm-up before the cosine decay")
      ->capture_default_str();
  cmd.add_option("--augment-fraction", o.augment_fraction,
                 "Extra degraded copies (noise, blur, JPEG) as a fraction of the training images")
      ->capture_default_str();
  cmd.add_option("--hflip", o.hflip_probability,
                 "Probability of mirroring a training image left-right (not in the card's recipe)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd.add_option("--random-crop", o.crop_min_area,
                 "Smallest area kept by a random resized crop of each training image per step "
                 "(1: no cropping, the card's recipe)")
      ->check(CLI::Range(0.05, 1.0))
      ->capture_default_str();
  cmd.add_flag("--keep-best", o.keep_best,
               "Keep the epoch with the best validation accuracy instead of the last");
  cmd.add_option("--keep-checkpoints", o.keep_checkpoints, "Per-epoch checkpoints kept on disk")
      ->check(at_least(1))
      ->capture_default_str();
}

void add_data_options(CLI::App& cmd, TrainOptions& o) {
  cmd.add_option("data", o.data_root, "Data set folder: one sub-folder of images per class")
      ->required();
  cmd.add_option("-o,--output", o.output_dir, "Folder for the trained model directory")->required();
  cmd.add_option("--split", o.split_path,
                 "Split file: reused when it exists, written otherwise "
                 "(default: OUTPUT/split.json)");
  cmd.add_flag("!--no-group-duplicates", o.group_duplicates,
               "Do not keep near-duplicate images (bcd audit's groups) on one side of a new split");
  cmd.add_option("--duplicate-threshold", o.duplicate_threshold,
                 "PHash Hamming distance that makes two images near duplicates when grouping "
                 "(-1: bcd audit's default)")
      ->capture_default_str();
  cmd.add_option("--validation-fraction", o.split.validation_fraction,
                 "Share of each class held out for validation (new splits only)")
      ->capture_default_str();
  cmd.add_option("--test-fraction", o.split.test_fraction,
                 "Share of each class held out for testing (new splits only)")
      ->capture_default_str();
}

}  // namespace

RunFn add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train",
                                 "Train a ViT classifier and write a Hugging Face "
                                 "model directory");
  add_data_options(*cmd, *o);
  auto* base = cmd->add_option("--base", o->base_model_dir,
                               "Start from this checkpoint directory (ViTModel or "
                               "ViTForImageClassification) with a new classification head");
  cmd->add_option("--size", o->size, "From scratch: tiny, small, base, large or demo")
      ->excludes(base)
      ->capture_default_str();
  const std::pair<const char*, int*> shape[] = {{"--image-size", &o->image_size},
                                                {"--patch-size", &o->patch_size},
                                                {"--hidden-size", &o->hidden_size},
                                                {"--layers", &o->num_layers},
                                                {"--heads", &o->num_heads}};
  for (const auto& [flag, field] : shape) {
    cmd->add_option(flag, *field, "From scratch: override the size's value (0: keep it)")
        ->excludes(base)
        ->check(at_least(0));
  }
  add_recipe_options(*cmd, *o);
  cmd->add_option("--seed", o->seed, "Seed for the split, initialisation, order and augmentation")
      ->capture_default_str();
  add_threads_option(*cmd, o->threads);
  return [o] {
    train_model(*o);
    return static_cast<int>(kExitOk);
  };
}

}  // namespace bcd::cli
