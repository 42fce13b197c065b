"""``newsflow process`` runs the topology's stages, a service inserted by one line of topology included."""

from __future__ import annotations

import pytest

from cli.inprocess import InProcessPipeline, default_worker
from cli.new_service import pipeline_with
from services._template.app import STAGE, STAGE_SPEC
from services._template.app import create_worker as template_worker
from shared.messages import ArticleLinked, DocumentSubmitted
from shared.stage import PerItemWorker
from shared.topology import Topology

STORY = DocumentSubmitted(
    submission_id="harbour",
    kind="text",
    content="Harbour ferry returns\nThe ferry across the harbour in Oslo runs again from Monday, the council said. "
    "Tickets cost the same as last year, and the first boat leaves at seven each morning.",
)


def _worker_for(stage: str) -> PerItemWorker:
    return template_worker() if stage == STAGE else default_worker(stage)


def test_an_inserted_stage_runs_between_its_neighbours() -> None:
    topology = Topology(pipeline=pipeline_with(STAGE_SPEC, "enrich"))
    [article] = InProcessPipeline("all", topology, _worker_for).articles(STORY)
    assert isinstance(article, ArticleLinked)
    assert [stamp.service for stamp in article.provenance] == ["ingest", "enrich", STAGE, "entity_link", "stories"]
    assert STAGE in article.enrichments


@pytest.mark.parametrize(("up_to", "last"), [("ingest", "ingest"), ("enrich", "enrich"), ("link", "entity_link")])
def test_the_run_stops_after_the_named_stage(up_to: str, last: str) -> None:
    [article] = InProcessPipeline(up_to).articles(STORY)
    assert article.provenance[-1].service == last


def test_an_unknown_stage_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="ingest, enrich, entity_link, stories, link, all"):
        InProcessPipeline("index")
