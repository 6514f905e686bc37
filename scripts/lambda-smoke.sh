#!/usr/bin/env bash
# Smoke test of the Lambda binaries under cargo-lambda against moto. The rules API runs as
# deployed (AK/SK mode): `access-keys create` makes a key in the table, the sample
# events/api/create.json signed with it by the Huawei SDK's signer creates a rule (unsigned, it
# is refused), and after `access-keys revoke` the key is refused. The trace handler takes the
# sample SQS batch, answers with the poison item alone in batchItemFailures, and the subscribed
# queue gets the two matches, each once over a redelivery of the batch. A rule naming the test
# function cts-recorder has the trace handler invoke it through Lambda's Invoke API (served by
# `cargo lambda watch`): it receives each matched trace once, as {"cts": <trace>}. The schedule's
# input publishes, once its window has closed, the digest of a rule that counts every match. Each
# rule created is a trace in the intake queue. A CTS trace file put in S3 and notified as S3
# notifies is read by the trace handler, each match published once.
set -euo pipefail
cd "$(dirname "$0")/.."
# Bounded: a function that never starts fails the smoke test instead of hanging it.
invoke() { PATH="$PWD/.venv/bin:$PATH" timeout 300 cargo-lambda lambda invoke "$1" --data-file "$2" --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT"; }
status_of() { .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["statusCode"])'; }
work=$(mktemp -d)
export WORK="$work"
trap 'rm -rf "$work"' EXIT
cargo build -q -p rules-api --bin access-keys
key=$(target/debug/access-keys create 24edf66e79d04187acb99a463e610764 2>/dev/null)
.venv/bin/python scripts/sign_api_event.py events/api/create.json "$key" >"$work/create.json"
.venv/bin/python scripts/sign_api_event.py events/api/list.json "$key" >"$work/list.json"
.venv/bin/python scripts/sign_api_event.py events/api/create-function.json "$key" >"$work/create-function.json"
.venv/bin/python scripts/sign_api_event.py events/api/create-digest.json "$key" >"$work/create-digest.json"
unsigned=$(invoke rules-api events/api/create.json | status_of)
echo "rules-api, unsigned create: $unsigned"
[ "$unsigned" = 401 ]
created=$(invoke rules-api "$work/create.json")
echo "rules-api, signed create: $created" | cut -c1-160
[ "$(echo "$created" | status_of)" = 201 ]
function_rule=$(invoke rules-api "$work/create-function.json")
echo "rules-api, signed create of a function rule: $function_rule" | cut -c1-160
[ "$(echo "$function_rule" | status_of)" = 201 ]
digest_rule=$(invoke rules-api "$work/create-digest.json")
echo "rules-api, signed create of a rule with a digest: $digest_rule" | cut -c1-160
[ "$(echo "$digest_rule" | status_of)" = 201 ]
listed=$(invoke rules-api "$work/list.json" | status_of)
echo "rules-api, signed list: $listed"
[ "$listed" = 200 ]
ak=$(echo "$key" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["access_key"])')
# Each rule created is a trace in the intake queue, naming the key that signed the call.
AK="$ak" .venv/bin/python - <<'PY'
import boto3, json, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.get_queue_url(QueueName="trace-intake")["QueueUrl"]
traces = []
for _ in range(3):
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        traces.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
print("trace intake got:", [(t["trace_name"], t["resource_name"], t["user"]["name"]) for t in traces])
assert sorted(t["trace_name"] for t in traces) == ["createNotification"] * 3, traces
assert all(t["user"]["name"] == os.environ["AK"] and t["service_type"] == "CTS" for t in traces), traces
PY
target/debug/access-keys revoke "$ak"
revoked=$(invoke rules-api "$work/list.json" | status_of)
echo "rules-api, list with the revoked key: $revoked"
[ "$revoked" = 401 ]
# The test function's first start builds it: start it now, not inside a publish's time budget.
echo '{"warm": true}' >"$work/warm.json"
invoke cts-recorder "$work/warm.json" >/dev/null
for delivery in first redelivered; do
  handled=$(invoke trace-handler events/sqs-batch-cts-traces-with-poison.json)
  echo "trace-handler, $delivery batch: $handled"
  echo "$handled" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert r=={"batchItemFailures":[{"itemIdentifier":"poison-0001"}]}, r'
done
.venv/bin/python - <<'PY'
import json, os
batch = json.load(open("events/sqs-batch-cts-traces-with-poison.json"))
sent = {}
for record in batch["Records"]:
    try:
        t = json.loads(record["body"])
        sent[t["trace_id"]] = record["body"]
    except (ValueError, KeyError, TypeError):
        pass
lines = [l for l in open(os.environ["RECORDER_FILE"]).read().splitlines() if '"cts"' in l]
print("cts-recorder got %d invocations" % len(lines))
got = {}
for line in lines:
    payload = json.loads(line)
    assert list(payload) == ["cts"], payload
    trace_id = payload["cts"]["trace_id"]
    assert trace_id not in got, "invoked twice for " + trace_id
    got[trace_id] = line
    assert line == '{"cts":%s}' % sent[trace_id], "the trace byte for byte"
assert len(got) == 2, got.keys()
PY
.venv/bin/python - <<'PY'
import boto3, json, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.get_queue_url(QueueName="key-events-subscriber")["QueueUrl"]
batch = json.load(open("events/sqs-batch-cts-traces-with-poison.json"))
sent = [r["body"] for r in batch["Records"]]
subjects = []
for _ in range(5):
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for m in got:
        notification = json.loads(m["Body"])
        subjects.append(notification["Subject"])
        # The queue gets the JSON body (the per-protocol document's default), the trace in it
        # byte for byte; the email text is for email subscribers only.
        message = notification["Message"]
        assert message.startswith('{"notification":') and "email" not in json.loads(message), message[:200]
        assert any(message.endswith('"trace":%s}' % body) for body in sent), message[:200]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
want = ["[normal] ECS ecs deleteServer by ops-alice", "[warning] ECS ecs rebootServer by dev-bob"]
print("subscriber got:", subjects)
assert sorted(subjects) == want, subjects
PY
# The digest rule counted both matches of the batch into its one-minute window: once the window
# has closed (30 s after its end), what the template's schedule sends each minute publishes its
# digest, which the subscriber gets.
.venv/bin/python -c 'import time; now = time.time(); time.sleep((now // 60 + 1) * 60 + 31 - now)'
echo '{"publish_digests": true}' >"$work/schedule.json"
scheduled=$(invoke trace-handler "$work/schedule.json")
echo "trace-handler, scheduled digest run: $scheduled"
echo "$scheduled" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert (r["windows"], r["published"], r["failed"]) == (1, 1, 0), r'
again=$(invoke trace-handler "$work/schedule.json")
echo "$again" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert r["windows"] == 0, r'
.venv/bin/python - <<'PY'
import boto3, json, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.get_queue_url(QueueName="key-events-subscriber")["QueueUrl"]
got = []
for _ in range(5):
    got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
notifications = [json.loads(m["Body"]) for m in got]
print("subscriber got:", [n["Subject"] for n in notifications])
assert [n["Subject"] for n in notifications] == ["[digest] prod_key_ops_digest: 2 more matches in 1 min"], notifications
digest = json.loads(notifications[0]["Message"])["digest"]
assert digest["matches"] == 2 and sorted(digest["by_user"]) == ["dev-bob", "ops-alice"], digest
PY
# A trace file in S3: the trace handler, told of it by an S3 notification, reads it from the
# bucket (gunzipping as it reads) and publishes each of its matches once, also when told again.
.venv/bin/python - <<'PY'
import boto3, gzip, json, os
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
          aws_access_key_id="test", aws_secret_access_key="test")
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="trace-files", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
traces = [json.loads(l) for l in open("events/cts-traces.jsonl")]
for t in traces:
    t["trace_id"] += "-file"
