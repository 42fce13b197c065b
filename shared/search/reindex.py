"""``newsflow reindex``: rebuild the index behind the alias with the current template, with no downtime.

Readers and the index stage only ever name the alias. A reindex:

1. applies the template in deploy/opensearch/ and creates the next versioned
   index (``articles-v2`` after ``articles-v1``), which takes its settings and
   mappings from the template;
2. copies every document into it with ``_reindex``, keeping each document's
   external version, so a newer version written meanwhile is never replaced
   by an older copy (``conflicts: proceed`` skips those);
3. copies again what was written during the first copy (``indexed_at`` since
   it started), then swaps the alias to the new index in one atomic
   ``_aliases`` call;
4. waits a moment for bulk requests that resolved the alias before the swap,
   and copies once more what landed in the old index since step 3 began.

Readers see the old index until the swap and the new one after it; no query
fails or sees an empty index. The old index is kept (swap the alias back to
roll back) unless ``delete_old`` is set.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from shared.search.indices import index_template, template_name, versioned_index

# Clocks of the writers and of this command may differ: each catch-up pass reaches back this far.
CLOCK_SKEW = timedelta(seconds=60)
# Long enough for a bulk request that resolved the alias just before the swap to finish.
SWAP_GRACE_S = 1.0
COPY_TIMEOUT_S = 3600


@dataclass
class ReindexReport:
    alias: str
    source: str
    target: str
    copied: int  # documents created in the target by all passes
    seconds: float


def current_index(client: OpenSearch, alias: str) -> str:
    """The index the alias writes to."""
    found: dict[str, Any] = client.indices.get_alias(name=alias)
    for index, details in found.items():
        if details["aliases"][alias].get("is_write_index", len(found) == 1):
            return index
    raise LookupError(f"alias {alias!r} has no write index among {sorted(found)}")


def next_index(client: OpenSearch, alias: str) -> str:
    pattern = re.compile(rf"^{re.escape(alias)}-v(\d+)$")
    existing = client.indices.get(index=f"{alias}-v*", allow_no_indices=True, expand_wildcards="all")
    versions = [int(match.group(1)) for name in existing if (match := pattern.match(name))]
    return versioned_index(alias, max(versions, default=0) + 1)


def reindex(
    client: OpenSearch,
    alias: str,
    *,
    delete_old: bool = False,
    shards: int | None = None,
    replicas: int | None = None,
    swap_grace_s: float = SWAP_GRACE_S,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ReindexReport:
    started = time.perf_counter()
    source = current_index(client, alias)
    client.indices.put_index_template(name=template_name(alias), body=index_template(alias, shards, replicas))
    target = next_index(client, alias)
    client.indices.create(index=target)

    first_pass = now()
    copied = _copy(client, source, target, since=None)
    second_pass = now()
    copied += _copy(client, source, target, since=first_pass)
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": source, "alias": alias}},
                {"add": {"index": target, "alias": alias, "is_write_index": True}},
            ]
        }
    )
    time.sleep(swap_grace_s)
    client.indices.refresh(index=source)
    copied += _copy(client, source, target, since=second_pass)
    client.indices.refresh(index=target)
    if delete_old:
        client.indices.delete(index=source)
    return ReindexReport(alias, source, target, copied, round(time.perf_counter() - started, 3))


def _copy(client: OpenSearch, source: str, target: str, since: datetime | None) -> int:
    """Copy documents (those indexed since a moment, if given), keeping their external versions."""
    origin: dict[str, Any] = {"index": source}
    if since is not None:
        origin["query"] = {"range": {"indexed_at": {"gte": (since - CLOCK_SKEW).isoformat()}}}
    result = client.reindex(
        body={"source": origin, "dest": {"index": target, "version_type": "external"}, "conflicts": "proceed"},
        wait_for_completion=True,
        refresh=True,
        request_timeout=COPY_TIMEOUT_S,
    )
    if result.get("failures"):
        raise RuntimeError(f"reindex {source} -> {target} failed: {result['failures'][:3]}")
    return int(result["created"]) + int(result["updated"])
