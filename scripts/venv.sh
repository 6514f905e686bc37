#!/usr/bin/env bash
# Creates .venv with the Python tools the tests use (moto server, Huawei Cloud SDK client, SAM CLI),
# once; later calls only check it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
STAMP="$VENV/.installed-v5"
[ -f "$STAMP" ] && exit 0
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  'moto[server]==5.*' 'huaweicloudsdkcts' 'cfn-lint' 'schemathesis' 'cargo-lambda' 'selenium' 'aws-sam-cli'
touch "$STAMP"
