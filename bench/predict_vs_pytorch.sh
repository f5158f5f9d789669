#!/usr/bin/env bash
# `bcd predict` against PyTorch 1.13 eager doing the same job, side by side, in one run:
# the same ViT-B/16 model (random weights), the same real BUSI images (24 originals of
# 190 to 1048 px, so decoding and resizing count too), one image per forward pass, whole
# processes timed from start to exit (model loading included). Each side gets its best
# thread set-up, as a user could tune it:
#   bcd:     default, OMP_WAIT_POLICY=PASSIVE
#   PyTorch: default, PASSIVE, the OpenMP OpenBLAS preloaded, both
# It also checks that both sides rank the labels the same and agree on every score
# within 1e-4.
#
# Usage: bench/predict_vs_pytorch.sh   (after ./run.sh build)
# Environment: BCD_BUILD_DIR (build), BCD_DATA_DIR (../shared/data),
#   BCD_BENCH_MODEL (/tmp/bcd-bench/vit-base-random), BCD_BENCH_THREADS ("1 2"),
#   BCD_BENCH_REPEATS (2: rounds; a round is four runs per side, the fastest run counts)
# Prints one line per thread count, e.g.
#   threads=2 images=24 bcd_ms=9876 (default) pytorch_ms=12345 (omp) bcd/pytorch=0.80
set -euo pipefail
cd "$(dirname "$0")/.."

bcd=${BCD_BUILD_DIR:-build}/bcd
data=${BCD_DATA_DIR:-../shared/data}
model=${BCD_BENCH_MODEL:-/tmp/bcd-bench/vit-base-random}
thread_counts=${BCD_BENCH_THREADS:-1 2}
repeats=${BCD_BENCH_REPEATS:-2}
python=/usr/bin/python3
openmp_blas=/usr/lib/$(gcc -print-multiarch)/openblas-openmp/libopenblas.so.0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

log() { printf '[predict_vs_pytorch] %s\n' "$*" >&2; }

[ -x "$bcd" ] || { log "$bcd missing: ./run.sh build"; exit 2; }
if [ ! -f "$model/model.safetensors" ]; then
  log "writing a random-weight ViT-B/16 to $model"
  "$python" bench/pytorch_vit.py make-model "$model" --size base
fi
mapfile -t images < <(find "$data/busi-original-sample" -name '*.png' | sort)
[ ${#images[@]} -gt 0 ] || { log "no images in $data/busi-original-sample"; exit 2; }

# wall_ms SETUP OUTPUT COMMAND...: runs the command under SETUP, stdout to OUTPUT
wall_ms() {
  local setup=$1 output=$2 start end
  shift 2
  start=$(date +%s%N)
  case $setup in
    default) "$@" > "$output" 2>/dev/null ;;
    passive) OMP_WAIT_POLICY=PASSIVE "$@" > "$output" 2>/dev/null ;;
    omp) LD_PRELOAD="$openmp_blas" "$@" > "$output" 2>/dev/null ;;
    omp+passive) LD_PRELOAD="$openmp_blas" OMP_WAIT_POLICY=PASSIVE "$@" > "$output" 2>/dev/null ;;
  esac
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

# best SIDE "SETUPS" COMMAND...: prints "ms setup" of the fastest run. SETUPS lists one
# entry per run, so both sides get the same number of runs (repeats times that many).
best() {
  local side=$1 setups=$2 best_ms="" best_setup="" ms
  shift 2
  for ((r = 0; r < repeats; r++)); do
    for setup in $setups; do
      ms=$(wall_ms "$setup" "$out/$side.json" "$@")
      log "$side $setup: $ms ms"
      if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; best_setup=$setup; fi
    done
  done
  echo "$best_ms $best_setup"
}

bcd_setups="default passive default passive"
pytorch_setups="default passive omp omp+passive"
[ -f "$openmp_blas" ] || pytorch_setups="default passive default passive"
for threads in $thread_counts; do
  pin=(taskset -c "0-$((threads - 1))")
  read -r bcd_ms bcd_setup < <(best bcd "$bcd_setups" \
    "${pin[@]}" "$bcd" predict --model "$model" --batch-size 1 --threads "$threads" "${images[@]}")
  read -r py_ms py_setup < <(best pytorch "$pytorch_setups" \
    "${pin[@]}" "$python" bench/pytorch_vit.py predict "$model" --threads "$threads" "${images[@]}")
  "$python" - "$out/bcd.json" "$out/pytorch.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert len(a) == len(b), "different numbers of results"
worst = 0.0
for x, y in zip(a, b):
    assert [s["label"] for s in x["scores"]] == [s["label"] for s in y["scores"]], x["path"]
    worst = max(worst, max(abs(s["score"] - t["score"]) for s, t in zip(x["scores"], y["scores"])))
assert worst <= 1e-4, f"scores differ by {worst}"
print(f"[predict_vs_pytorch] same ranking for {len(a)} images, largest score difference {worst:.2e}",
      file=sys.stderr)
PY
  ratio=$(awk -v a="$bcd_ms" -v b="$py_ms" 'BEGIN { printf "%.2f", a / b }')
  echo "threads=$threads images=${#images[@]} bcd_ms=$bcd_ms ($bcd_setup)" \
    "pytorch_ms=$py_ms ($py_setup) bcd/pytorch=$ratio"
done
