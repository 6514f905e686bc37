#!/usr/bin/env python3
"""Every environment variable a function reads is set for it by template.yaml, and every
variable the template sets is read. Functions are matched to their crates by the
`BuildProperties: Binary` name: functions/<name>/src, or the crate whose src/bin/<name>.rs it is
(its library and that binary)."""
import pathlib
import re
import sys

from cfnlint.decode import decode

root = pathlib.Path(__file__).resolve().parent.parent
template, errors = decode(str(root / "template.yaml"))
if errors:
    sys.exit("template.yaml does not parse: %s" % errors)

READ = re.compile(r'(?:env::var|\bvar|\bnumber|\benv_number|\benv_required)\(\s*"([A-Z][A-Z0-9_]*)"')
# Set by the Lambda runtime itself, never by the template.
RUNTIME = {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL", "AWS_LAMBDA_LOG_FORMAT"}
passed = failed = 0
for name, resource in template["Resources"].items():
    if resource["Type"] != "AWS::Serverless::Function":
        continue
    binary = resource["Metadata"]["BuildProperties"]["Binary"]
    crate = root / "functions" / binary
    bin_file = binary.replace("-", "_") + ".rs"
    if not crate.exists():
        crate = next(c for c in (root / "functions").iterdir() if (c / "src" / "bin" / bin_file).exists())
    files = [p for p in (crate / "src").rglob("*.rs") if "bin" not in p.parts or p.name == bin_file]
    source = "".join(p.read_text() for p in files)
    read = set(READ.findall(source)) - RUNTIME
    set_ = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    if read == set_:
        passed += 1
        print("ok   %s (%s): %s" % (name, binary, ", ".join(sorted(read))))
    else:
        failed += 1
        print("FAIL %s (%s): read but not set %s; set but not read %s" % (name, binary, sorted(read - set_), sorted(set_ - read)))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or not passed else 0)
