# newsflow — every command a developer or operator needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_FLAGS ?= -q

.PHONY: help install browser up up-cluster down status test chaos lint types unit integration contract bench kb ner-model link-confidence topic-model clean

help: ## List the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1mmake %-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (idempotent)

browser: ## Debian's chromium for the reader pages' browser test (Playwright drives it; it never downloads one)
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

up: install ## Start nats-server, OpenSearch, every service and the API; ingest the sample corpus; show a search
	$(PY) deploy/local/stack.py up
	$(VENV)/bin/newsflow ingest corpus/sample/*.txt corpus/sample/*.jsonl
	$(PY) deploy/local/stack.py wait-indexed
	$(VENV)/bin/newsflow search "artificial intelligence"
	@echo "reader: http://127.0.0.1:8000/   API: curl 'http://127.0.0.1:8000/v1/articles?q=trillion+parameters&size=3'"

up-cluster: install ## 3 nats-servers (JetStream R3), 3 OpenSearch nodes, 2 replicas of each stage; ingest the sample
	$(PY) deploy/local/stack.py up-cluster
	eval "$$($(PY) deploy/local/stack.py cluster-env)" && $(VENV)/bin/newsflow ingest corpus/sample/*.txt corpus/sample/*.jsonl
	$(PY) deploy/local/stack.py wait-indexed --cluster
	eval "$$($(PY) deploy/local/stack.py cluster-env)" && $(VENV)/bin/newsflow search "artificial intelligence"

down: ## Stop exactly what `make up` and `make up-cluster` started (by PID)
	python3 deploy/local/stack.py down

status: ## Show the local processes and the pipeline's backlog
	python3 deploy/local/stack.py status
	-$(VENV)/bin/newsflow status

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install ## mypy over shared, services and cli
	$(VENV)/bin/mypy

unit: install ## Unit tests only (no servers)
	$(VENV)/bin/pytest tests/unit $(PYTEST_FLAGS)

integration: install ## Integration and e2e tests (start nats-server and OpenSearch if they are not running)
	$(VENV)/bin/pytest tests/integration tests/e2e $(PYTEST_FLAGS)

test: lint types ## Lint, types and the test suite: unit, integration, e2e with quick faults (the CI command)
	$(VENV)/bin/pytest tests --ignore=tests/chaos $(PYTEST_FLAGS)

chaos: install ## The full fault suite (5,000 articles a run): SIGKILLs, outages, NATS restart, scaling, cluster node failures
	$(VENV)/bin/pytest tests/chaos -m chaos -q -rxX

contract: install ## Regenerate the checked-in JSON Schemas and AsyncAPI document from the models
	$(PY) -m shared.contract write
	$(PY) -m services.api.openapi write

bench: install ## Run the benchmarks (results under bench/results/)
	$(PY) bench/run_all.py

kb: install ## Rebuild the bundled knowledge base from ../shared/data (or: newsflow kb build --wikidata-dump FILE)
	$(VENV)/bin/newsflow kb build

ner-model: install ## Retrain the entity recogniser from ../shared/data/conll2003 (after a large KB change)
	$(PY) -m services.entity_link.ner.train --data ../shared/data

link-confidence: install ## Refit the entity-link confidence model on the AIDA-dev tuning half (after a KB or recogniser change)
	$(PY) bench/link_confidence.py --data ../shared/data

topic-model: install ## Retrain the topic model from ../shared/data (bbc-news, topics-more); ~10 min
	$(PY) -m services.enrich.training.train_topics

clean: ## Remove caches (keeps .venv and .local)
	find . -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .mypy_cache .ruff_cache .pytest_cache
