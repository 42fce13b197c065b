# newsflow — every command a developer or operator needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_FLAGS ?= -q

.PHONY: help install up down status test chaos lint types unit integration contract bench kb ner-model topic-model clean

help: ## List the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[1mmake %-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (idempotent)

up: install ## Start nats-server, OpenSearch and the four services; ingest the sample corpus; show a search
	$(PY) deploy/local/stack.py up
	$(VENV)/bin/newsflow ingest corpus/sample/*.txt corpus/sample/*.jsonl
	$(PY) deploy/local/stack.py wait-indexed
	$(VENV)/bin/newsflow search "artificial intelligence"

down: ## Stop exactly what `make up` started (by PID)
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

chaos: install ## The full fault suite: SIGKILLs during 5,000 articles, a 60 s OpenSearch outage, NATS restart, scaling
	$(VENV)/bin/pytest tests/chaos -m chaos -q -rxX

contract: install ## Regenerate the checked-in JSON Schemas and AsyncAPI document from the models
	$(PY) -m shared.contract write

bench: install ## Run the benchmarks (results under bench/results/)
	$(PY) bench/run_all.py

kb: install ## Rebuild the bundled knowledge base from ../shared/data (or: newsflow kb build --wikidata-dump FILE)
	$(VENV)/bin/newsflow kb build

ner-model: install ## Retrain the entity recogniser from ../shared/data/conll2003 (after a large KB change)
	$(PY) -m services.entity_link.ner.train --data ../shared/data

topic-model: install ## Retrain the topic model from ../shared/data (bbc-news, topics-more); ~10 min
	$(PY) -m services.enrich.training.train_topics

clean: ## Remove caches (keeps .venv and .local)
	find . -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .mypy_cache .ruff_cache .pytest_cache
