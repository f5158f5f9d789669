#!/usr/bin/env bash
# bcd's ViT forward pass against PyTorch 1.13 eager, on the same random-weight ViT-B/16
# model and the same inputs, at batch 1 and 8 and 1 and 2 threads.
#
# PyTorch gets its best of three BLAS set-ups, as a user could tune it:
#   default  libblas.so.3 as the Debian alternatives resolve it (the pthread OpenBLAS when
#            libopenblas0-pthread is installed)
#   omp      the OpenMP OpenBLAS preloaded (LD_PRELOAD), sharing libtorch's OpenMP threads
#   blas1    the default with OPENBLAS_NUM_THREADS=1
# bcd needs no such tuning: bcd_model links the OpenMP build itself (src/model/CMakeLists.txt).
#
# Usage: bench/speed_vs_pytorch.sh   (after building the bcd_vit_latency target)
# Environment: BCD_BUILD_DIR (build), BCD_BENCH_MODEL (/tmp/bcd-bench/vit-base-random),
#   BCD_BENCH_SIZE (base), BCD_BENCH_BATCHES ("1 8"), BCD_BENCH_THREADS ("1 2"),
#   BCD_BENCH_ITERATIONS (5; batch 8 uses half).
# Prints one line per setting, e.g.
#   batch=1 threads=2 bcd_ms=250.1 pytorch_ms=262.3 (omp) bcd/pytorch=0.95
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BCD_BUILD_DIR:-build}
model_dir=${BCD_BENCH_MODEL:-/tmp/bcd-bench/vit-base-random}
size=${BCD_BENCH_SIZE:-base}
batches=${BCD_BENCH_BATCHES:-1 8}
thread_counts=${BCD_BENCH_THREADS:-1 2}
iterations=${BCD_BENCH_ITERATIONS:-5}
python=/usr/bin/python3
openmp_blas=/usr/lib/$(gcc -print-multiarch)/openblas-openmp/libopenblas.so.0
bench_bin="$build_dir/bench/bcd_vit_latency"

log() { printf '[speed_vs_pytorch] %s\n' "$*" >&2; }

[ -x "$bench_bin" ] || { log "$bench_bin missing: cmake --build $build_dir --target bcd_vit_latency"; exit 2; }
if [ ! -f "$model_dir/model.safetensors" ]; then
  log "writing a random-weight ViT ($size) to $model_dir"
  "$python" bench/pytorch_vit.py make-model "$model_dir" --size "$size"
fi

# median_ms of one "... median_ms=M ..." line
median() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p'; }

pytorch_best() {
  local batch=$1 threads=$2 n=$3 best="" best_name="" ms
  local args=(bench/pytorch_vit.py time "$model_dir" --batch "$batch" --threads "$threads"
              --iterations "$n" --warmup 1)
  for setup in default omp blas1; do
    case $setup in
      default) ms=$("$python" "${args[@]}" | median) ;;
      omp) [ -f "$openmp_blas" ] || continue
           ms=$(LD_PRELOAD="$openmp_blas" "$python" "${args[@]}" | median) ;;
      blas1) ms=$(OPENBLAS_NUM_THREADS=1 "$python" "${args[@]}" | median) ;;
    esac
    log "pytorch batch=$batch threads=$threads $setup: $ms ms"
    if [ -z "$best" ] || awk -v a="$ms" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$ms; best_name=$setup
    fi
  done
  echo "$best $best_name"
}

for batch in $batches; do
  n=$iterations
  [ "$batch" -gt 1 ] && n=$(( (iterations + 1) / 2 ))
  for threads in $thread_counts; do
    bcd_ms=$("$bench_bin" "$model_dir" "$batch" "$threads" "$n" 1 | median)
    read -r pytorch_ms setup < <(pytorch_best "$batch" "$threads" "$n")
    ratio=$(awk -v a="$bcd_ms" -v b="$pytorch_ms" 'BEGIN { printf "%.2f", a / b }')
    echo "batch=$batch threads=$threads bcd_ms=$bcd_ms pytorch_ms=$pytorch_ms ($setup)" \
         "bcd/pytorch=$ratio"
  done
done
