# Two entry points for a fresh machine: `make run` (the demo) and `make test`.
# Both create .venv and install the package on first use. torch is pinned so pip takes
# the CPU wheel cached on this machine instead of a multi-GB CUDA build.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The real MemOS Python client, for the compatibility tests; its own venv, as its dependencies
# conflict with ours. Pinned: the tests prove compatibility with this release.
MEMOS_VERSION := 2.0.33
MEMOS_VENV    := .venv-memos
MEMOS_STAMP   := $(MEMOS_VENV)/.installed-$(MEMOS_VERSION)

.PHONY: bench-cluster run test lint serve bench bench-1m bench-scale bench-reindex bench-encoders bench-quality bench-quality-models calibrate-family clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,peers,onnx,multilingual,cluster,mcp,langchain]'
	touch $(STAMP)

$(MEMOS_STAMP):
	test -x $(MEMOS_VENV)/bin/python || $(PYTHON) -m venv $(MEMOS_VENV)
	$(MEMOS_VENV)/bin/python -m pip install --quiet MemoryOS==$(MEMOS_VERSION)
	touch $(MEMOS_STAMP)

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/hybridmem demo

# Lint, type check (mypy on hybridmem/, configured in pyproject.toml), then the unit,
# integration, HTTP (incl. the real MemOS client and a schemathesis run) tests.
test: $(STAMP) $(MEMOS_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/ruff check hybridmem tests benchmarks examples
	$(BIN)/mypy
	HF_HUB_OFFLINE=1 HYBRIDMEM_MEMOS_PYTHON=$(CURDIR)/$(MEMOS_VENV)/bin/python $(BIN)/python -m pytest -q

# The HTTP service on the store in STORE (MemOS clients: base_url http://127.0.0.1:8000/api/openmem/v1).
STORE ?= ./store
serve: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/hybridmem serve $(STORE)

lint: $(STAMP)
	$(BIN)/ruff check hybridmem tests benchmarks examples
	$(BIN)/ruff format --check hybridmem tests benchmarks examples

# Latency / throughput suites (pytest-benchmark); synthetic stores are cached under benchmarks/.cache.
bench: $(STAMP)
	mkdir -p benchmarks/results
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest benchmarks -q --benchmark-only --benchmark-json=benchmarks/results/latest.json

# The 1M memories x 10k users run (synthetic embeddings; the search path is the real one).
bench-1m: $(STAMP)
	mkdir -p benchmarks/results
	HYBRIDMEM_BENCH_SCALES=1m HF_HUB_OFFLINE=1 $(BIN)/python -m pytest benchmarks -q --benchmark-only --benchmark-json=benchmarks/results/1m.json

# Search at 100k and 1M memories on stores written as services write them (small adds, upserts,
# deletes; built once, cached in benchmarks/.cache); rewrites the README's speed table.
bench-scale: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.scale --readme

# Reindex throughput against the raw encoder in the same run (+ a lexical-only reindex of the 1M
# store when `make bench-1m` has built it).
bench-reindex: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.reindex_throughput --items 4000 \
		$(if $(wildcard benchmarks/.cache/store-1m),--lexical-store benchmarks/.cache/store-1m)

# The encoder backends side by side in one process (search p50, ingest and reindex items/s, HTTP
# searches/s at 8 clients; rounds interleaved): benchmarks/results/encoders.json.
bench-encoders: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.encoder_speed --rounds 3

# The Ray cluster beside one store: the ingress's per-search overhead, searches/s at 16 clients
# with and without encoder batching, distributed reindex items/s (benchmarks/results/cluster.json).
bench-cluster: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks.cluster_speed --items 3000 --rounds 2

# Retrieval quality on the evaluation datasets (read from DATA, never copied), per ranking
# method and for the txtai peer; stores are cached in ~/.cache/hybridmem/bench.
DATA ?= ../shared/data
QUALITY := $(BIN)/hybridmem bench quality --peer txtai --quiet --plot benchmarks/results/plots
bench-quality: $(STAMP)
	mkdir -p benchmarks/results
	HF_HUB_OFFLINE=1 $(QUALITY) scifact:$(DATA)/scifact --split report --output benchmarks/results/quality-scifact.json
	HF_HUB_OFFLINE=1 $(QUALITY) locomo:$(DATA)/locomo/locomo10.json --split report --output benchmarks/results/quality-locomo.json
	HF_HUB_OFFLINE=1 $(QUALITY) locomo-observations:$(DATA)/locomo/locomo10.json --split report --output benchmarks/results/quality-locomo-observations.json
	HF_HUB_OFFLINE=1 $(QUALITY) prefeval:$(DATA)/prefeval --output benchmarks/results/quality-prefeval.json

# The same datasets with the int8 MiniLM and multilingual-e5-small (README "Other models").
MODELS ?= all-MiniLM-L6-v2@int8:int8 multilingual-e5-small:e5
bench-quality-models: $(STAMP)
	mkdir -p benchmarks/results
	for pair in $(MODELS); do m=$${pair%%:*}; tag=$${pair##*:}; \
	  HF_HUB_OFFLINE=1 $(BIN)/hybridmem bench quality --quiet --model $$m hybridmem/data/demo.json --output benchmarks/results/quality-demo-$$tag.json && \
	  HF_HUB_OFFLINE=1 $(BIN)/hybridmem bench quality --quiet --model $$m locomo:$(DATA)/locomo/locomo10.json --split report --output benchmarks/results/quality-locomo-$$tag.json && \
	  HF_HUB_OFFLINE=1 $(BIN)/hybridmem bench quality --quiet --model $$m prefeval:$(DATA)/prefeval --output benchmarks/results/quality-prefeval-$$tag.json || exit 1; \
	done

# Refit the relevance model for a model family (the shipped params/relevance-<family>.json):
# the fit splits, scored by that family's model. FAMILY_MODEL picks the model.
FAMILY ?= e5
FAMILY_MODEL ?= multilingual-e5-small
FIT_SETS ?= locomo:$(DATA)/locomo/locomo10.json locomo-observations:$(DATA)/locomo/locomo10.json hybridmem/data/demo.json data/preferences.json
calibrate-family: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/hybridmem calibrate $(FIT_SETS) --seeds 3 --model $(FAMILY_MODEL) \
		--output hybridmem/params/relevance-$(FAMILY).json

clean:
	rm -rf $(VENV) $(MEMOS_VENV) build *.egg-info
