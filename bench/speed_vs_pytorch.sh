#!/usr/bin/env bash
# bcd's ViT forward pass against PyTorch 1.13 eager, on the same random-weight ViT-B/16
# model and the same inputs, at batch 1 and 8 and 1 and 2 threads (milliseconds per pass).
#
# Fairness on a shared machine, where other processes make single runs swing by 2x:
# - every run is pinned with taskset to as many cores as threads (the pthread OpenBLAS
#   otherwise takes every core whatever torch.set_num_threads says);
# - each run reports its fastest timed pass, the figure least disturbed by other processes;
# - each side gets the same number of runs (4), and its fastest counts. PyTorch spends them on
#   four set-ups a user could pick without rebuilding, bcd on its two:
#     default   as installed (PyTorch: libblas.so.3 as the Debian alternatives resolve it, the
#               pthread OpenBLAS when libopenblas0-pthread is installed; bcd: the OpenMP
#               OpenBLAS that bcd_model links, see src/model/CMakeLists.txt)
#     passive   OMP_WAIT_POLICY=PASSIVE (much faster when other processes share the cores;
#               libgomp reads it only at start-up, so it is the user's to set)
#     omp       PyTorch: the OpenMP OpenBLAS preloaded (LD_PRELOAD)
#     omp+passive  both
#
# Usage: bench/speed_vs_pytorch.sh   (after building the bcd_vit_latency target)
# Environment: BCD_BUILD_DIR (build), BCD_BENCH_MODEL (/tmp/bcd-bench/vit-base-random),
#   BCD_BENCH_SIZE (base), BCD_BENCH_BATCHES ("1 8"), BCD_BENCH_THREADS ("1 2"),
#   BCD_BENCH_ITERATIONS (timed passes per run: 4; batch 8 uses half).
# Prints one line per setting, e.g.
#   batch=1 threads=2 bcd_ms=250.1 (default) pytorch_ms=262.3 (omp) bcd/pytorch=0.95
# and each run on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BCD_BUILD_DIR:-build}
model_dir=${BCD_BENCH_MODEL:-/tmp/bcd-bench/vit-base-random}
size=${BCD_BENCH_SIZE:-base}
batches=${BCD_BENCH_BATCHES:-1 8}
thread_counts=${BCD_BENCH_THREADS:-1 2}
iterations=${BCD_BENCH_ITERATIONS:-4}
python=/usr/bin/python3
openmp_blas=/usr/lib/$(gcc -print-multiarch)/openblas-openmp/libopenblas.so.0
bench_bin="$build_dir/bench/bcd_vit_latency"

log() { printf '[speed_vs_pytorch] %s\n' "$*" >&2; }

if [ ! -x "$bench_bin" ]; then
  log "$bench_bin missing: cmake --build $build_dir --target bcd_vit_latency"
  exit 2
fi
if [ ! -f "$model_dir/model.safetensors" ]; then
  log "writing a random-weight ViT ($size) to $model_dir"
  "$python" bench/pytorch_vit.py make-model "$model_dir" --size "$size"
fi

# min_ms of one "... min_ms=M" line
fastest() { sed -n 's/.*min_ms=\([0-9.]*\).*/\1/p'; }

# run_setup SETUP COMMAND...: the command's fastest pass under that set-up
run_setup() {
  local setup=$1
  shift
  case $setup in
    default) "$@" | fastest ;;
    passive) OMP_WAIT_POLICY=PASSIVE "$@" | fastest ;;
    omp) LD_PRELOAD="$openmp_blas" "$@" | fastest ;;
    omp+passive) LD_PRELOAD="$openmp_blas" OMP_WAIT_POLICY=PASSIVE "$@" | fastest ;;
  esac
}

# best SIDE SETUPS COMMAND...: "ms setup" of the fastest set-up
best() {
  local side=$1 setups=$2 best_ms="" best_setup="" ms
  shift 2
  for setup in $setups; do
    ms=$(run_setup "$setup" "$@")
    log "$side $setup: $ms ms"
    if [ -z "$best_ms" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then
      best_ms=$ms
      best_setup=$setup
    fi
  done
  echo "$best_ms $best_setup"
}

bcd_setups="default passive default passive"
pytorch_setups="default passive omp omp+passive"
[ -f "$openmp_blas" ] || pytorch_setups="default passive default passive"
for batch in $batches; do
  n=$iterations
  [ "$batch" -gt 1 ] && n=$(((iterations + 1) / 2))
  for threads in $thread_counts; do
    log "batch=$batch threads=$threads"
    pin=(taskset -c "0-$((threads - 1))")
    read -r bcd_ms bcd_setup < <(best bcd "$bcd_setups" \
      "${pin[@]}" "$bench_bin" "$model_dir" "$batch" "$threads" "$n" 1)
    read -r pytorch_ms pytorch_setup < <(best pytorch "$pytorch_setups" \
      "${pin[@]}" "$python" bench/pytorch_vit.py time "$model_dir" --batch "$batch" \
      --threads "$threads" --iterations "$n" --warmup 1)
    ratio=$(awk -v a="$bcd_ms" -v b="$pytorch_ms" 'BEGIN { printf "%.2f", a / b }')
    echo "batch=$batch threads=$threads bcd_ms=$bcd_ms ($bcd_setup)" \
      "pytorch_ms=$pytorch_ms ($pytorch_setup) bcd/pytorch=$ratio"
  done
done
