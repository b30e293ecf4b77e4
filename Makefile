# The two commands: `make run` and `make test`. Both create the virtual
# environment on first use, so a fresh clone needs nothing else.
SHELL := /bin/bash
VENV ?= .venv
# zarr >= 3.2 and icechunk 2 need Python 3.12; pyenv machines pick it by version.
export PYENV_VERSION ?= 3.12.1
PYTHON ?= python3.12
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup demo-data bench clean-data

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[ml,test]'
	# Real labelled series the tests use (UCR 135, MIT-BIH), shipped inside
	# these packages; their own dependencies are not needed to read the files.
	$(BIN)/python -m pip install --quiet --no-deps aeon==1.6.0 sktime==1.2.0
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/lepton-flow demo-data --if-missing
	$(BIN)/lepton-flow run pipeline

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo-data: $(STAMP)
	$(BIN)/lepton-flow demo-data

bench: $(STAMP)
	$(BIN)/python benchmarks/sensor_ingest.py
	$(BIN)/python benchmarks/train_score.py

clean-data:
	rm -rf data
