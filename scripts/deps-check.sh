#!/usr/bin/env bash
# The architecture's dependency rules, checked on the resolved graph: the Lambda binaries do not
# link the embedded database, and the rules crate and the local server never build the AWS SDK, nor
# does `make bench` (the crates of its two benchmarks, with their dev-dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
deps() { cargo tree -q -p "$1" -e "${2:-normal}" --prefix none --no-dedupe | cut -d' ' -f1 | sort -u; }
for crate in rules-api trace-handler; do
  if deps "$crate" | grep -qx redb; then echo "FAIL $crate links redb"; fail=1; else echo "ok   $crate does not link redb"; fi
done
for crate in rules local-server; do
  if deps "$crate" | grep -q '^aws-sdk-'; then echo "FAIL $crate builds the AWS SDK"; fail=1; else echo "ok   $crate does not build the AWS SDK"; fi
done
for crate in rules handler-path-bench backtest-bench; do
  if deps "$crate" normal,dev | grep -q '^aws-sdk-'; then echo "FAIL make bench builds the AWS SDK through $crate"; fail=1; else echo "ok   make bench builds no AWS SDK through $crate"; fi
done
exit $fail
