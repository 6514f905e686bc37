#!/usr/bin/env bash
# Smoke test of the Lambda binaries under cargo-lambda against moto: the rules API creates a
# rule from events/api/create.json, the trace handler takes the sample SQS batch, answers with
# the poison item alone in batchItemFailures, and the subscribed queue gets the two matches.
set -euo pipefail
cd "$(dirname "$0")/.."
invoke() { PATH="$PWD/.venv/bin:$PATH" cargo-lambda lambda invoke "$1" --data-file "$2" --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT"; }
created=$(invoke rules-api events/api/create.json)
echo "rules-api: $created" | cut -c1-160
echo "$created" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert r["statusCode"]==201, r'
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
print("3 passed, 0 failed")
PY
