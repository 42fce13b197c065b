"""``newsflow process`` runs the topology's stages, a service inserted by one line of topology included."""

from __future__ import annotations

import pytest

from cli.inprocess import InProcessPipeline, default_worker
from cli.new_service import pipeline_with
from services._template.app import STAGE, STAGE_SPEC
from services._template.app import create_worker as template_worker
from shared.messages import ArticleLinked, DocumentSubmitted
from shared.stage import StageWorker
from shared.topology import Topology

STORY = DocumentSubmitted(
    submission_id="harbour",
    kind="text",
    content="Harbour ferry returns\nThe ferry across the harbour in Oslo runs again from Monday, the council said. "
    "Tickets cost the same as last year, and the first boat leaves at seven each morning.",
)


def _worker_for(stage: str) -> StageWorker:
    return template_worker() if stage == STAGE else default_worker(stage)


async def test_an_inserted_stage_runs_between_its_neighbours() -> None:
    topology = Topology(pipeline=pipeline_with(STAGE_SPEC, "enrich"))
    async with InProcessPipeline("all", topology, _worker_for) as pipeline:
        [article] = await pipeline.articles([STORY])
    assert isinstance(article, ArticleLinked)
    stages = [stamp.service for stamp in article.provenance.stamps]
    assert stages == ["ingest", "enrich", STAGE, "entity_link", "stories"]
    assert STAGE in article.enrichments
    # Each field names the stage that wrote it.
    fields = article.provenance.fields
    assert (fields["body"].stage, fields["topics"].stage, fields["entities"].stage) == (
        "ingest",
        "enrich",
        "entity_link",
    )
    assert fields[f"enrichments.{STAGE}"].stage == STAGE
    assert fields["entities"].model and fields["topics"].model


@pytest.mark.parametrize(("up_to", "last"), [("ingest", "ingest"), ("enrich", "enrich"), ("link", "entity_link")])
async def test_the_run_stops_after_the_named_stage(up_to: str, last: str) -> None:
    async with InProcessPipeline(up_to) as pipeline:
        [article] = await pipeline.articles([STORY])
    assert article.provenance.stamps[-1].service == last


async def test_a_duplicate_and_a_failure_are_reported_in_input_order() -> None:
    again = STORY.model_copy(update={"submission_id": "harbour-again"})
    broken = DocumentSubmitted(submission_id="no-url", kind="url")
    async with InProcessPipeline("ingest") as pipeline:
        lines = [line async for line in pipeline.run([STORY, again, broken])]
    first, duplicate, failure = lines
    assert duplicate["dropped"] == "duplicate" and duplicate["duplicate_of"] == first["article_id"]
    assert failure["reason"] == "missing_url"


async def test_a_feed_entry_that_needs_a_fetch_is_reported_offline() -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour news</title>'
        "<item><title>Timetable</title><link>https://harbour.example/timetable</link></item>"
        "</channel></rss>"
    )
    submission = DocumentSubmitted(submission_id="feed", kind="feed", content=feed, url="https://harbour.example/rss")
    async with InProcessPipeline("ingest") as pipeline:
        [line] = [line async for line in pipeline.run([submission])]
    assert line["dropped"] == "needs_fetch" and line["url"] == "https://harbour.example/timetable"


def test_an_unknown_stage_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="ingest, enrich, entity_link, stories, link, all"):
        InProcessPipeline("index")
