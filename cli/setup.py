"""``newsflow setup``: what the compose stack's one-shot job runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from shared.search.client import async_client, sync_client
from shared.search.indices import ensure_index
from shared.settings import OpenSearchSettings

SAVED_OBJECTS = Path(__file__).resolve().parents[1] / "deploy" / "dashboards" / "saved-objects.ndjson"


async def apply_index(settings: OpenSearchSettings) -> str:
    client = async_client(settings)
    try:
        return await ensure_index(client, settings.alias, settings.shards, settings.replicas)
    finally:
        await client.close()


WRITER_ROLE = "newsflow_writer"


def writer_role(*aliases: str) -> dict[str, Any]:
    """What the services may do, as a security-plugin role: write and read the aliases' versioned indices
    (articles, stories), keep each alias and its template (a stage recreates a deleted index), and nothing else."""
    return {
        "description": f"newsflow services: the {', '.join(aliases)} aliases and their versioned indices only",
        # _bulk and multi-get are cluster-level actions; the template is a cluster-level object.
        "cluster_permissions": [
            "cluster_composite_ops",
            "cluster_monitor",
            "indices:admin/index_template/get",
            "indices:admin/index_template/put",
        ],
        "index_permissions": [
            {
                "index_patterns": [pattern for alias in aliases for pattern in (alias, f"{alias}-v*")],
                "allowed_actions": [
                    "crud",
                    "create_index",
                    "indices_monitor",
                    "indices:admin/aliases",
                    "indices:admin/aliases/get",
                    "indices:admin/exists",
                    "indices:admin/get",
                    "indices:admin/refresh*",
                    "indices:admin/settings/update",
                ],
            }
        ],
    }


def apply_writer_user(settings: OpenSearchSettings, user: str, password: str) -> None:
    """Create (or update) the services' user with the writer role, as the admin the setup job runs as."""
    client = sync_client(settings)
    try:
        client.security.create_role(WRITER_ROLE, body=writer_role(settings.alias, settings.stories_alias))
        client.security.create_user(user, body={"password": password, "description": "newsflow services"})
        client.security.create_role_mapping(WRITER_ROLE, body={"users": [user]})
    finally:
        client.close()


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
