# The course pack's commands; `make help` lists them, one line each.
# Every target that runs Python makes .venv first (never the system Python):
# `make lab` installs the runtime pins only, `make test` adds the test tools.

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV := $(BIN)/uv
RUNTIME := $(VENV)/.runtime-installed
TESTING := $(VENV)/.test-installed
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
START := notebooks/00_start_here.ipynb
PORT ?= 8888
# Three test workers on two cores: much of a notebook or browser test is spent waiting for a
# kernel or a page (measured: 4 min with three, 6 with two).
WORKERS ?= 3
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300
# Layers, homework and environment tests: the quick first look when something fails.
UNIT := tests --ignore=tests/browser --ignore=tests/test_student_edition.py --ignore=tests/test_grader.py

# Every recipe finds the environment's python, jupyter and pytest first.
export PATH := $(BIN):$(PATH)

# Tests and notebook runs already use both cores (several workers): one BLAS thread each, so
# that the workers' tiny matrix products do not fight over the cores.
test test-unit test-notebooks test-student test-browser notebooks: export OPENBLAS_NUM_THREADS = 1

.DEFAULT_GOAL := help
.PHONY: help venv lab test test-unit test-notebooks test-student test-browser notebooks \
	answer-key bench student grade autograder system-packages clean

## help: list the targets
help:
	@sed -n 's/^## \([a-z-]*\): \(.*\)/  make \1|\2/p' $(MAKEFILE_LIST) | column -t -s '|'

# A pinned uv inside the venv makes the install take seconds instead of a minute. It compiles
# the bytecode while it installs: otherwise every kernel and test worker started at once
# compiles sympy, numpy and jupyter for itself on its first import (measured: 6 min of
# `make test` on a fresh clone instead of 4).
$(UV):
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; v == (3, 11) or print(f"note: $(PYTHON) is Python {v[0]}.{v[1]}; the stored outputs come from 3.11: use PYTHON=python3.11 make ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(RUNTIME): requirements.txt pyproject.toml binder/overrides.json | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	@# JupyterLab's defaults for the course, as on Binder: no news pop-up.
	mkdir -p $(dir $(LAB_OVERRIDES)) && cp binder/overrides.json $(LAB_OVERRIDES)
	@# Build matplotlib's font cache now, so its one-time notice never lands in a notebook's output.
	$(BIN)/python -c "import matplotlib.pyplot"
	touch $@

$(TESTING): requirements-test.txt $(RUNTIME)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-test.txt
	touch $@

## venv: make .venv with the runtime pins (requirements.txt)
venv: $(RUNTIME)

## lab: open the course in JupyterLab at 00_start_here (token authentication stays on)
lab: $(RUNTIME)
	$(BIN)/jupyter lab --port=$(PORT) --ServerApp.root_dir=$(CURDIR) \
		--LabApp.default_url=/lab/tree/$(START) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# The longest groups first and the many small test files last (pytest keeps the first place
# a path is named), so that the workers finish together.
LONGEST_FIRST := tests/browser tests/test_student_edition.py tests/test_grader.py notebooks

## test: every test, on both cores: layers.py, notebooks (nbval), student edition, grader, browser
test: $(TESTING)
	$(PYTEST) -n $(WORKERS) --dist loadscope $(NBVAL) $(LONGEST_FIRST) tests notebooks

## test-unit: layers.py, the homework and the environment only (about 15 s): look here first
test-unit: $(TESTING)
	$(PYTEST) $(UNIT)

## test-notebooks: every notebook under nbval (outputs compared with the stored ones)
test-notebooks: $(TESTING)
	$(PYTEST) -n $(WORKERS) --dist loadscope $(NBVAL) notebooks

## test-student: the student edition's build and the autograder
test-student: $(TESTING)
	$(PYTEST) -n $(WORKERS) --dist loadscope tests/test_student_edition.py tests/test_grader.py

## test-browser: every notebook run in JupyterLab in headless Chromium (needs Debian's chromium)
test-browser: $(TESTING)
	REQUIRE_BROWSER=1 $(PYTEST) -n $(WORKERS) --dist loadscope tests/browser

## notebooks: re-execute every notebook in place; stored outputs come only from here
notebooks: $(RUNTIME)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.record_timing=False notebooks/*.ipynb

## answer-key: print every figure of the homework, computed by layers.py
answer-key: $(RUNTIME)
	$(BIN)/python layers.py

## bench: time and memory of every layer against bare numpy (and PyTorch when installed)
bench: $(RUNTIME)
	$(BIN)/python benchmarks/bench_layers.py

## student: build the student edition in dist/student (stubs in layers.py, no solutions)
student: $(RUNTIME)
	$(BIN)/python tools/build_student.py --out dist/student

## grade: grade a learner's layers.py: make grade SUBMISSION=path/layers.py [JSON=results.json]
grade: $(RUNTIME)
	@test -n "$(SUBMISSION)" || { echo "usage: make grade SUBMISSION=path/to/layers.py [JSON=path/to/results.json]" >&2; exit 2; }
	$(BIN)/python -m grader "$(SUBMISSION)" $(if $(JSON),--json "$(JSON)")

## autograder: build dist/autograder.zip for Gradescope
autograder: $(RUNTIME)
	$(BIN)/python -m grader.bundle --out dist/autograder.zip

## system-packages: install Debian's chromium (browser tests) and bubblewrap (grader sandbox) if missing; root
system-packages:
	@missing="$$(test -x $(CHROMIUM) || echo chromium) $$(command -v bwrap >/dev/null || echo bubblewrap)"; \
	if [ -n "$$(echo $$missing)" ]; then \
		echo "== installing Debian's $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

## clean: remove the environment and everything built or left by tests
clean:
	rm -rf $(VENV) dist test-artifacts .pytest_cache .hypothesis
