"""The largest article the pipeline carries, dense with names, against the time a stage may hold a message.

Ingest truncates bodies to MAX_BODY_CHARS, so every stage must handle one that
long well inside ``ack_wait``: a stage that takes longer has the message
redelivered while it still works on it, and blocks its whole batch meanwhile.
The text is written here; it names real places and people as news does.
"""

from __future__ import annotations

import time

import pytest

from services.enrich.app import create_worker as enrich_worker
from services.enrich.settings import EnrichSettings
from services.entity_link.app import create_worker as link_worker
from services.entity_link.settings import EntityLinkSettings
from shared.messages import MAX_BODY_CHARS, ArticleEnriched, ArticleIngested, ArticleLinked, Source
from shared.settings import ServiceSettings

pytestmark = pytest.mark.chaos

SENTENCE = "Apple Inc. said Tim Cook met Xi Jinping in Beijing before flying to Washington. "
# A quarter of ack_wait, so that a batch holding a few such articles still settles in time. (Linear
# linking takes a few seconds for this text; the quadratic one took 30 to 100 s on a 2-core machine.)
BUDGET_S = ServiceSettings().ack_wait_s / 4


def test_a_longest_article_dense_with_names_is_enriched_and_linked_within_a_quarter_of_the_ack_wait() -> None:
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
    assert enriched_s < BUDGET_S and linked_s < BUDGET_S
