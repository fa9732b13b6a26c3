# synthmix: `make corpus` runs the main job, `make test` runs lint and the tests. `make help` lists targets.
# Every target works from a fresh clone: `setup` (a prerequisite) creates .venv once.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RECIPE ?= recipes/default.toml
MIX    ?=
MODEL  ?=
DATASET ?=
REPO   ?=
PYTEST_ARGS ?=
SYNTHMIX := $(BIN)/synthmix
# The offline sample trains a tiny local model; train/eval/compare build it first for that recipe.
TINY_MODEL := data/tiny-model
SAMPLE_MODEL := $(if $(filter recipes/sample.toml,$(RECIPE)),$(TINY_MODEL)/config.json)

.PHONY: help setup tiny-model corpus train eval compare publish status bench lint format test test-slow clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: $(STAMP)  ## create .venv: torch==2.13.0 (CPU build) first, then synthmix with dev extras

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# compat mode: a .pth with the project root, so packages added later import without reinstalling.
	$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

tiny-model: $(TINY_MODEL)/config.json  ## build data/tiny-model: a tiny Llama + tokenizer trained on samples/ (offline)

$(TINY_MODEL)/config.json: | $(STAMP)
	$(BIN)/python -m train.tiny $(TINY_MODEL)

corpus: setup  ## ingest + synth + curate + mixes + cards (RECIPE=recipes/default.toml)
	$(SYNTHMIX) corpus --recipe $(RECIPE)

train: setup $(SAMPLE_MODEL)  ## QLoRA fine-tune on a mix: make train MIX=synthetic+flores [MODEL=...] [RECIPE=...]
	@if [ -z "$(MIX)" ]; then echo "make train: MIX is required, e.g. make train MIX=synthetic+flores" >&2; exit 2; fi
	$(SYNTHMIX) train --recipe $(RECIPE) --mix '$(MIX)' $(if $(MODEL),--model '$(MODEL)')

eval: setup $(SAMPLE_MODEL)  ## evaluate the base model (or ADAPTER=runs/...) on the recipe's test sets
	$(SYNTHMIX) eval --recipe $(RECIPE) $(if $(ADAPTER),--adapter '$(ADAPTER)')

compare: setup $(SAMPLE_MODEL)  ## the experiment matrix with significance tests -> reports/<recipe>/report.md
	$(SYNTHMIX) compare --recipe $(RECIPE)

publish: setup  ## upload a dataset to the Hub: make publish DATASET=data/... REPO=user/name [PRIVATE=1] [DRY_RUN=out/]
	@if [ -z "$(DATASET)" ] || [ -z "$(REPO)" ]; then echo "make publish: DATASET and REPO are required" >&2; exit 2; fi
	$(SYNTHMIX) publish --recipe $(RECIPE) --dataset '$(DATASET)' --repo '$(REPO)' $(if $(PRIVATE),--private) $(if $(DRY_RUN),--dry-run '$(DRY_RUN)')

status: setup  ## what exists for RECIPE and what is stale
	$(SYNTHMIX) status --recipe $(RECIPE)

bench: setup  ## benchmarks under bench/, printing ratios against baselines measured in the same run
	@set -e; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

lint: setup  ## ruff check + format check + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint  ## lint, then the tests (no slow/network/gpu markers)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-slow: setup  ## the slow tests (local Ray, longer training); CI runs these too
	$(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no slow tests"; else exit $$rc; fi

clean:  ## remove outputs (data/, runs/, reports/) and caches; keeps .venv
	rm -rf data runs reports .pytest_cache .mypy_cache .ruff_cache build *.egg-info
