#!/usr/bin/env python3
"""The EventBridge patterns of both templates against the samples in events/: a global-service
event of us-east-1 is forwarded by templates/global-events.yaml and, arriving unchanged on the
main region's bus, is taken by template.yaml's CloudTrail rule; a regional event is taken by the
main rule and never forwarded (the main region already has it). Patterns are matched as
EventBridge matches exact values: every key of the pattern must hold one of its values."""
import json
import pathlib
import sys

from cfnlint.decode import decode

root = pathlib.Path(__file__).resolve().parent.parent


def pattern(template, resource):
    parsed, errors = decode(str(root / template))
    if errors:
        sys.exit("%s does not parse: %s" % (template, errors))
    return parsed["Resources"][resource]["Properties"]["EventPattern"]


def matches(pattern, event):
    for key, want in pattern.items():
        if key not in event:
            return False
        if isinstance(want, dict):
            if not isinstance(event[key], dict) or not matches(want, event[key]):
                return False
        elif event[key] not in want:
            return False
    return True


main = pattern("template.yaml", "CloudTrailEventsRule")
forward = pattern("templates/global-events.yaml", "GlobalEventsRule")
cases = [
    # sample, forwarded from us-east-1, taken by the main rule
    ("eventbridge-forwarded-iam-create-access-key.json", True, True),
    ("eventbridge-console-signin-root-no-mfa.json", True, True),
    ("eventbridge-cloudtrail-authorize-sg-ingress.json", False, True),
]
files = pattern("template.yaml", "TraceFilesRule")
object_created = json.loads((root / "events" / "eventbridge-s3-object-created.json").read_text())
files["detail"]["bucket"]["name"] = ["org-trail-logs"]  # the TraceBucketName parameter
passed = failed = 0
for name, event, want in [
    ("Object Created of the trace bucket", object_created, (True, False)),
    ("an API call", json.loads((root / "events" / cases[2][0]).read_text()), (False, True)),
]:
    got = (matches(files, event), matches(main, event))
    if got == want:
        passed += 1
        print("ok   %s: trace files rule %s, CloudTrail rule %s" % ((name,) + want))
    else:
        failed += 1
        print("FAIL %s: trace files/CloudTrail rule %s, expected %s" % (name, got, want))
other_bucket = json.loads(json.dumps(object_created))
other_bucket["detail"]["bucket"]["name"] = "someone-elses"
if matches(files, other_bucket):
    failed += 1
    print("FAIL another bucket's object is taken")
else:
    passed += 1
    print("ok   another bucket's object is not taken")
for name, forwarded, taken in cases:
    event = json.loads((root / "events" / name).read_text())
    got = (matches(forward, event), matches(main, event))
    if got == (forwarded, taken):
        passed += 1
        print("ok   %s: forwarded %s, taken %s" % (name, forwarded, taken))
    else:
        failed += 1
        print("FAIL %s: forwarded/taken %s, expected %s" % (name, got, (forwarded, taken)))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
