#!/usr/bin/env bash
# Every crate inherits the workspace's lints (unsafe code forbidden, unreachable `pub`, `Debug`
# on public types...), but blockmask, which states the same table with unsafe code allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for manifest in $(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print("\n".join(p["manifest_path"] for p in json.load(sys.stdin)["packages"]))'); do
  crate=$(dirname "${manifest#"$PWD"/}")
  if [ "$crate" = shared/blockmask ]; then
    grep -q '^unsafe_op_in_unsafe_fn = "deny"' "$manifest" && echo "ok   $crate states its own lints" || { echo "FAIL $crate"; fail=1; }
  elif python3 -c 'import sys,tomllib; sys.exit(0 if tomllib.load(open(sys.argv[1],"rb")).get("lints",{}).get("workspace") is True else 1)' "$manifest"; then
    echo "ok   $crate inherits the workspace lints"
  else
    echo "FAIL $crate does not inherit the workspace lints ([lints] workspace = true)"; fail=1
  fi
done
exit $fail
