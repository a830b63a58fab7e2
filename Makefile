# Two commands: `make run` and `make test`. Everything else is a helper target.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test venv model lint typecheck unit eval-smoke eval-full compose-check audit clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --extra embedded --python $(PYTHON)
	touch $@

venv: $(VENV)/.synced

model: venv
	$(PY) -m classifier.model_files

run: venv model
	$(PY) -m scripts.run_local

test: venv model
	$(PY) -m pytest

# The pre-commit hooks (.pre-commit-config.yaml: ruff, ruff format, mypy strict, hygiene), all files.
lint: venv
	$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit

eval-smoke: venv model
	$(PY) -m eval run --dataset eval/data/ci-subset.jsonl --no-progress --out eval/runs/ci
	$(PY) -m eval gate --metrics eval/runs/ci/metrics.json --min-safety-recall 0.80 --max-safety-auto-routed-elsewhere 0

eval-full: venv model
	$(PY) -m eval run --dataset eval/data/test.jsonl --baseline --out eval/runs/test
	$(PY) -m eval run --dataset ../shared/eval/public-600.jsonl --baseline --out eval/runs/public-600

# docker-compose.yml through the real Compose binary, the Dockerfile and the Kubernetes manifests.
compose-check: venv
	$(PY) -m pytest -q tests/deploy

# Dependency vulnerability scan of the locked runtime + dev dependencies (needs network for advisories).
audit: venv
	$(UV) export --frozen --all-groups --extra embedded --no-emit-project --format requirements-txt > $(TOOLS)/requirements-audit.txt
	$(VENV)/bin/pip-audit --strict --disable-pip --no-deps -r $(TOOLS)/requirements-audit.txt

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
