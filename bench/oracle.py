#!/usr/bin/env python3
"""Reference matcher: a plain loop over the rules, written straight from contract part 4, to
check the Rust matcher's benchmark outputs by digest.

Usage: oracle.py WORKLOAD_DIR OUT_DIR    (writes <set>.out for every rules_<set>.json)
"""
import json, os, re, sys

WORKLOAD, OUT = sys.argv[1], sys.argv[2]
os.makedirs(OUT, exist_ok=True)


def as_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return v if isinstance(v, str) else json.dumps(v)
    return None


def compile_rule(body):
    ops = None
    if body["operation_type"] != "complete":
        ops = {(o["service_type"], o["resource_type"], t) for o in body["operations"] for t in o["trace_names"]}
    users = {u for g in body.get("notify_user_list") or [] for u in g["user_list"]}
    conds, joiner = None, None
    f = body.get("filter")
    if f and f.get("is_support_filter"):
        joiner = f["condition"]
        conds = []
        for text in f["rule"]:
            m = re.match(r"^\s*([a-z_]+)\s*(!=|=)(.*)$", text)
            conds.append((m.group(1), m.group(2), m.group(3).strip()))
    return body["notification_name"], ops, users, joiner, conds


def fires(rule, t):
    _, ops, users, joiner, conds = rule
    if ops is not None and (t.get("service_type"), t.get("resource_type"), t.get("trace_name")) not in ops:
        return False
    user = t.get("user") if isinstance(t.get("user"), dict) else {}
    if users and as_text(user.get("name")) not in users:
        return False
    if conds is None:
        return True
    results = [(as_text(t.get(field)) == value) == (op == "=") for field, op, value in conds]
    return all(results) if joiner == "AND" else any(results)


events = [json.loads(line) for line in open(os.path.join(WORKLOAD, "events.jsonl"))]
for name in sorted(os.listdir(WORKLOAD)):
    if not (name.startswith("rules_") and name.endswith(".json")):
        continue
    rules = [compile_rule(b) for b in json.load(open(os.path.join(WORKLOAD, name)))]
    with open(os.path.join(OUT, name[len("rules_"):-len(".json")] + ".out"), "w") as out:
        for i, t in enumerate(events):
            names = sorted((r[0] for r in rules if fires(r, t)), key=lambda n: n.encode())
            out.write("%d\t%s\n" % (i, ",".join(names)))
