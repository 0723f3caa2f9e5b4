# Two commands: `make run` (install, then chat with the bundled seeds) and `make test` (install, then all checks).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint bench bench-smoke eval

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU build of torch first, so nothing later can pull the CUDA wheels
	$(BIN)/pip install -qq --disable-pip-version-check "torch==2.13.0"
	$(BIN)/pip install -qq --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/qa repl

lint: install
	$(BIN)/ruff check qa adapters tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	# two workers, each file on one of them: module fixtures (an index, a server, a browser) are made once
	$(BIN)/pytest -q -n 2 --dist loadfile

# the unit and contract tiers: no model file is opened (--no-model fails any test that opens one)
test-fast: install
	$(BIN)/pytest -q -m "not e2e" --no-model

eval: install
	$(BIN)/qa eval ../shared/bench/squad-v2-dev-5articles.json
	$(BIN)/qa eval tests/data/seeds_questions.jsonl

bench: install
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/followups.py
	$(BIN)/python bench/ingest_speed.py
	$(BIN)/python bench/scale.py --sizes 10000 100000

# the benchmarks at a small size, as a smoke test (what CI runs after the tests)
bench-smoke: install
	$(BIN)/python bench/ingest_speed.py --passages 30 --backends onnx
	$(BIN)/python bench/scale.py --sizes 2500 --queries 5 --cold-runs 1
	$(BIN)/python bench/serve_load.py --concurrent 10 --rounds 1
