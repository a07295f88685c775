# The two commands a learner needs: `make lab` and `make test`.
# Both create .venv from requirements.txt when it is missing (never the system Python).

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

# Every recipe finds the environment's python, jupyter and pytest first.
export PATH := $(BIN):$(PATH)

.PHONY: venv lab test test-unit test-notebooks test-browser notebooks answer-key bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	@# Build matplotlib's font cache now, so its one-time notice never lands in a notebook's output.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $(STAMP)

venv: $(STAMP)

## lab: open the course in JupyterLab at the first notebook (token authentication stays on)
lab: $(STAMP)
	$(BIN)/jupyter lab --port=$(PORT) --ServerApp.root_dir=$(CURDIR) \
		$(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

## test: everything: layers.py unit and property tests, every notebook under nbval, the browser check
test: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) tests notebooks

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

test-browser: $(STAMP)
	REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/browser

## notebooks: re-execute every notebook in place; stored outputs come only from here
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.record_timing=False notebooks/[0-9]*.ipynb

answer-key: $(STAMP)
	$(BIN)/python layers.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_layers.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .hypothesis
