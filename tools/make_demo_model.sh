#!/usr/bin/env bash
# Trains the demo model and writes its card from what bcd measures.
# Usage: tools/make_demo_model.sh [--reuse-training]   (after ./run.sh build; under an hour)
#   --reuse-training  keep $BCD_DEMO_WORK/train from an earlier run of the same command and
#                     only re-measure (evaluation, audit, card)
# Environment: BCD_BUILD_DIR (build), BCD_DATA_DIR (../shared/data),
#   BCD_DEMO_WORK (/tmp/bcd-demo-work: training output, checkpoints and reports).
set -euo pipefail
cd "$(dirname "$0")/.."

bcd=${BCD_BUILD_DIR:-build}/bcd
data=${BCD_DATA_DIR:-../shared/data}
work=${BCD_DEMO_WORK:-/tmp/bcd-demo-work}
model=models/bcd-demo-vit

train=("$bcd" train "$data/busi" -o "$work/train" --image-size 96 --patch-size 8
  --hidden-size 128 --layers 4 --heads 4 --epochs 60 --batch-size 16 --lr 5e-4 --warmup-ratio 0.05
  --hflip 0.5 --random-crop 0.5 --keep-best --seed 42 --threads 2)

mkdir -p "$work/reports"
if [ "${1:-}" != "--reuse-training" ]; then
  rm -rf "$work/train"
  start=$(date +%s)
  # Passive OpenMP waiting: busy-waiting threads cost several times the step time
  # when anything else shares the two cores.
  OMP_WAIT_POLICY=passive "${train[@]}"
  echo $(( $(date +%s) - start )) > "$work/reports/train_seconds.txt"
fi

# The model directory as published: no checkpoints, no optimizer state.
rm -rf "$model"
mkdir -p "$model"
cp "$work/train"/{config.json,preprocessor_config.json,model.safetensors,split.json} "$model/"
cp "$work/train"/{train_log.jsonl,training_args.json} "$model/"

"$bcd" evaluate --model "$model" "$data/busi" --split "$model/split.json" --side test \
  --output "$work/reports/eval_test.json" --html "$work/reports/eval_test.html"
"$bcd" evaluate --model "$model" "$data/bus-uc" \
  --output "$work/reports/eval_bus_uc.json" --html "$work/reports/eval_bus_uc.html"
"$bcd" audit "$data/busi" --output "$work/reports/audit_busi.json"
"$bcd" audit "$data/busi" --split "$model/split.json" --output "$work/reports/audit_split.json"
cp "$work/reports"/*.json "$model/"
mkdir -p "$model/reports" && mv "$model"/eval_*.json "$model"/audit_*.json "$model/reports/"

command="${train[*]}"
command=${command//$work/OUT}
command=${command//$data/..\/shared\/data}
/usr/bin/python3 tools/write_model_card.py "$model" "$work/reports" "$command"
echo "wrote $model (reports in $work/reports)" >&2
