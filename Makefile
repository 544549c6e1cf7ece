# msgraph.migrations: set-up, demo and tests. A fresh machine needs only Python,
# pip, gcc and make; everything else is installed here, into .venv/.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# ansible and ansible-test find the collection at ansible_collections/msgraph/migrations;
# the repository stays the collection root and is linked there.
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/msgraph/migrations
# Tests must not write to the user's ~/.ansible.
export ANSIBLE_HOME := $(CURDIR)/build/ansible-home
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONDONTWRITEBYTECODE := 1
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: help venv collection demo test unit emulator-test e2e emulator bench clean

help:
	@echo "make demo   - set up, start the Graph emulator on a 500-user wave, run the rollback runbook: rehearse, run, rerun"
	@echo "make test   - set up and run every test and quality gate (what CI runs)"
	@echo "make bench  - benchmark against the emulator (50 ms round trip); table on stdout, JSON in build/bench/results.json"
	@echo "make emulator - run the Graph emulator on https://127.0.0.1:8443 until Ctrl+C"

$(VENV)/.installed: requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt -r tests/requirements.txt
	touch $@

venv: $(VENV)/.installed

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

collection: $(COLLECTION_LINK)

unit: venv collection
	PYTHONPATH=$(COLLECTIONS) $(PYTEST) --import-mode=importlib tests/unit -q

emulator-test: venv
	$(PYTEST) tests/emulator -q

e2e: venv collection
	PYTHONPATH=$(COLLECTIONS):$(CURDIR)/emulator $(PYTEST) tests/e2e -q

demo: venv collection
	PATH=$(BIN):$$PATH bash scripts/demo.sh

emulator: venv
	PYTHONPATH=$(CURDIR)/emulator $(BIN)/python -m msgraph_emulator --ca-file build/emulator-ca.pem --port 8443 --request-log build/emulator-requests.jsonl

test: unit emulator-test e2e gates

# Not part of `make test`: it takes about 15 minutes (two loops of 500 users) and reports, never fails on, its ratios.
bench: venv collection
	$(BIN)/python scripts/bench.py

clean:
	rm -rf build .venv .venv-* tests/output .ansible

include mk/gates.mk
