#!/usr/bin/env bash
# Runs a command against a freshly started local server (free port, empty data directory):
# `with-local-server.sh CMD...` with BASE_URL set; the server is stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p local-server
port=$(scripts/free-port.sh)
data=$(mktemp -d)
PORT=$port DATA_DIR=$data CALLER_PROJECT_HEADER=${CALLER_PROJECT_HEADER-X-Project-Id} \
  target/debug/local-server >"$data/server.log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap stop EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.1
done
status=0
BASE_URL="http://127.0.0.1:$port" "$@" || status=$?
stop
trap - EXIT
exit $status
