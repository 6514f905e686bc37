# The commands the project keeps true. See README.md.
PORT      ?= 9000
DATA_DIR  ?= .local
WORKLOAD  ?= bench-work/workload
BENCH_OUT ?= bench-work/out
BENCH_RUNS ?= 5
EVENTS    ?= 100000
abs = $(abspath $(1))

.PHONY: backtest backtest-aws bench-backtest sam-build bench-all profile release run test lint unit arm64 api-clients console template lambda-smoke local-aws bench bench-check venv

## Serves the rules API and POST /traces on 127.0.0.1:$(PORT) with the embedded store in $(DATA_DIR).
run:
	PORT=$(PORT) DATA_DIR=$(DATA_DIR) cargo run --profile local -p local-server

## What rules would have sent over an archive: ARCHIVE=<folder | s3://bucket/prefix>, and PROJECT=<id>
## (its stored rules in $(DATA_DIR), or in TABLE=<DynamoDB table>) or RULES=<file of rule bodies>;
## FROM / TO bound the time. The report (JSON) goes to stdout. Read-only.
backtest:
	@test -n "$(ARCHIVE)" || { echo "make backtest ARCHIVE=<folder | s3://bucket/prefix> (PROJECT=<id> | RULES=<file>) [FROM=..] [TO=..]"; exit 2; }
	cargo run -q --profile local -p backtest --bin backtest -- --archive "$(ARCHIVE)" \
	  $(if $(PROJECT),--project "$(PROJECT)" --data-dir "$(DATA_DIR)") $(if $(TABLE),--table "$(TABLE)") \
	  $(if $(RULES),--rules "$(RULES)") $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)")

## The same on AWS at scale: the deployed Distributed Map over PREFIX of the trace bucket (STACK, default
## key-event-notifications), with PROJECT or RULES, FROM, TO; waits, then prints the report.
backtest-aws: venv
	.venv/bin/python scripts/backtest-aws.py --prefix "$(PREFIX)" --stack "$(or $(STACK),key-event-notifications)" \
	  $(if $(PROJECT),--project "$(PROJECT)") $(if $(RULES),--rules "$(RULES)") $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)")

## Everything CI runs.
test: lint template unit arm64 api-clients console lambda-smoke bench-check

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	scripts/deps-check.sh
	scripts/lints-check.sh

unit: venv
	cargo test --workspace -- --show-output

## The scanner's first stage and the scanner built for arm64 (the functions' architecture, where
## the NEON path runs), tested under qemu user-mode emulation.
arm64:
	scripts/test-arm64.sh

## Both templates lint clean (cfn-lint, and SAM's own validation with samconfig.toml); samconfig.toml
## answers what `sam build` would ask; template.yaml sets exactly the variables each function reads; the
## event patterns forward and take the sample events as they should.
template: venv
	.venv/bin/cfn-lint template.yaml templates/global-events.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .venv/bin/sam validate --lint --config-file samconfig.toml
	.venv/bin/python tests/samconfig_check.py
	.venv/bin/python tests/template_env.py
	.venv/bin/python tests/event_patterns.py

## The Huawei Cloud SDK and schemathesis (against openapi.yaml) on a local server.
api-clients: venv
	scripts/api-clients.sh

## The console in headless Chromium (Debian's chromium and chromium-driver, installed if absent),
## driven by Selenium; screenshots in target/console-screens/.
console: venv
	scripts/console-tests.sh

## Both Lambda binaries under cargo-lambda against moto, invoked with files from events/.
lambda-smoke: venv
	MOTO_PORT=$$(scripts/free-port.sh) LAMBDA_PORT=$$(scripts/free-port.sh) scripts/local-aws.sh scripts/lambda-smoke.sh

## Local AWS mode: moto seeded like template.yaml, both functions under `cargo lambda watch`.
local-aws: venv
	scripts/local-aws.sh

## Matcher benchmark: every rules_<set>.json of $(WORKLOAD) (generated if absent), outputs in
## $(BENCH_OUT); then the handler's whole path (SQS batches to published messages) on typical_100;
## then the backtest engine (bench-backtest).
bench:
	@test -f $(WORKLOAD)/events.jsonl || python3 bench/gen_workload.py $(WORKLOAD) $(EVENTS)
	cargo bench -p rules --bench matcher -- $(call abs,$(WORKLOAD)) $(call abs,$(BENCH_OUT)) $(BENCH_RUNS)
	cargo bench -p handler-path-bench --bench handler_path -- $(call abs,$(WORKLOAD)) $(call abs,$(BENCH_OUT)) $(BENCH_RUNS)
	@cmp -s $(BENCH_OUT)/typical_100.out $(BENCH_OUT)/handler_typical_100.out \
	  && echo "handler_typical_100.out equals typical_100.out (sha256 $$(sha256sum < $(BENCH_OUT)/typical_100.out | cut -c1-16))" \
	  || { echo "handler_typical_100.out differs from typical_100.out"; exit 1; }
	$(MAKE) --no-print-directory bench-backtest

## The backtest engine against the gunzip limit on generated CloudTrail log files (one core, then
## every core), and the memory a 500 MB file holds.
bench-backtest:
	cargo bench -p backtest-bench --bench backtest -- $(BENCH_RUNS)

## Every benchmark: matcher (seconds, and instructions per trace under callgrind, which a busy
## machine does not disturb), handler cost (AWS calls per 1000 traces), cold start of the
## release binaries, local server load. Figures go to the terminal; BENCHMARKS.md keeps them.
bench-all: venv bench
	scripts/bench-instructions.sh $(WORKLOAD)
	cargo bench -p trace-handler --bench handler_cost
	cargo build --release -p rules-api -p trace-handler
	mkdir -p target/cold-start && cp target/release/rules-api target/release/trace-handler target/cold-start/
	COLD_START_BINARIES=$(CURDIR)/target/cold-start cargo bench -p trace-handler --bench cold_start
	cargo bench -p local-server --bench intake_load
	RULES=100 cargo bench -p local-server --bench intake_load
	cargo bench -p rules --bench validation

## Where the matcher's time goes: perf samples of the benchmark on 5 000 events (needs perf).
profile:
	@test -f $(WORKLOAD)/events.jsonl || python3 bench/gen_workload.py $(WORKLOAD) $(EVENTS)
	mkdir -p target/profile && head -5000 $(WORKLOAD)/events.jsonl > target/profile/events.jsonl
	cp $(WORKLOAD)/rules_max_100.json target/profile/
	cargo bench -p rules --bench matcher --no-run
	perf record -o target/profile/perf.data $$(ls -t target/release/deps/matcher-* | grep -v '\.d$$' | head -1) \
		$(call abs,target/profile) $(call abs,target/profile/out) 100
	perf report -i target/profile/perf.data --no-children --stdio | grep -E '^ +[0-9]' | head -20

## The benchmark's outputs equal the reference oracle's, by digest, on a small workload.
bench-check:
	scripts/bench-check.sh 5000

venv:
	scripts/venv.sh

## `sam build` as the README's deploy runs it (cargo-lambda and zig from .venv; about 5 minutes).
sam-build: venv
	.venv/bin/pip install -q --disable-pip-version-check ziglang
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.venv/bin:$$PATH" SAM_CLI_TELEMETRY=0 .venv/bin/sam build </dev/null

## Release builds of both functions for arm64 Lambda (zig from PyPI's ziglang).
release: venv
	.venv/bin/pip install -q --disable-pip-version-check ziglang
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo-lambda lambda build --release --arm64
