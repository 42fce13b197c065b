"""Articles written for these tests (no dataset text) and the shared, loaded-once enrich resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services.enrich.app import EnrichWorker
from services.enrich.enrichers import Resources, build_enrichers
from shared.messages import ArticleIngested, Source

CHIP_TITLE = "Harbourline Semiconductor opens chip plant in Ohio as AI demand grows"
CHIP_BODY = "\n\n".join(
    (
        "COLUMBUS, Ohio — Harbourline Semiconductor opened its first chip plant in Ohio on Tuesday, a $4 "
        "billion factory that will make processors for artificial intelligence servers.",
        "The plant will employ about 1,800 people when it reaches full output in 2028, Harbourline said. It "
        "will produce chips on a 3-nanometre process for data centre customers, including two large cloud "
        "companies.",
        "Chief executive Maria Okonkwo said demand for AI processors had outgrown the company's plants in "
        'Taiwan. "Our customers want a second source of chips close to home," Okonkwo said.',
        "Mr. Daniel Reyes, an analyst at Northgate Research, said the U.S. plant would ease a shortage of "
        "advanced chips. He expects Harbourline's revenue to rise 18.5 per cent next year.",
        "The factory received $900 million in federal grants under a programme meant to bring chip "
        "manufacturing back to the United States. State officials said road and water works around the site "
        "were finished in March.",
        "Harbourline shares rose 3.2 per cent in New York trading after the opening.",
        "Engineers will spend the first months testing the production lines before volume shipments start. "
        "The company plans a second building on the same site if orders keep growing.",
        "Rival chipmakers are also expanding in the region, and local colleges have started courses to train "
        "technicians for the new plants.",
    )
)

PADDED_BODY = (
    """Home › Tech › Chips
🔗 Share  💬 Comment  ⭐ Save
By Staff Writer · 3 min read
"""
    + CHIP_BODY
    + """
Subscribe to our newsletter for daily chip news.
── More in Technology ▸ Drone league signs streaming deal · Lagos fintechs chase loans
sponsored ▸ rent GPUs by the hour"""
)

GERMAN_BODY = "\n\n".join(
    (
        "Die Stadtverwaltung hat am Montag einen neuen Plan für den Ausbau der Radwege vorgestellt. In den "
        "kommenden fünf Jahren sollen mehr als hundert Kilometer neue Wege entstehen, die vor allem die "
        "Vororte mit dem Zentrum verbinden.",
        "Der Bürgermeister sagte, die Stadt wolle damit den Verkehr in der Innenstadt verringern und die "
        "Luftqualität verbessern. Die Kosten werden auf rund achtzig Millionen Euro geschätzt.",
    )
)


@dataclass(frozen=True)
class Samples:
    chip_title: str = CHIP_TITLE
    chip_body: str = CHIP_BODY
    padded_body: str = PADDED_BODY
    german_body: str = GERMAN_BODY

    @staticmethod
    def article(title: str = CHIP_TITLE, body: str = CHIP_BODY, **fields: Any) -> ArticleIngested:
        return ArticleIngested(article_id="test-1", title=title, body=body, source=Source(name="Test Wire"), **fields)


@pytest.fixture(scope="session")
def samples() -> Samples:
    return Samples()


@pytest.fixture(scope="session")
def resources() -> Resources:
    return Resources()


@pytest.fixture(scope="session")
def worker(resources: Resources) -> EnrichWorker:
    return EnrichWorker(build_enrichers(resources), resources)
