# ComfyUI on EKS: make synth | test | bench | lint | validate | e2e | values | docs | clean
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export CHECKPOINT_DISABLE := 1
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/.tools/venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)
OUTDIR ?= cdktf.out

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: tools tools-node
tools: ## Install every tool the tests need (cached under .tools/)
	@scripts/install-tools.sh
tools-node:
	@scripts/install-tools.sh node

.PHONY: synth
synth: tools-node ## Synthesize every stack with the default config (no AWS account needed)
	@node scripts/build-app.mjs
	@node .build/main.js
	@node scripts/resource-counts.mjs $(OUTDIR)

.PHONY: typecheck
typecheck: tools-node ## Type-check everything with tsc (strict)
	@tsc --noEmit -p tsconfig.json

.PHONY: test
test: tools ## Run every test: type-check, jest, scanners, terraform validate, and make e2e beside them (scripts/test.sh)
	@scripts/test.sh

.PHONY: lint
lint: tools ## Lint shell scripts
	@shellcheck scripts/*.sh scripts/ci/*.sh .ci/run
	@shellcheck -s sh charts/comfyui/files/*.sh
	@shellcheck images/comfyui/entrypoint.sh

.PHONY: bench
bench: tools ## Measure synth time/memory, the model-sync path and the jobs path; writes docs/benchmarks.md
	@scripts/bench.sh
	@scripts/bench-model-sync.sh
	@scripts/bench-jobs.sh

.PHONY: scan
scan: synth ## Security scanners (checkov, trivy) on stacks and charts against config/security-baseline.yaml
	@scripts/scan.sh $(OUTDIR)

.PHONY: actionlint
actionlint: ## Lint .github/workflows (actionlint, with shellcheck on run: steps)
	@actionlint

# registry: terraform init + validate with the pinned providers from the registry
# (needs registry access). dev: the AWS provider built by make tools, through
# dev_overrides in .deploy-proof/terraform.tfrc, no network (what make test runs).
VALIDATE_PROVIDERS ?= registry
.PHONY: validate
validate: synth ## terraform validate per stack (VALIDATE_PROVIDERS=registry|dev; make test uses dev: docs/verification.md)
	@VALIDATE_PROVIDERS=$(VALIDATE_PROVIDERS) scripts/validate.sh $(OUTDIR)

.PHONY: e2e
# Bounded: after E2E_TIMEOUT the whole run (moto, etcd, kube-apiserver, terraform) is stopped;
# scripts/loopback-only.sh runs it in a PID namespace of its own, so nothing outlives it.
E2E_TIMEOUT ?= 25m
e2e: synth tools ## Apply the stacks to moto and the charts to a local kube-apiserver, drive model sync, destroy (docs/verification.md)
	@$(MAKE) --no-print-directory e2e-only E2E_INPUT=$(OUTDIR)

# The deploy proof on already synthesized stacks (E2E_INPUT), tools assumed installed: what make test runs beside jest.
E2E_INPUT ?= $(OUTDIR)
.PHONY: e2e-only
e2e-only:
	@timeout --kill-after=30s $(E2E_TIMEOUT) scripts/loopback-only.sh node scripts/run-ts.mjs scripts/e2e/main.ts $(E2E_INPUT)

.PHONY: docs
docs: tools-node ## Regenerate docs/configuration.md from config/schema.ts
	@node scripts/run-ts.mjs scripts/gen-config-docs.ts docs/configuration.md

.PHONY: values
values: ## Write generated/comfyui-values.yaml from the deployed app stack's outputs (OUTPUTS=file.json to use a saved `terraform output -json`/`cdktf output --outputs-file`)
	@node scripts/gen-values.mjs $(if $(OUTPUTS),--outputs $(OUTPUTS)) --out generated/comfyui-values.yaml
	@helm lint --strict --quiet charts/comfyui -f generated/comfyui-values.yaml

.PHONY: status
status: tools-node ## Platform health and cost from CloudWatch (AWS credentials; OUTPUTS=file.json, default ./cdktf-outputs.json)
	@node scripts/run-ts.mjs cli/comfy/main.ts status --cluster $(if $(OUTPUTS),--outputs $(OUTPUTS))

.PHONY: clean
clean: ## Remove build output (keeps .tools/ and node_modules/)
	rm -rf $(OUTDIR) .build coverage
