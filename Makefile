# Every target bootstraps .venv when it is missing, so a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install serve test compat check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/mockai serve --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The quality gate: lint, formatting and strict types (CI runs it before the tests).
CHECK_STAMP := $(VENV)/.installed-check

$(CHECK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[check]'
	touch $(CHECK_STAMP)

check: $(CHECK_STAMP)
	$(BIN)/ruff check mockai tests bench
	$(BIN)/ruff format --check mockai tests bench
	$(BIN)/mypy

# The clients people use (openai 3.x and 0.28.1, langchain-openai, litellm, the Node SDK), each in its own
# environment under tests/compat/.envs/ (built on first use, then cached), against one mockai server;
# every body checked against OpenAI's schemas. Prints a client x endpoint matrix. It also checks the main
# suite's bodies: by running it under the tap, or, with COMPAT_ARGS="--main-tap DIR", from the tap of a run
# already made with MOCKAI_TAP=DIR (what .ci/run does, so CI runs the suite once). First it prints the
# recorded-traffic match table (tests/test_real_traffic.py), so the compat summary is the last line.
compat: $(STAMP)
	$(BIN)/python tests/test_real_traffic.py
	$(BIN)/python tests/compat/run.py $(COMPAT_ARGS)

# Side by side, in one run: throughput vs a bare Starlette floor and the peers (aimock, llmock, Prism, mockllm: installed
# into bench/.peers/ on first use), per-call cost vs httpx.MockTransport, start-up, replay scale, streaming.
# Prints the table; writes bench/results.json, bench/results-latest.json and bench/chart.png. ~5 minutes.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info tests/compat/.envs .mockai-tap

# The long load run: 20,000 mixed requests (streams included) at 64 connections against a server in its own
# process; fails on any error or on more than 64 MB of server RSS growth. `make test` runs a 1,500-request one.
.PHONY: soak soak-hostile
soak: $(STAMP)
	$(BIN)/python bench/soak.py --requests 20000 --concurrency 64 --seconds 600 --max-growth-mb 64

# Each class of hostile request (issue #15) against a live server: status, duration, worst health latency, RSS.
soak-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py
