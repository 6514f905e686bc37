#!/usr/bin/env bash
# The console in headless Chromium (Selenium) against a fresh local server: once open, as
# `make run` serves by default (with the project header check the Huawei SDKs satisfy), and
# once with AK/SK signatures verified, the page signing in the browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/browser.sh
scripts/venv.sh
rm -rf target/console-screens
scripts/with-local-server.sh sh -c '.venv/bin/python tests/console_browser.py "$BASE_URL"'
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
cat >"$keys" <<'JSON'
[{"access_key": "HPUACONSOLETEST00001", "secret_key": "console-test-secret-00000000000000000001", "project_id": "24edf66e79d04187acb99a463e610764"}]
JSON
ACCESS_KEYS_FILE=$keys scripts/with-local-server.sh sh -c '.venv/bin/python tests/console_browser.py "$BASE_URL" "$ACCESS_KEYS_FILE"'