key = "CloudTraces/eu-west-1/2026/12/02/system/ECS/eu-west-1_CloudTrace_ECS_2026-12-02T00-05-00Z_21d36ced.json.gz"
s3.put_object(Bucket="trace-files", Key=key, Body=gzip.compress("\n".join(json.dumps(t) for t in traces).encode()))
event = json.load(open("events/s3-notification-cloudtrail-log-file.json"))
event["Records"][0]["s3"]["bucket"]["name"] = "trace-files"
event["Records"][0]["s3"]["object"]["key"] = key
json.dump(event, open(os.environ["WORK"] + "/s3-notification.json", "w"))
PY
file_run=$(invoke trace-handler "$work/s3-notification.json")
echo "trace-handler, S3 notification of a trace file: $file_run"
published=$(echo "$file_run" | .venv/bin/python -c 'import json,sys; r=json.load(sys.stdin); assert r["files_read"] == 1 and r["published"] > 0 and not r["failures"], r; print(r["published"])')
matches=$(echo "$file_run" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["matches"])')
again=$(invoke trace-handler "$work/s3-notification.json")
# Told again: every match was published alone or counted into a digest before.
echo "$again" | MATCHES="$matches" .venv/bin/python -c 'import json,os,sys; r=json.load(sys.stdin); assert (r["published"], r["duplicates"]) == (0, int(os.environ["MATCHES"])), r'
PUBLISHED="$published" .venv/bin/python - <<'PY'
import boto3, json, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sqs.get_queue_url(QueueName="key-events-subscriber")["QueueUrl"]
ids = []
for _ in range(5):
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        trace = json.loads(json.loads(m["Body"])["Message"]).get("trace", {})
        ids.append(trace.get("trace_id"))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
invoked = [json.loads(l)["cts"]["trace_id"] for l in open(os.environ["RECORDER_FILE"]).read().splitlines()
           if '"cts"' in l and "-file" in l]
print("from the trace file, the subscriber got:", sorted(ids), "and cts-recorder:", sorted(invoked))
# What was published went to the topic or to the function, each once.
assert len(ids) == len(set(ids)) and len(invoked) == len(set(invoked)), (ids, invoked)
assert ids and all(i.endswith("-file") for i in ids), ids
assert len(ids) + len(invoked) == int(os.environ["PUBLISHED"]), (ids, invoked)
PY
echo "13 passed, 0 failed"
