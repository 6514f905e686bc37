#!/usr/bin/env bash
# Real clients against the local server with AK/SK signatures verified: the Huawei Cloud Python
# SDK, and a replay of the Terraform provider's request sequence (written from its source) with
# the same signer; refusals of large bodies read by urllib and requests; then schemathesis checking the server against openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
cat >"$keys" <<'JSON'
[{"access_key": "HPUACLIENTTEST000001", "secret_key": "client-test-secret-0000000000000000000001", "project_id": "24edf66e79d04187acb99a463e610764"},
 {"access_key": "HPUAOTHERPROJECT0001", "secret_key": "other-project-secret-000000000000000001", "project_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}]
JSON
export ACCESS_KEYS_FILE=$keys
scripts/with-local-server.sh sh -c '.venv/bin/python tests/sdk_client.py "$BASE_URL" "$ACCESS_KEYS_FILE"'
scripts/with-local-server.sh sh -c '.venv/bin/python tests/terraform_replay.py "$BASE_URL" "$ACCESS_KEYS_FILE"'
unset ACCESS_KEYS_FILE
# Clients that write the whole body first read the 413 every time (lingering close).
scripts/with-local-server.sh sh -c '.venv/bin/python tests/large_bodies.py "$BASE_URL" 50'
# One worker: CPython 3.11.7 can raise a spurious SystemError when threads parse source at once.
# The fixed seed keeps CI repeatable; the second, the day's date, explores new cases each day
# (a failure names its seed: replay it with SEEDS=<seed>). Every phase, stateful included
# (openapi.yaml links create to list and delete).
SEEDS=${SEEDS:-"20261125 $(date -u +%Y%m%d)"}
for seed in $SEEDS; do
  echo "schemathesis --seed $seed"
  CALLER_PROJECT_HEADER= SEED=$seed scripts/with-local-server.sh sh -c '
    .venv/bin/schemathesis run openapi.yaml --url "$BASE_URL" --workers 1 --max-examples 30 --seed "$SEED" \
      --phases examples,coverage,fuzzing,stateful --checks all \
      --exclude-checks positive_data_acceptance,ignored_auth,object_level_authorization'
done
