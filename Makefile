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

# The clients people use (openai 3.x and 0.28.1, langchain-openai, litellm, the Node SDK), each in its own
# environment under tests/compat/.envs/ (built on first use, then cached), against one mockai server;
# every body checked against OpenAI's schemas. Prints a client x endpoint matrix.
compat: $(STAMP)
	$(BIN)/python tests/compat/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info tests/compat/.envs
