"""The index template, a versioned index (``<alias>-v1``) and the alias every reader and writer uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import RequestError

TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "opensearch" / "index-template.json"
# The stories stage's index (services/stories), versioned and aliased the same way.
STORIES_TEMPLATE_FILE = TEMPLATE_FILE.with_name("stories-template.json")
# Languages whose articles get a copy of title and body analysed by the language's own analyser
# (``localized.<language>`` in the template): the index stage fills it, full-text queries search it.
LOCALIZED_LANGUAGES = ("fr", "de", "es")


def template_name(alias: str) -> str:
    """The name the alias's index template is stored under."""
    return f"{alias}-template"


def index_template(
    alias: str, shards: int | None = None, replicas: int | None = None, template_file: Path = TEMPLATE_FILE
) -> dict[str, Any]:
    """A template JSON from deploy/, bound to one alias's versioned indices; ``shards`` and ``replicas``
    replace the file's counts (a cluster's operator sets them, see OpenSearchSettings)."""
    template: dict[str, Any] = json.loads(template_file.read_text())
    template["index_patterns"] = [f"{alias}-v*"]
    index_settings = template["template"]["settings"]
    if shards is not None:
        index_settings["number_of_shards"] = shards
    if replicas is not None:
        index_settings["number_of_replicas"] = replicas
    return template


def versioned_index(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


async def ensure_index(
    client: AsyncOpenSearch,
    alias: str,
    shards: int | None = None,
    replicas: int | None = None,
    template_file: Path = TEMPLATE_FILE,
) -> str:
    """Apply the template and make sure the alias points at a versioned index. Safe to run concurrently.

    An existing index gets ``replicas`` applied (a dynamic setting); its shard count stays until a reindex."""
    body = index_template(alias, shards, replicas, template_file)
    await client.indices.put_index_template(name=template_name(alias), body=body)
    if await client.indices.exists_alias(name=alias):
        found = await client.indices.get_alias(name=alias)
        if replicas is not None:
            await client.indices.put_settings(index=alias, body={"index": {"number_of_replicas": replicas}})
        return str(next(iter(found)))
    first = versioned_index(alias, 1)
    try:
        await client.indices.create(index=first, body={"aliases": {alias: {"is_write_index": True}}})
    except RequestError as error:
        if error.error != "resource_already_exists_exception":
            raise
    return first
