"""samconfig.toml answers what `sam build` and `sam deploy --guided` would otherwise ask: beta
features on (cargo-lambda builds), and parameter overrides that name template parameters with
their template defaults (so the config never silently changes a deployment)."""
import sys
import tomllib

import yaml


class TemplateLoader(yaml.SafeLoader):
    pass


TemplateLoader.add_multi_constructor("!", lambda loader, tag, node: None)

with open("samconfig.toml", "rb") as f:
    config = tomllib.load(f)
with open("template.yaml") as f:
    parameters = yaml.load(f, Loader=TemplateLoader)["Parameters"]

problems = []
default = config["default"]
for command in ("build", "sync"):
    if default.get(command, {}).get("parameters", {}).get("beta_features") is not True:
        problems.append(f"{command}: beta_features must be true (BuildMethod rust-cargolambda)")
if not default.get("global", {}).get("parameters", {}).get("stack_name"):
    problems.append("global: stack_name is not set")
overrides = default["deploy"]["parameters"].get("parameter_overrides", [])
for override in overrides:
    name, _, value = override.partition("=")
    if name not in parameters:
        problems.append(f"deploy: {name} is not a parameter of template.yaml")
    elif str(parameters[name].get("Default")) != value:
        problems.append(f"deploy: {name}={value} differs from the template's default {parameters[name].get('Default')!r}")
for problem in problems:
    print("FAIL", problem)
print(f"samconfig.toml: {len(overrides)} parameter overrides checked, {len(problems)} problems")
sys.exit(1 if problems else 0)
