#!/usr/bin/env python3
"""Starts a backtest over the deployed trace bucket (template.yaml's BacktestStateMachine), waits
for it, and prints the report. Usage:

  scripts/backtest-aws.py --prefix AWSLogs/o-abc/ (--project <id> | --rules <file>) [--from T] [--to T]
                          [--stack key-event-notifications]

The state machine is found in the stack's outputs (BacktestStateMachineArn); AWS credentials and
region come from the environment, as for the AWS CLI."""
import argparse
import json
import sys
import time

import boto3

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--prefix", required=True, help="the archive: a prefix of the trace bucket")
group = parser.add_mutually_exclusive_group(required=True)
group.add_argument("--project", help="the project whose stored rules are backtested")
group.add_argument("--rules", help="a file with a JSON array of rule bodies as create takes them")
parser.add_argument("--from", dest="from_", help="2026-11-01, 2026-11-01T12:00:00Z or epoch ms (inclusive)")
parser.add_argument("--to", help="as --from (exclusive)")
parser.add_argument("--stack", default="key-event-notifications")
args = parser.parse_args()

outputs = {
    o["OutputKey"]: o["OutputValue"]
    for o in boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs", [])
}
if "BacktestStateMachineArn" not in outputs:
    sys.exit("the stack has no backtest state machine: deploy it with TraceBucketName set")
job = {
    "prefix": args.prefix,
    "project_id": args.project,
    "rules": json.load(open(args.rules)) if args.rules else None,
    "from": args.from_,
    "to": args.to,
}
sfn = boto3.client("stepfunctions")
execution = sfn.start_execution(stateMachineArn=outputs["BacktestStateMachineArn"], input=json.dumps(job))
print("started", execution["executionArn"], file=sys.stderr)
while True:
    state = sfn.describe_execution(executionArn=execution["executionArn"])
    if state["status"] != "RUNNING":
        break
    time.sleep(5)
if state["status"] != "SUCCEEDED":
    sys.exit("backtest %s: %s %s" % (state["status"], state.get("error", ""), state.get("cause", "")))
summary = json.loads(state["output"])
bucket, key = summary["report"][len("s3://"):].split("/", 1)
print(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode())
