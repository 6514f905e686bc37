#!/usr/bin/env bash
# Local AWS mode: moto (DynamoDB, SNS, SQS) seeded like template.yaml, and both functions (and
# the test function target cts-recorder) under `cargo lambda watch` pointed at it. Invoke them with the samples in events/:
#   .venv/bin/cargo-lambda lambda invoke rules-api --data-file events/api/create.json --invoke-address 127.0.0.1 --invoke-port 9100
#   .venv/bin/cargo-lambda lambda invoke trace-handler --data-file events/sqs-batch-cts-traces-with-poison.json --invoke-address 127.0.0.1 --invoke-port 9100
# Usage: local-aws.sh [COMMAND...]: with a command, runs it once both are up, then stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
MOTO_PORT=${MOTO_PORT:-4566}
LAMBDA_PORT=${LAMBDA_PORT:-9100}
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export TABLE_NAME=rules AUTH_MODE=aksk ACCESS_KEYS_CACHE_SECONDS=0 PROJECT_CLAIM=project_id RULES_CACHE_SECONDS=0 DEDUP_TTL_SECONDS=3600
export SMN_TOPIC_ARN_PREFIX="arn:aws:sns:eu-west-1:123456789012:"
# Rule changes go to the intake queue seed_moto.py creates, as TraceIntakeQueue in the template.
export TRACE_QUEUE_URL="$AWS_ENDPOINT_URL/123456789012/trace-intake"
export LAMBDA_PORT
logs=${LOCAL_AWS_LOGS:-target/local-aws}
mkdir -p "$logs"
# Function targets are invoked through `cargo lambda watch`'s Invoke API; the test function
# cts-recorder writes what it receives here.
export AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$LAMBDA_PORT"
export RECORDER_FILE="$PWD/$logs/cts-recorder.jsonl"
rm -f "$RECORDER_FILE"
# Built before `cargo lambda watch` starts, so that a first invocation does not wait on a compile;
# one at a time, as watch's `cargo run --bin` builds each (with its own package's features only).
for function in rules-api trace-handler cts-recorder; do cargo build -q --bin "$function"; done
.venv/bin/python scripts/moto_serial.py 127.0.0.1 "$MOTO_PORT" >"$logs/moto.log" 2>&1 &
moto=$!
PATH="$PWD/.venv/bin:$PATH" cargo-lambda lambda watch -q -A 127.0.0.1 -P "$LAMBDA_PORT" >"$logs/watch.log" 2>&1 &
watch=$!
stop() {
  exit_status=$?
  kill "$watch" "$moto" 2>/dev/null || true
  wait "$watch" "$moto" 2>/dev/null || true
  if [ "$exit_status" -ne 0 ]; then
    for log in "$logs/watch.log" "$logs/moto.log"; do echo "--- last lines of $log"; tail -n 40 "$log"; done >&2
  fi
}
trap stop EXIT
for _ in $(seq 150); do
  curl -s -o /dev/null "$AWS_ENDPOINT_URL" && break
  sleep 0.2
done
.venv/bin/python scripts/seed_moto.py "$AWS_ENDPOINT_URL"
for _ in $(seq 150); do
  curl -s -o /dev/null "http://127.0.0.1:$LAMBDA_PORT/" && break
  sleep 0.2
done
echo "moto on $AWS_ENDPOINT_URL, functions on http://127.0.0.1:$LAMBDA_PORT (logs in $logs)"
if [ $# -gt 0 ]; then
  status=0
  "$@" || status=$?
  exit $status
fi
wait "$watch"
