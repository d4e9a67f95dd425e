# The two Quickstart commands: `make demo` and `make test`. Each creates .venv
# on first use, so they work on a fresh machine with only Python 3.11, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is a test oracle only (never imported by axon); this exact pin is the
# CPU build available from this machine's pip.
TORCH := torch==2.13.0

.PHONY: demo test test-fast torch clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/two_spirals.py

torch: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n auto -q

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
