#!/usr/bin/env python3
"""What a million traces cost on AWS, computed from measured figures and list prices.

Prints the Markdown table kept in BENCHMARKS.md. The measured inputs are flags (defaults: the
run recorded there); the prices are us-east-1 list prices with the date of the listing read.

Model, per million traces, when a fraction `f` of the traces matches one rule:
- events: EventBridge puts each trace in the intake queue (1 SendMessage); Lambda's poller
  receives and deletes batches of 10 (1 ReceiveMessage, 1 DeleteMessageBatch a batch);
- a batch with a match costs the measured invocation time, one without the handler's CPU
  time alone (Lambda bills whole milliseconds); a batch has a match with 1 - (1 - f)^10;
- each match: a claim (PutItem, 1 WRU) and a mark (in a BatchWriteItem, 1 WRU); one
  PublishBatch per batch with matches (one topic); activity and rules reads are per
  environment and period, not per trace, and left out;
- trace files: one SQS message and one S3 GET per file; reading at the measured one-core
  rate, on the handler's share of a vCPU (memory / 1769 MB).
Native: CloudTrail management events reach EventBridge's default bus free; the rule's SNS
target is one publish per match. Deliveries (email, HTTP) cost the same either way: left out.
"""

import argparse

PRICES = {
    # (USD, per what, listing read)
    "lambda_request": (0.20 / 1e6, "request", "2026-05"),
    "lambda_gb_s_arm": (0.0000133334, "GB-s (arm64)", "2026-05"),
    "sqs_request": (0.40 / 1e6, "request (64 KB)", "2026-06-13"),
    "ddb_wru": (0.625 / 1e6, "write request unit (on-demand, since 2024-11-01)", "2025-07-21"),
    "sns_request": (0.50 / 1e6, "publish request (64 KB; a PublishBatch is one)", "2026-06-13"),
    "s3_get": (0.0004 / 1000, "GET", "2026-03"),
    "eventbridge_aws_event": (0.0, "AWS service event on the default bus", "2026-03"),
}


def price(name):
    return PRICES[name][0]


def events_path(f, a):
    batches = 1e6 / 10
    with_match = 1 - (1 - f) ** 10
    matches = 1e6 * f
    billed_ms = with_match * a.invocation_ms + (1 - with_match) * max(1.0, a.idle_batch_ms)
    gb_s = batches * billed_ms / 1000 * a.memory_mb / 1024
    return {
        "SQS (send, receive, delete)": (1e6 + 2 * batches) * price("sqs_request"),
        "Lambda requests": batches * price("lambda_request"),
        "Lambda duration": gb_s * price("lambda_gb_s_arm"),
        "DynamoDB (claim + mark a match)": 2 * matches * price("ddb_wru"),
        "SNS": batches * with_match * price("sns_request"),
    }


def files_path(f, a):
    files = 1e6 / a.records_per_file
    matches = 1e6 * f
    vcpu = min(1.0, a.memory_mb / 1769)
    seconds = 1e6 / (a.records_per_core_s * vcpu)
    # One publish per 500-record round with matches, at most one per match.
    rounds = min(matches, 1e6 / 500)
    return {
        "SQS (send, receive, delete)": 3 * files * price("sqs_request"),
        "S3 GET": files * price("s3_get"),
        "Lambda requests": files * price("lambda_request"),
        "Lambda duration": seconds * a.memory_mb / 1024 * price("lambda_gb_s_arm"),
        "DynamoDB (claim + mark a match)": 2 * matches * price("ddb_wru"),
        "SNS": rounds * price("sns_request"),
    }


def native(f):
    return {"SNS": 1e6 * f * price("sns_request")}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--invocation-ms", type=float, default=33.1,
                   help="median invocation with matches (handler_cost bench)")
    p.add_argument("--idle-batch-ms", type=float, default=0.028,
                   help="a batch of 10 without matches: CPU only (handler-path bench)")
    p.add_argument("--memory-mb", type=float, default=256)
    p.add_argument("--records-per-core-s", type=float, default=246_463,
                   help="trace file records read and matched per second on one core")
    p.add_argument("--records-per-file", type=float, default=2500)
    a = p.parse_args()
    print("| USD per million traces | events, 1 % match | events, 10 % | trace files, 1 % | trace files, 10 % | native, 1 % | native, 10 % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    columns = [events_path(0.01, a), events_path(0.10, a), files_path(0.01, a),
               files_path(0.10, a), native(0.01), native(0.10)]
    lines = []
    for c in columns:
        lines += [k for k in c if k not in lines]
    for line in lines:
        cells = ["%.4f" % c[line] if line in c else "-" for c in columns]
        print("| %s | %s |" % (line, " | ".join(cells)))
    print("| **all** | %s |" % " | ".join("**%.4f**" % sum(c.values()) for c in columns))
    print()
    print("Prices (us-east-1, listing read):")
    for name, (usd, unit, read) in PRICES.items():
        print("- %s: $%.10g per %s (%s)" % (name, usd, unit, read))


if __name__ == "__main__":
    main()
