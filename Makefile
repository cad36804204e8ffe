# Two entry points for a fresh machine: `make run` (the demo) and `make test`.
# Both create .venv and install the package on first use. torch is pinned so pip takes
# the CPU wheel cached on this machine instead of a multi-GB CUDA build.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-1m clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,peers]'
	touch $(STAMP)

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/hybridmem demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/ruff check hybridmem tests benchmarks
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hybridmem tests benchmarks
	$(BIN)/ruff format --check hybridmem tests benchmarks

# Latency / throughput suites (pytest-benchmark); synthetic stores are cached under benchmarks/.cache.
bench: $(STAMP)
	mkdir -p benchmarks/results
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest benchmarks -q --benchmark-only --benchmark-json=benchmarks/results/latest.json

# The 1M memories x 10k users run (synthetic embeddings; the search path is the real one).
bench-1m: $(STAMP)
	mkdir -p benchmarks/results
	HYBRIDMEM_BENCH_SCALES=1m HF_HUB_OFFLINE=1 $(BIN)/python -m pytest benchmarks -q --benchmark-only --benchmark-json=benchmarks/results/1m.json

clean:
	rm -rf $(VENV) build *.egg-info
