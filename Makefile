# avbook: the README's two commands are `make book` and `make test`.
# The virtual environment lives outside the clone, keyed by the lock's hash, so
# clones on one machine share it and a changed lock gets a fresh one.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PROFILE ?= quick
PYTHON ?= $(shell command -v python3.11 || command -v python3)
LOCK := requirements.txt
LOCK_HASH := $(shell (cat $(LOCK); $(PYTHON) -c 'import sys; print(sys.version_info[:2])') | sha256sum | cut -c1-12)
VENV_ROOT ?= $(HOME)/.cache/avbook
VENV ?= $(VENV_ROOT)/venv-$(LOCK_HASH)
PY := $(VENV)/bin/python
READY := $(VENV)/.avbook-ready
# The kernel and every subprocess import avlib from this clone, even when the
# shared venv's editable install points at another clone.
export PYTHONPATH := $(CURDIR)
export AVBOOK_ROOT := $(CURDIR)
export PYTHONUNBUFFERED := 1

.PHONY: help venv data notebooks book test lint lab full bench lock clean

help:
	@echo "make book     set up, generate data, run notebooks (PROFILE=$(PROFILE)), build _build/html"
	@echo "make test     unit tests, smoke notebooks, book build (warnings are errors)"
	@echo "make lab      JupyterLab on the avbook kernel"
	@echo "make full     make book with PROFILE=full (GPU)"
	@echo "make bench    where the time goes: cache, world, models (FLOPs, samples/s), data wait, notebook times vs budget"
	@echo "make clean    remove build products (data, results of smoke/quick, _build)"
	@echo "venv: $(VENV)"

$(READY): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "avbook needs Python 3.11 (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	@echo "== creating $(VENV) (first time only: torch wheels are large)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r $(LOCK)
	$(PY) -m ipykernel install --sys-prefix --name avbook --display-name "Python (avbook)"
	touch $(READY)

venv: $(READY)
	@# (re)install avlib editable when the shared venv points at another clone
	@env -u PYTHONPATH $(PY) -P -c 'import avlib, pathlib, sys; sys.exit(pathlib.Path(avlib.__file__).resolve().is_relative_to(pathlib.Path("$(CURDIR)").resolve()) is False)' 2>/dev/null \
		|| $(PY) -m pip install -q --no-deps -e .
	@ln -sfn $(VENV) .venv

data: venv
	$(PY) -m avlib data generate --preset $(PROFILE) --out data/$(PROFILE)

notebooks: data
	$(PY) -m avlib notebooks run --profile $(PROFILE)

book: notebooks
	$(PY) -m avlib notebooks build-book --profile $(PROFILE)
	@echo "book: $(CURDIR)/_build/html/index.html"

test: venv
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

full:
	$(MAKE) book PROFILE=full

bench: venv
	$(PY) -m avlib bench all

lock:
	rm -rf /tmp/avbook-lock && $(PYTHON) -m venv /tmp/avbook-lock
	/tmp/avbook-lock/bin/pip install -q --upgrade pip
	/tmp/avbook-lock/bin/pip install $$(sed -n 's/^ *- \([A-Za-z].*==.*\)/\1/p' environment.yml)
	/tmp/avbook-lock/bin/python -m avlib.envlock environment.yml <(/tmp/avbook-lock/bin/pip freeze) > $(LOCK)

clean:
	rm -rf _build book/chapters data/smoke data/quick results/smoke results/quick .venv
