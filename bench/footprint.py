"""Disk per article: what the stream, the ingest key-value bucket, the index and the stories index hold
after N articles went through every stage up to the index, for docs/capacity.md.

The stages run in this process (their service code, as in tests/integration) against the local
nats-server and OpenSearch, in a namespace and alias of their own; the figures are read from the
servers themselves: the stream's and the bucket's bytes from nats-server's monitoring endpoint
``/jsz`` (one replica's copy: a stream with 3 replicas takes 3 times this across the cluster), the
indices' from ``_cat/indices`` after a refresh and a flush (primary shards only: each index replica
adds the same again). Everything the run created is deleted afterwards.

    .venv/bin/python bench/footprint.py [--articles 2000] [--corpus ../shared/data/bbc-news/train]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import nats

from corpus import describe, generate, read_source
from services.enrich.app import create_app as enrich_app
from services.enrich.settings import EnrichSettings
from services.entity_link.app import create_app as link_app
from services.entity_link.settings import EntityLinkSettings
from services.index.app import create_app as index_app
from services.index.settings import IndexSettings
from services.ingest.app import create_app as ingest_app
from services.ingest.settings import IngestSettings
from services.stories.app import create_app as stories_app
from services.stories.settings import StoriesSettings
from shared.messages import DocumentSubmitted
from shared.search.client import async_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings
from shared.topology import Topology

RESULTS = Path(__file__).resolve().parent / "results"
NATS_URL = os.environ.get("NEWSFLOW_NATS_URL", "nats://127.0.0.1:4222")
NATS_MONITOR = os.environ.get("NATS_MONITOR_URL", "http://127.0.0.1:8222")
OPENSEARCH_URL = os.environ.get("NEWSFLOW_OPENSEARCH_URL", "http://127.0.0.1:9200")


def stream_state(name: str) -> dict[str, int]:
    """Messages and bytes of one stream, from ``/jsz`` (what the server stores for it)."""
    with urllib.request.urlopen(f"{NATS_MONITOR}/jsz?streams=true", timeout=10) as response:
        report = json.load(response)
    for account in report.get("account_details", []):
        for stream in account.get("stream_detail", []):
            if stream["name"] == name:
                return {"messages": int(stream["state"]["messages"]), "bytes": int(stream["state"]["bytes"])}
    raise LookupError(f"no stream {name} in {NATS_MONITOR}/jsz")


async def run(articles: int, corpus: Path | None) -> dict[str, Any]:
    namespace = f"fp{uuid.uuid4().hex[:8]}"
    topology = Topology(namespace)
    search = OpenSearchSettings(url=OPENSEARCH_URL, alias=f"{namespace}-articles", stories_alias=f"{namespace}-stories")
    common: dict[str, Any] = {"nats_url": NATS_URL, "namespace": namespace}
    apps = [
        ingest_app(IngestSettings(**common)),
        enrich_app(EnrichSettings(**common)),
        link_app(EntityLinkSettings(**common)),
        stories_app(StoriesSettings(**common, opensearch=search)),
        index_app(IndexSettings(**common, opensearch=search)),
    ]
    records = list(generate(read_source(corpus), articles))
    client = await nats.connect(NATS_URL)
    opensearch = async_client(search)
    for app in apps:
        await app.start()
    try:
        js = client.jetstream(timeout=60)  # a busy shared machine can hold an acknowledgement for seconds
        for record in records:
            digest = hashlib.blake2b(record["url"].encode(), digest_size=12).hexdigest()
            submission = DocumentSubmitted(submission_id=digest, kind="record", hints=record)
            await js.publish(
                topology.entry_subject, submission.model_dump_json().encode(), headers={"Nats-Msg-Id": digest}
            )
        deadline = time.monotonic() + 60 + articles * 0.5
        indexed = 0
        while time.monotonic() < deadline and indexed < articles:
            await asyncio.sleep(2)
            await opensearch.indices.refresh(index=search.alias, ignore_unavailable=True)
            indexed = int((await opensearch.count(index=search.alias, ignore_unavailable=True)).get("count", 0))
        await opensearch.indices.refresh(index=search.stories_alias, ignore_unavailable=True)
        await opensearch.indices.flush(index=f"{search.alias},{search.stories_alias}", ignore_unavailable=True)
        rows = await opensearch.cat.indices(index=f"{search.alias}-v*", format="json", bytes="b")
        story_rows = await opensearch.cat.indices(index=f"{search.stories_alias}-v*", format="json", bytes="b")
        stream = stream_state(topology.stream)
        bucket = stream_state(f"KV_{topology.kv_bucket}")
    finally:
        for app in apps:
            await app.stop()
        for alias in (search.alias, search.stories_alias):
            await opensearch.indices.delete(index=f"{alias}-v*", ignore_unavailable=True)
            await opensearch.indices.delete_index_template(name=template_name(alias), ignore=[404])
        await opensearch.close()
        js = client.jetstream()
        await js.delete_stream(topology.stream)
        await js.delete_key_value(topology.kv_bucket)
        await client.close()
    index_bytes = sum(int(row["pri.store.size"]) for row in rows)
    stories_bytes = sum(int(row["pri.store.size"]) for row in story_rows)
    return {
        "command": "bench/footprint.py",
        "corpus": describe(corpus),
        "articles": articles,
        "indexed": indexed,
        "load_average": list(os.getloadavg()),
        "stream": {**stream, "bytes_per_article": round(stream["bytes"] / articles)},
        "ingest_kv_bucket": {**bucket, "bytes_per_article": round(bucket["bytes"] / articles)},
        "index_primary": {"bytes": index_bytes, "bytes_per_article": round(index_bytes / max(indexed, 1))},
        "stories_index_primary": {"bytes": stories_bytes, "bytes_per_article": round(stories_bytes / max(indexed, 1))},
        "body_chars_per_article": round(sum(len(record["body"]) for record in records) / len(records)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, help="real text (see corpus.py); default: generated from the sample")
    parser.add_argument("--out", type=Path, help="default: results/footprint[_<corpus>].json")
    args = parser.parse_args()
    result = asyncio.run(run(args.articles, args.corpus))
    RESULTS.mkdir(exist_ok=True)
    name = "footprint.json" if args.corpus is None else f"footprint_{args.corpus.parent.name}.json"
    (args.out or RESULTS / name).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
