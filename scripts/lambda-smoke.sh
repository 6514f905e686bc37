#!/usr/bin/env bash
# Smoke test of the Lambda binaries under cargo-lambda against moto. The rules API runs as
# deployed (AK/SK mode): `access-keys create` makes a key in the table, the sample
# events/api/create.json signed with it by the Huawei SDK's signer creates a rule (unsigned, it
# is refused), and after `access-keys revoke` the key is refused. The trace handler takes the
# sample SQS batch, answers with the poison item alone in batchItemFailures, and the subscribed
# queue gets the two matches.
set -euo pipefail
cd "$(dirname "$0")/.."
invoke() { PATH="$PWD/.venv/bin:$PATH" cargo-lambda lambda invoke "$1" --data-file "$2" --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT"; }
status_of() { .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["statusCode"])'; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build -q -p rules-api --bin access-keys
key=$(target/debug/access-keys create 24edf66e79d04187acb99a463e610764 2>/dev/null)
.venv/bin/python scripts/sign_api_event.py events/api/create.json "$key" >"$work/create.json"
.venv/bin/python scripts/sign_api_event.py events/api/list.json "$key" >"$work/list.json"
unsigned=$(invoke rules-api events/api/create.json | status_of)
echo "rules-api, unsigned create: $unsigned"
[ "$unsigned" = 401 ]
created=$(invoke rules-api "$work/create.json")
echo "rules-api, signed create: $created" | cut -c1-160
[ "$(echo "$created" | status_of)" = 201 ]
listed=$(invoke rules-api "$work/list.json" | status_of)
echo "rules-api, signed list: $listed"
[ "$listed" = 200 ]
ak=$(echo "$key" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["access_key"])')
target/debug/access-keys revoke "$ak"
revoked=$(invoke rules-api "$work/list.json" | status_of)
echo "rules-api, list with the revoked key: $revoked"
[ "$revoked" = 401 ]
handled=$(invoke trace-handler events/sqs-batch-cts-traces-with-poison.json)
echo "trace-handler: $handled"
echo "$handled" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert r=={"batchItemFailures":[{"itemIdentifier":"poison-0001"}]}, r'
.venv/bin/python - <<'PY'
import boto3, json, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.get_queue_url(QueueName="key-events-subscriber")["QueueUrl"]
subjects = []
for _ in range(5):
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    subjects += [json.loads(m["Body"])["Subject"] for m in got]
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
want = ["[normal] ECS ecs deleteServer by ops-alice", "[warning] ECS ecs rebootServer by dev-bob"]
print("subscriber got:", subjects)
assert sorted(subjects) == want, subjects
PY
echo "7 passed, 0 failed"
