"""Saved searches for the benchmarks that run the alerts stage (bench/alerts_speed.py, bench/pipeline.py).

They are drawn from the corpus vocabulary in the shapes of the filter language: one word of text,
sometimes with a topic tree, a sentiment or a language, some of them once per story.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from opensearchpy import OpenSearch

from corpus import DEFAULT_SEED
from shared.search.alerts import AlertStore, SavedSearch, alert_document

TAXONOMY = Path(__file__).resolve().parents[1] / "services" / "enrich" / "taxonomy.yaml"


def top_level_topics() -> list[str]:
    return list(yaml.safe_load(TAXONOMY.read_text())["topics"])


def saved_searches(count: int, records: list[dict[str, Any]], seed: int = DEFAULT_SEED) -> list[SavedSearch]:
    """``count`` saved searches: one that matches everything, the rest drawn from the corpus's words.

    Each text is a word found in 0.5-1% of the articles (a name, a place, a subject: what analysts
    watch), sometimes with a filter, so an article matches about 1% of the searches, not half of them."""
    rng = random.Random(seed)
    topics = top_level_topics()
    frequency: Counter[str] = Counter()
    for record in records:
        frequency.update({word.lower() for word in re.findall(r"[A-Za-z]{5,}", record["title"] + " " + record["body"])})
    words = sorted(word for word, df in frequency.items() if 0.005 <= df / len(records) <= 0.01)
    if not words:  # a generated corpus's words are in few articles or in many: take the nearest to 0.75%
        words = sorted(frequency, key=lambda word: (abs(frequency[word] / len(records) - 0.0075), word))[:200]
    alerts = [SavedSearch(alert_id="everything", name="everything")]
    while len(alerts) < count:
        fields: dict[str, Any] = {"name": f"saved search {len(alerts)}", "text": rng.choice(words)}
        if rng.random() < 0.3:
            fields["filters"] = {"sentiment": [rng.choice(["positive", "neutral", "negative"])]}
        if rng.random() < 0.25:
            fields["more_in"] = rng.choice(topics)
        if rng.random() < 0.1:
            fields["filters"] = {**fields.get("filters", {}), "language": ["en"]}
        fields["once_per_story"] = rng.random() < 0.2
        alerts.append(SavedSearch(alert_id=f"bench-{len(alerts)}", **fields))
    return alerts


def register(client: OpenSearch, store: AlertStore, alerts: list[SavedSearch]) -> float:
    """Index the saved searches in bulk; the seconds it took."""
    store.ensure()
    started = time.perf_counter()
    for at in range(0, len(alerts), 500):
        lines: list[dict[str, Any]] = []
        for alert in alerts[at : at + 500]:
            lines += [{"index": {"_index": store.alias, "_id": alert.alert_id}}, alert_document(alert)]
        answer = client.bulk(body=lines)
        if answer["errors"]:
            raise RuntimeError(f"saved searches refused: {json.dumps(answer['items'][:2])[:500]}")
    client.indices.refresh(index=store.alias)
    return round(time.perf_counter() - started, 2)
