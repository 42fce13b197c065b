"""Shape an ``ArticleLinked`` into the OpenSearch document users query."""

from __future__ import annotations

from typing import Any

from shared.messages import ArticleLinked, utcnow
from shared.search.indices import LOCALIZED_LANGUAGES

# The index keeps the first spans of each entity; the message carries them all.
MAX_SPANS_INDEXED = 5


def to_document(article: ArticleLinked, cluster_id: str) -> dict[str, Any]:
    document: dict[str, Any] = article.model_dump(mode="json", exclude={"event"})
    for entity in document["entities"]:
        entity["spans"] = entity["spans"][:MAX_SPANS_INDEXED]
    # Flat copies for the commonest filters and facets: cheaper than nested queries, and
    # OpenSearch Dashboards cannot aggregate nested fields at all.
    document["entity_ids"] = sorted({e["id"] for e in document["entities"]})
    document["entity_handles"] = sorted({e["handle"] for e in document["entities"]})
    document["entity_names"] = sorted({e["name"] for e in document["entities"]})
    if document["language"] in LOCALIZED_LANGUAGES:
        document["localized"] = {document["language"]: {"title": document["title"], "body": document["body"]}}
    document["topic_keys"] = [t["key"] for t in document["topics"]]
    document["primary_topic"] = document["topic_keys"][0] if document["topic_keys"] else None
    # Recency sorts, trending windows and the date histogram need a date on every article;
    # many pages state none, and then the moment we first saw the article is the best we know.
    document["dated_at"] = document["published_at"] or document["ingested_at"]
    if article.signature:
        # The band keys the cluster lookup filters on (services/index/clusters.py); messages carry only the MinHash.
        document["signature"]["lsh_bands"] = article.signature.band_keys
    document["cluster_id"] = cluster_id
    # Every article is in a story: the one the stories stage chose, else (a pipeline without that
    # stage, or an article indexed before it ran) its near-duplicate cluster.
    document["story_id"] = article.story_id or cluster_id
    document["indexed_at"] = utcnow().isoformat()
    return document


def document_version(article: ArticleLinked) -> int:
    """External version: a newer ingest of the same article wins, a late redelivery of an older one loses."""
    return int(article.ingested_at.timestamp() * 1_000_000)
