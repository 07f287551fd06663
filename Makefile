# vpcwarden — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help venv chromium build test bench-tools bench-build sam-build test-rust test-emulator test-infra test-infra-proof lint demo bench soak zips clean

help:
	@echo "make demo   - run the local demo (installs what it needs)"
	@echo "make test   - install what the tests need and run every test"

venv: ## Python test tooling (moto server, pytest) in ./.venv
	@tests/tools/venv.sh

chromium: ## Debian's Chromium, to render the HTML report in the drift-auditor tests
	@tests/tools/chromium.sh

build: ## debug build of every binary and test, once per run (tests run these binaries; one SDK build serves both)
	cargo build --workspace --bins --tests

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: venv chromium build
	cargo test --workspace

test-emulator: venv
	$(PY) -m pytest tests/emulator -q -p no:cacheprovider

test-infra: ## cfn-lint, sam validate --lint, terraform fmt/validate, checkov (zero failed checks)
	tests/tools/infra-check.sh

test-infra-proof: ## parity SAM/Terraform, least privilege from the e2e tests' calls, terraform apply to the emulator
	tests/tools/infra-proof.sh

# Every step of the targets above, overlapped where they are independent, each timed
# (tests/tools/test.sh; test-infra-proof reads what the end-to-end tests of test-rust recorded).
test:
	@tests/tools/test.sh

soak: ## the longer reliability tier: ROUNDS=10 fault seeds, CRASH_ROUNDS=3, CASES=10000 (RELIABILITY.md)
	tests/tools/soak.sh

demo: venv build
	cargo run -q -p vpcwarden-tests --bin demo

# Release binaries the benches run (the workspace release profile: LTO, opt-level s, stripped).
BENCH_BINS := $(or $(CARGO_TARGET_DIR),target)/release
BENCH_ENV := VPCWARDEN_BIN_DIR=$(BENCH_BINS)
# The estates of the audit comparison (peerings); sizes above 1,000 get one run each.
AUDIT_SIZES ?= 100,300,1000,3000
AUDIT_RUNS ?= 3
# Route tables a side of the throttling bench (500: 1,000 routes, about 190 s at EC2's bucket limit).
THROTTLE_SIZES ?= 50,200,500
# Member accounts of the org-audit bench (× 2 regions; 200: about 400 scopes).
ORG_SIZES ?= 20,100,200

bench-tools: venv ## Cloud Custodian in ./.venv-c7n (patched, see tests/tools/c7n.sh)
	tests/tools/c7n.sh

bench-build: ## release build of the functions and the floors (tests/probe), debug build of the bench programs
	cargo build --release -p peering-acceptor -p endpoint-approver -p drift-auditor -p vpcwarden-probe
	cargo build -p vpcwarden-tests --bins

bench: bench-tools bench-build ## every measurement of BENCHMARKS.md; rewrites its generated sections and the plot
	$(BENCH_ENV) cargo run -q -p vpcwarden-tests --bin footprint -- --write
	$(BENCH_ENV) cargo run -q -p vpcwarden-tests --bin bench-peering-acceptor -- --write
	$(BENCH_ENV) cargo run -q -p vpcwarden-tests --bin bench-endpoint-approver -- --write
	$(BENCH_ENV) cargo run -q -p vpcwarden-tests --bin bench-throttling -- --sizes $(THROTTLE_SIZES) --write
	$(BENCH_ENV) cargo run -q -p vpcwarden-tests --bin audit-bench -- --sizes $(AUDIT_SIZES) --runs $(AUDIT_RUNS) --write
	.venv/bin/python tests/bench/org_audit.py --accounts $(ORG_SIZES) --binary $(BENCH_BINS)/drift-auditor --out $${CARGO_TARGET_DIR:-target}/bench/org-audit.json
	cargo run -q -p vpcwarden-tests --bin bench-org-audit -- $${CARGO_TARGET_DIR:-target}/bench/org-audit.json --write
	cargo bench -q -p vpcwarden-core-bench --bench core

sam-build: ## `sam build` from the root with cargo-lambda (release, slow; ARCH=x86_64 for Intel)
	tests/tools/sam-build.sh

ARCH ?= arm64
zips: ## the zips the Terraform module deploys: target/lambda/<function>/bootstrap.zip (ARCH=arm64|x86_64)
	tests/tools/infra-check.sh >/dev/null || true  # installs cargo-lambda and Zig into .venv-sam
	PATH="$(CURDIR)/.venv-sam/bin:$$PATH" cargo lambda build --release $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) --output-format zip

clean:
	cargo clean
	rm -rf $(VENV) .venv-* out
