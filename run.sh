#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   ./run.sh demo   install what is missing, build, classify a BUSI image with the demo model
#   ./run.sh test   install what is missing, build, run every test (what CI runs)
#   ./run.sh build  install what is missing and build only
# Environment: BCD_BUILD_DIR (default build), BCD_JOBS (default: cores),
# BCD_DATA_DIR (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")"

build_dir=${BCD_BUILD_DIR:-build}
jobs=${BCD_JOBS:-$(nproc)}
data_dir=${BCD_DATA_DIR:-$(cd .. && pwd)/shared/data}

# Debian packages the build, the tests and the fixture scripts need.
build_packages=(build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-openmp libopenblas-dev
  libopencv-dev libopencv-contrib-dev libpng-dev libjpeg-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev)
test_packages=(python3 python3-numpy python3-pil python3-torch python3-sklearn
  chromium nodejs npm)

log() { printf '[run.sh] %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  # A node from elsewhere (nvm, NodeSource) is as good as Debian's.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
  fi
  local wanted=()
  for p in "${missing[@]}"; do [ -n "$p" ] && wanted+=("$p"); done
  [ ${#wanted[@]} -eq 0 ] && return 0
  log "installing: ${wanted[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${wanted[@]}"
}

# Build logs go to stderr, so that `./run.sh demo` prints only the result on stdout.
build() {
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBCD_DATA_DIR="$data_dir" >&2
  cmake --build "$build_dir" -j "$jobs" >&2
}

run_demo() {
  local image="$data_dir/busi/malignant/malignant (1).png"
  [ -f "$image" ] || { log "no demo image at $image (set BCD_DATA_DIR)"; exit 3; }
  "$build_dir/bcd" predict --model models/bcd-demo-vit "$image"
}

run_tests() {
  if [ -f tests/serve/e2e/package-lock.json ]; then
    (cd tests/serve/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
}

case "${1:-}" in
  demo) install_missing "${build_packages[@]}"; build; run_demo ;;
  test) install_missing "${build_packages[@]}" "${test_packages[@]}"; build; run_tests ;;
  build) install_missing "${build_packages[@]}"; build ;;
  *) echo "usage: ./run.sh demo|test|build" >&2; exit 2 ;;
esac
