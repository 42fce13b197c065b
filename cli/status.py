"""What ``newsflow status`` reports: per-stage backlog, dead letters, throughput, index size."""

from __future__ import annotations

from typing import Any

import nats
from nats.js.errors import NotFoundError
from opensearchpy.exceptions import OpenSearchException

from shared.nats import connect_options
from shared.search.client import async_client
from shared.settings import OpenSearchSettings, ServiceSettings


async def collect_status(settings: ServiceSettings, search: OpenSearchSettings) -> dict[str, Any]:
    topology = settings.topology
    problems: list[str] = []
    stages: list[dict[str, Any]] = []
    recent = await _indexed_last_minute_by_stage(search)
    try:
        client = await nats.connect(connect_timeout=3, max_reconnect_attempts=1, **connect_options(settings))
    except Exception as error:
        problems.append(f"NATS not reachable at {settings.nats_url}: {error!r}")
        client = None
    dead_letters: dict[str, int] = {}
    if client is not None:
        js = client.jetstream()
        try:
            info = await js.stream_info(topology.stream, subjects_filter=topology.dead_letter_wildcard)
            dead_letters = {subject.rsplit(".", 1)[-1]: count for subject, count in (info.state.subjects or {}).items()}
        except NotFoundError:
            problems.append(f"stream {topology.stream} does not exist yet")
    for stage in topology.stage_names:
        row: dict[str, Any] = {
            "stage": stage,
            "pending": None,
            "ack_pending": None,
            "redelivered": None,
            "dead_letters": dead_letters.get(stage, 0),
            "processed_last_minute": recent.get(stage, 0),
        }
        if client is not None:
            try:
                consumer = await client.jetstream().consumer_info(topology.stream, topology.durable(stage))
                row.update(
                    pending=consumer.num_pending,
                    ack_pending=consumer.num_ack_pending,
                    redelivered=consumer.num_redelivered,
                )
            except NotFoundError:
                problems.append(f"no consumer for {stage}: is the service running?")
        stages.append(row)
    if client is not None:
        await client.close()
    return {"stages": stages, "index": await _index_count(search, problems), "problems": problems}


async def _index_count(search: OpenSearchSettings, problems: list[str]) -> dict[str, Any]:
    client = async_client(search)
    try:
        count = (await client.count(index=search.alias))["count"]
    except OpenSearchException as error:
        problems.append(f"OpenSearch: {error!r}"[:300])
        count = None
    finally:
        await client.close()
    return {"alias": search.alias, "documents": count}


async def _indexed_last_minute_by_stage(search: OpenSearchSettings) -> dict[str, int]:
    """Articles each stage stamped in the last minute, read from the provenance of indexed documents (an
    OpenSearch that does not answer gives none here; ``_index_count`` reports it once)."""
    client = async_client(search)
    body = {
        "size": 0,
        "query": {"range": {"indexed_at": {"gte": "now-1m"}}},
        "aggs": {"by_stage": {"terms": {"field": "provenance.stamps.service", "size": 50}}},
    }
    try:
        response = await client.search(index=search.alias, body=body)
    except OpenSearchException:
        return {}
    finally:
        await client.close()
    return {bucket["key"]: bucket["doc_count"] for bucket in response["aggregations"]["by_stage"]["buckets"]}
