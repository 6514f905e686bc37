#!/usr/bin/env bash
# Instructions per trace of the matcher benchmark, counted by callgrind: unlike seconds on a
# shared virtual machine, the count is the same run after run. For each rule set, the
# benchmark runs once and three times over the first EVENTS events of the workload; the
# difference over two passes is the per-trace cost of the timed loop (setup cancels out).
#
# Usage: scripts/bench-instructions.sh [workload dir] [events] [matcher binary]
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-bench-work/workload}
events=${2:-3000}
binary=${3:-}
if [ -z "$binary" ]; then
    binary=$(cargo bench -p rules --bench matcher --no-run --message-format=json 2>/dev/null \
        | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -n "$events" "$workload/events.jsonl" > "$work/events.jsonl"
count() { # rules file, runs
    mkdir -p "$work/set" && rm -f "$work/set"/rules_*.json
    cp "$1" "$work/set/" && ln -sf "$work/events.jsonl" "$work/set/events.jsonl"
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$work/set" "$work/out" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for rules in "$workload"/rules_*.json; do
    set=$(basename "$rules" .json)
    once=$(count "$rules" 1)
    thrice=$(count "$rules" 3)
    echo "instructions ${set#rules_} per_trace=$(( (thrice - once) / (2 * events) ))"
done
