"""``newsflow setup``: what the compose stack's one-shot job runs."""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.search.client import async_client
from shared.search.indices import ensure_index
from shared.settings import OpenSearchSettings

SAVED_OBJECTS = Path(__file__).resolve().parents[1] / "deploy" / "dashboards" / "saved-objects.ndjson"


async def apply_index(settings: OpenSearchSettings) -> str:
    client = async_client(settings)
    try:
        return await ensure_index(client, settings.alias, settings.shards, settings.replicas)
    finally:
        await client.close()


def import_dashboards(dashboards_url: str, settings: OpenSearchSettings) -> int:
    auth = None
    if settings.username:
        auth = (settings.username, settings.password.get_secret_value() if settings.password else "")
    response = httpx.post(
        f"{dashboards_url.rstrip('/')}/api/saved_objects/_import",
        params={"overwrite": "true"},
        headers={"osd-xsrf": "true"},
        files={"file": (SAVED_OBJECTS.name, SAVED_OBJECTS.read_bytes(), "application/ndjson")},
        auth=auth,
        timeout=60,
    )
    response.raise_for_status()
    return int(response.json().get("successCount", 0))
