#!/usr/bin/env bash
# Checks the matcher benchmark's outputs against the reference oracle (bench/oracle.py) by
# SHA-256, on every rule set of a generated workload. Usage: bench-check.sh [events]
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000}
work=${BENCH_CHECK_DIR:-target/bench-check}
rm -rf "$work" && mkdir -p "$work"
python3 bench/gen_workload.py "$work/workload" "$events" >/dev/null
cargo bench -q -p rules --bench matcher -- "$PWD/$work/workload" "$PWD/$work/rust" 1 >/dev/null 2>&1
python3 bench/oracle.py "$work/workload" "$work/oracle"
failed=0 checked=0
for f in "$work"/oracle/*.out; do
  set_name=$(basename "$f" .out)
  want=$(sha256sum <"$f" | cut -d' ' -f1)
  got=$(sha256sum <"$work/rust/$set_name.out" | cut -d' ' -f1)
  fired=$(awk -F'\t' '$2 != ""' "$f" | wc -l)
  if [ "$want" = "$got" ]; then
    echo "digest $set_name ok ($fired of $events events fire) sha256=$got"; checked=$((checked + 1))
  else
    echo "digest $set_name MISMATCH oracle=$want rust=$got"; failed=$((failed + 1))
  fi
done
[ "$checked" -gt 0 ] || { echo "no rule sets were checked"; exit 1; }
echo "$checked passed, $failed failed"
[ "$failed" -eq 0 ]
