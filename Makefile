# One entry point per job. Every target builds .venv first when it is missing.
PY      := .venv/bin/python
COURSE  := .venv/bin/course
STAMP   := .venv/.installed
JOBS    ?= $(shell nproc)

.PHONY: install demo test test-unit validate release lint clean hub bench mutation

install: $(STAMP)

# pip's own resolver is pinned by requirements.txt; torch 2.13.0 resolves to the CPU wheel on disk.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# configurable-http-proxy for JupyterHub, pinned in package-lock.json, installed into the repo.
CHP     := node_modules/.bin/configurable-http-proxy

$(CHP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# JupyterHub on this machine (as root): system users from the roster, the course released into
# nbgrader's exchange, formgrader as a service. Prints the URL and first-login steps; Ctrl-C stops.
hub: install $(CHP)
	$(COURSE) hub start

# Quick start: build the course from source/ and grade a demo class of generated submissions.
demo: install
	$(COURSE) demo --out demo -j $(JOBS)

release: install
	$(COURSE) release

lint: install
	$(COURSE) lint

validate: install
	$(COURSE) validate -j $(JOBS)

test-unit: install
	$(PY) -m pytest -q -m "not slow"

# The test command CI runs: platform tests, then every assignment validated against its autograder.
test: install $(CHP)
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile -p no:cacheprovider
	$(COURSE) validate -j $(JOBS)

# Throughput against nbgrader autograde on a synthetic class (BENCH_N=10,30,60); prints figures,
# writes .bench/bench.json and .bench/bench.png. Not part of `make test`.
bench: install
	$(PY) -m course.bench

# Mutation testing of the platform's core (judge, sandbox, planning, gradebook, protocol, roster)
# against the fast tests: prints the killed share per module and every survivor. Not part of `make test`.
mutation: install
	$(PY) -m pip install --quiet -r requirements-mutation.txt
	$(PY) tools/mutation.py

clean:
	rm -rf submitted autograded feedback demo gradebook.db .pytest_cache
