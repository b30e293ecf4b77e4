# The two commands: `make run` and `make test`. Both create the virtual
# environment on first use, so a fresh clone needs nothing else.
SHELL := /bin/bash
VENV ?= .venv
# zarr >= 3.2 and icechunk 2 need Python 3.12; pyenv machines pick it by version.
export PYENV_VERSION ?= 3.12.1
PYTHON ?= python3.12
BIN := $(VENV)/bin
# What the pipeline needs (`make run`, `make ui`), then what the tests add.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# fail2ban's test logs (real lines from ~90 services), unpacked from the Debian
# package without installing it (installing would start its daemon).
FAIL2BAN_LOGS := $(VENV)/share/fail2ban-logs
# Debian packages only the tests start: chromium (the UI tests), postgresql
# (the Prefect server on PostgreSQL). Installed by `make test` when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup test-setup ui demo-data bench clean-data

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[ml]'
	# A migrated Prefect database: a new data root's first run copies it instead of migrating.
	$(BIN)/python -c 'from lepton_flow.services import make_database_template as m; print("Prefect database template:", m())'
	@touch $(STAMP)

test-setup: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then echo "installing Debian packages for the tests:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; fi
	$(BIN)/python -m pip install --quiet -e '.[ml,test]'
	# Real labelled series the tests use (UCR 135, MIT-BIH), shipped inside
	# these packages; their own dependencies are not needed to read the files.
	$(BIN)/python -m pip install --quiet --no-deps aeon==1.6.0 sktime==1.2.0
	@test -d $(FAIL2BAN_LOGS) || { tmp=$$(mktemp -d) && (cd $$tmp && apt-get download fail2ban >/dev/null && dpkg-deb -x fail2ban_*.deb x) \
		&& mkdir -p $(dir $(FAIL2BAN_LOGS)) && cp -r $$tmp/x/usr/lib/python3/dist-packages/fail2ban/tests/files/logs $(FAIL2BAN_LOGS); rc=$$?; rm -rf $$tmp; exit $$rc; }
	@touch $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/lepton-flow demo-data --if-missing
	$(BIN)/lepton-flow run pipeline

# Two processes, a test file each at a time (its module fixtures, such as the
# deployment tests' Prefect server, stay in one process); PYTEST_ARGS adds to it.
TEST_PROCESSES ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# A Prefect server, the deployments and a worker per pool on this machine;
# prints the UI's address. Ctrl-C stops it all.
ui: $(STAMP)
	$(BIN)/lepton-flow demo-data --if-missing
	$(BIN)/lepton-flow up

demo-data: $(STAMP)
	$(BIN)/lepton-flow demo-data

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/sensor_ingest.py
	$(BIN)/python benchmarks/train_score.py

clean-data:
	rm -rf "$${LEPTON_DATA_ROOT:-data}"
