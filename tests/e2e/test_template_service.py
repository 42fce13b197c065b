"""The template service inserted into the pipeline by one line of topology, against the real servers.

Nothing else changes: the standard stages up to the index run their own code with the longer topology, the
new key travels in ``enrichments``, and the index's dynamic templates make it searchable and facetable.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import nats
import pytest
from faststream import FastStream

import services.enrich.app as enrich_service
import services.entity_link.app as entity_link_service
import services.index.app as index_service
import services.ingest.app as ingest_service
import services.stories.app as stories_service
from cli.new_service import pipeline_with
from cli.publish import publish_submissions
from services._template.app import STAGE, STAGE_SPEC
from services._template.app import create_app as create_template_app
from services._template.enrichment import readability
from services._template.settings import ReadabilitySettings
from services.enrich.settings import EnrichSettings
from services.entity_link.settings import EntityLinkSettings
from services.index.settings import IndexSettings
from services.ingest.settings import IngestSettings
from services.stories.settings import StoriesSettings
from shared.messages import DocumentSubmitted
from shared.search.client import async_client
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.stage import create_stage_app
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import running, wait_until

pytestmark = pytest.mark.e2e

PLAIN = "The {pet} ran to the park. It was a warm day. The kids threw a ball and the {pet} got it. They sat in the sun."
DENSE = (
    "Notwithstanding considerable institutional uncertainty regarding {topic}, the parliamentary committee "
    "recommended comprehensive constitutional reorganisation, emphasising administrative accountability "
    "and intergovernmental coordination. Representatives characterised the consultation as unrepresentative."
)
BODIES = {
    **{f"plain-{pet}": PLAIN.format(pet=pet) for pet in ("dog", "cat", "goat")},
    **{f"dense-{topic}": DENSE.format(topic=topic) for topic in ("fisheries", "broadcasting", "aviation")},
}
FIELD = f"enrichments.{STAGE}"
# The index template chooses the numeric type (whole numbers may be mapped as double so that a later fraction fits).
NUMERIC_TYPES = {"long", "integer", "double", "float"}


def _stage_apps(servers: Servers, topology: Topology, search: OpenSearchSettings) -> list[FastStream]:
    common: dict[str, Any] = {"nats_url": servers.nats_url, "namespace": topology.namespace}
    standard: list[tuple[Any, ServiceSettings]] = [
        (ingest_service, IngestSettings(**common)),
        (enrich_service, EnrichSettings(**common)),
        (entity_link_service, EntityLinkSettings(**common)),
        (stories_service, StoriesSettings(**common, opensearch=search)),
        (index_service, IndexSettings(**common, opensearch=search)),
    ]
    apps = [
        create_stage_app(settings, service.STAGE, service.create_worker(settings), topology)
        for service, settings in standard
    ]
    return [*apps, create_template_app(ReadabilitySettings(**common), topology)]


def _submissions() -> list[DocumentSubmitted]:
    return [
        DocumentSubmitted(
            submission_id=f"readability-{key}",
            kind="record",
            hints={
                "title": f"Story {key}",
                "body": body,
                "url": f"https://news.example.test/readability/{key}",
                "source": "Template Outlet",
                "published_at": "2026-11-20T10:00:00Z",
            },
        )
        for key, body in BODIES.items()
    ]


async def _search(search: OpenSearchSettings, body: dict[str, Any]) -> dict[str, Any]:
    client = async_client(search)
    try:
        await client.indices.refresh(index=search.alias)
        response: dict[str, Any] = await client.search(index=search.alias, body=body)
        return response
    finally:
        await client.close()


async def _indexed(search: OpenSearchSettings) -> int:
    try:
        return int((await _search(search, {"size": 0, "track_total_hits": True}))["hits"]["total"]["value"])
    except Exception:  # the index does not exist until the first batch arrives
        return 0


async def test_inserted_stage_adds_a_searchable_facetable_enrichment(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    # The pipeline with the one line of topology a developer adds: StageSpec("readability", ...) after enrich.
    topology = Topology(namespace, pipeline=pipeline_with(STAGE_SPEC, after="enrich"))
    async with running(*_stage_apps(servers, topology, opensearch_settings)):
        client = await nats.connect(servers.nats_url)
        await publish_submissions(client.jetstream(), topology.entry_subject, _submissions())
        await client.close()

        async def all_indexed() -> bool:
            return await _indexed(opensearch_settings) == len(BODIES)

        await wait_until(all_indexed, 90, f"{len(BODIES)} indexed articles")

    expected = {f"Story {key}": readability(body) for key, body in BODIES.items()}
    documents = await _search(opensearch_settings, {"size": len(BODIES), "query": {"match_all": {}}})
    for hit in documents["hits"]["hits"]:
        document = hit["_source"]
        scores = expected[document["title"]]
        assert scores is not None and document["enrichments"][STAGE] == scores.as_json()
        stamps = [stamp["service"] for stamp in document["provenance"]["stamps"]]
        assert stamps == ["ingest", "enrich", STAGE, "entity_link", "stories", "index"]

    # Facetable: a terms aggregation on the keyword the dynamic template made of the level.
    facets = await _search(opensearch_settings, {"size": 0, "aggs": {"level": {"terms": {"field": f"{FIELD}.level"}}}})
    buckets = {bucket["key"]: bucket["doc_count"] for bucket in facets["aggregations"]["level"]["buckets"]}
    assert buckets == Counter(scores.level for scores in expected.values() if scores is not None)
    assert len(buckets) == 2  # the plain and the dense stories fall in different bands

    # Searchable: a range query on the number the dynamic template made of the score.
    plain_english = 60.0  # Flesch: 60 and above reads as plain English
    readable = await _search(
        opensearch_settings,
        {"size": len(BODIES), "query": {"range": {f"{FIELD}.flesch_reading_ease": {"gte": plain_english}}}},
    )
    titles = {hit["_source"]["title"] for hit in readable["hits"]["hits"]}
    easy = {title for title, scores in expected.items() if scores and scores.flesch_reading_ease >= plain_english}
    assert titles == easy and len(easy) == 3

    # No mapping edit: the index's dynamic templates typed every new field from its JSON value.
    search = async_client(opensearch_settings)
    [mapping] = (await search.indices.get_mapping(index=opensearch_settings.alias)).values()
    await search.close()
    fields = mapping["mappings"]["properties"]["enrichments"]["properties"][STAGE]["properties"]
    types = {name: field["type"] for name, field in fields.items()}
    assert types.pop("level") == "keyword"
    assert set(types) == {"flesch_reading_ease", "flesch_kincaid_grade", "sentences", "words"}
    assert set(types.values()) <= NUMERIC_TYPES
