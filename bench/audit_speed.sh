#!/usr/bin/env bash
# Times `bcd audit` on about 1,600 real images: BUSI (780), BUS-UC (811) and
# the BUSI originals sample (24), all pairs compared across and within sets.
# Goal (issue 3): under 30 s on the 2-core development machine.
#
# Usage: bench/audit_speed.sh [BCD_BINARY] [DATA_DIR]
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bcd="${1:-$here/build/bcd}"
data="${2:-${BCD_DATA_DIR:-$here/../shared/data}}"
sets=("$data/busi" "$data/bus-uc" "$data/busi-original-sample")

for set in "${sets[@]}"; do
  [[ -d "$set" ]] || { echo "audit_speed: missing data set $set" >&2; exit 2; }
done
[[ -x "$bcd" ]] || { echo "audit_speed: no bcd binary at $bcd (build it first)" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
n_images=$(find "${sets[@]}" -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \
  -o -iname '*.bmp' \) ! -name '*_mask*' | wc -l)

start=$(date +%s.%N)
"$bcd" --log-level warn audit "${sets[@]}" --output "$out/audit.json" 2> "$out/stderr" || true
end=$(date +%s.%N)

grep '^verdict:' "$out/stderr" || true
awk -v n="$n_images" -v s="$start" -v e="$end" -v cores="$(nproc)" 'BEGIN {
  printf "audit_speed: %d images in %.2f s (%.0f images/s, %d cores)\n", n, e - s, n / (e - s), cores
}'
