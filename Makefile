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

.PHONY: run test venv model lint typecheck unit eval-smoke eval-full compose-check clean

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

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit

eval-smoke: venv model
	$(PY) -m eval run --dataset eval/data/ci-subset.jsonl --no-progress --out eval/runs/ci
	$(PY) -m eval gate --metrics eval/runs/ci/metrics.json --min-safety-recall 0.90

eval-full: venv model
	$(PY) -m eval run --dataset eval/data/test.jsonl --baseline --out eval/runs/test
	$(PY) -m eval run --dataset ../shared/eval/public-600.jsonl --baseline --out eval/runs/public-600

compose-check: venv
	$(VENV)/bin/docker-compose -f docker-compose.yml config --quiet

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
