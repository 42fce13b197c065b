"""The largest article the pipeline carries, dense with names: enriched and linked, not stuck.

Ingest truncates bodies to MAX_BODY_CHARS, so every stage must handle one that
long. How long it takes is measured by bench/link_speed.py (its longest
article); the time each stage took is printed here. The text is written here;
it names real places and people as news does.
"""

from __future__ import annotations

import time

import pytest

from services.enrich.app import create_worker as enrich_worker
from services.enrich.settings import EnrichSettings
from services.entity_link.app import create_worker as link_worker
from services.entity_link.settings import EntityLinkSettings
from shared.messages import MAX_BODY_CHARS, ArticleEnriched, ArticleIngested, ArticleLinked, Source

pytestmark = pytest.mark.chaos

SENTENCE = "Apple Inc. said Tim Cook met Xi Jinping in Beijing before flying to Washington. "


def test_a_longest_article_dense_with_names_is_enriched_and_linked() -> None:
    body = SENTENCE * (MAX_BODY_CHARS // len(SENTENCE))
    article = ArticleIngested(article_id="longest", title="Talks in Beijing", body=body, source=Source(name="test"))
    enrich, link = enrich_worker(EnrichSettings()), link_worker(EntityLinkSettings())
    started = time.perf_counter()
    [enriched] = enrich.process(article)
    assert isinstance(enriched, ArticleEnriched)
    enriched_s = time.perf_counter() - started
    [linked] = link.process(enriched)
    assert isinstance(linked, ArticleLinked)
    linked_s = time.perf_counter() - started - enriched_s
    print(f"enrich {enriched_s:.1f} s, entity_link {linked_s:.1f} s for {len(body)} characters")
    assert linked.entities
