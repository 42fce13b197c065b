"""Story clusters: one story retold by many outlets is one cluster.

How an article gets its ``cluster_id`` when it is indexed:

1. Candidates are documents that share at least one LSH band key with its
   ``signature`` (the enrich stage's MinHash LSH, services/enrich/signature.py):
   * indexed and searchable ones, found by a ``terms`` filter on
     ``signature.lsh_bands`` (the band keys, derived from the MinHash), the newest first: one search for the whole
     batch (``candidates_query``), whose hits ``candidates_by_article``
     shares out, at most ``CANDIDATES_PER_ARTICLE`` per article;
   * the ones this worker wrote moments ago, which a search cannot see until
     the index refreshes (``refresh_interval``), and the earlier articles of
     the same batch: ``RecentMembers``.
2. Of the candidates whose estimated Jaccard similarity (from the MinHash) is
   at least the threshold, the most similar gives its ``cluster_id``; with
   none, the article starts its own cluster, named by its own ``article_id``.
3. An article already in the index keeps the cluster it has, so a re-ingest
   never moves it and never strands the articles that joined it; one this
   worker wrote before the last refresh keeps the cluster ``RecentMembers``
   remembers for it.

A story's size is computed at query time (a terms aggregation on
``cluster_id``, see shared/search/queries.py), not stored on each member. Storing it
would mean updating every member each time one joins: writes that grow with
the cluster, racing with the writer's external versioning (an ``_update`` of
a member bumps its version, so either the update or a later re-ingest of that
member can be refused) and with members that move or are deleted. The
aggregation is always true and costs one small request per results page. The
cluster's original (``choose_original``) is decided at query time for the
same reason.

The lookup reads only doc values (``article_id``, ``cluster_id`` and the
MinHash, stored packed as a ``binary`` doc-values field), never
the ``_source``; and it filters on the bands instead of ranking candidates by
how many bands they share. Measured on the 2-core development machine (256
lookups in one ``_msearch`` against ~1,500 documents), loading ``_source``
made the lookup about twice as slow, and the ranking query's scoring made its
query phase 3-5 times slower. One search per batch instead of one per
article (in one ``_msearch``) cut the node's CPU for the lookup from ~500 to
~150 µs per article (1,024 lookups against ~1,700 BBC articles). All members
of a story share its ``cluster_id``, so any of its newest members lead to the
same cluster. The
batch's search returns ``CANDIDATES_PER_ARTICLE`` hits per article in all:
when more indexed documents than that share bands with the batch (a batch
full of one much-retold story), the oldest are not seen, and an article whose
only candidates are among them starts its own cluster.

Limits: replicas of the index stage share no memory, so two near-duplicates
indexed by two replicas within the same refresh interval can start two
clusters; one replica never splits a story that way.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.messages import ArticleLinked
from shared.signature import BANDS, MINHASH_TYPECODE, NUM_PERM, band_rows, estimated_similarity, unpack_minhash

# Each article gets this many candidates, the newest first.
CANDIDATES_PER_ARTICLE = 20
# A search returns at most 10,000 hits (OpenSearch's index.max_result_window).
MAX_CANDIDATES_PER_BATCH = 10_000


@dataclass(frozen=True)
class Member:
    """A document an article can join: its id, its cluster and its MinHash."""

    article_id: str
    cluster_id: str
    minhash: array[int]

    @classmethod
    def of(cls, article_id: str, cluster_id: str, minhash: Sequence[int]) -> Member:
        # An array of 192 uint32 is ~0.8 KB; a list of 192 Python ints is ~7 KB.
        return cls(article_id, cluster_id, array(MINHASH_TYPECODE, minhash))


class RecentMembers:
    """The signed documents this worker wrote in the last ``window_s`` seconds (at most ``capacity``),
    indexed by band key: what the next batches must see before the index refreshes."""

    def __init__(self, window_s: float, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self.clock = clock
        # Insertion order is age order: expiry pops from the front. Tuples of strings, not sets:
        # the garbage collector stops tracking them, and thousands of sets made every collection slow.
        self._members: dict[str, tuple[float, Member, tuple[str, ...]]] = {}
        self._by_band: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: Member, bands: Sequence[str]) -> None:
        self.discard([member.article_id])
        self._members[member.article_id] = (self.clock(), member, tuple(bands))
        for band in bands:
            self._by_band[band] = (*self._by_band.get(band, ()), member.article_id)
        self._expire()

    def discard(self, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            entry = self._members.pop(article_id, None)
            if entry is None:
                continue
            for band in entry[2]:
                holders = tuple(holder for holder in self._by_band[band] if holder != article_id)
                if holders:
                    self._by_band[band] = holders
                else:
                    del self._by_band[band]

    def cluster_of(self, article_id: str) -> str | None:
        """The cluster this worker gave the article moments ago, if it is still remembered."""
        self._expire()
        entry = self._members.get(article_id)
        return entry[1].cluster_id if entry else None

    def sharing_a_band(self, bands: Sequence[str]) -> list[Member]:
        self._expire()
        found = {article_id for band in bands for article_id in self._by_band.get(band, ())}
        return [self._members[article_id][1] for article_id in found]

    def _expire(self) -> None:
        oldest_kept = self.clock() - self.window_s
        expired: list[str] = []
        for article_id, (added_at, _, _) in self._members.items():
            if added_at >= oldest_kept and len(self._members) - len(expired) <= self.capacity:
                break
            expired.append(article_id)
        self.discard(expired)


def candidates_query(articles: Sequence[ArticleLinked]) -> dict[str, Any]:
    """Indexed documents sharing a band with any of the signed articles, the newest first, read from
    doc values only: one search for the whole batch (``candidates_by_article`` shares the hits out)."""
    bands = sorted({band for article in articles if article.signature for band in article.signature.band_keys})
    return {
        "size": min(CANDIDATES_PER_ARTICLE * len(articles), MAX_CANDIDATES_PER_BATCH),
        **_DOC_VALUES_ONLY,
        "docvalue_fields": ["article_id", "cluster_id", "signature.minhash"],
        "track_total_hits": False,
        "sort": [{"dated_at": {"order": "desc"}}],
        "query": {"bool": {"filter": [{"terms": {"signature.lsh_bands": bands}}]}},
    }


def candidates_by_article(articles: Sequence[ArticleLinked], members: Sequence[Member]) -> dict[str, list[Member]]:
    """Each signed article's candidates among the batch query's hits (newest first): the members sharing
    one of its bands, at most ``CANDIDATES_PER_ARTICLE``, as if each article had been searched alone.

    The hits carry no band keys (they have no doc values), so the bands are rebuilt from each hit's
    MinHash, by row instead of by digest: ~5 µs per hit against ~60 µs for ``band_keys``."""
    holders: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]
    for position, member in enumerate(members):
        if len(member.minhash) == NUM_PERM:  # another scheme's signature is not comparable
            for band, row in enumerate(band_rows(member.minhash)):
                holders[band].setdefault(row, []).append(position)
    found: dict[str, list[Member]] = {}
    for article in articles:
        minhash = article.signature.values if article.signature else ()
        if len(minhash) == NUM_PERM:
            rows = band_rows(minhash)
            sharing = sorted({position for band, row in enumerate(rows) for position in holders[band].get(row, ())})
            found[article.article_id] = [members[position] for position in sharing[:CANDIDATES_PER_ARTICLE]]
    return found


def existing_clusters_query(article_ids: Sequence[str]) -> dict[str, Any]:
    """The batch's articles that are already indexed, with the cluster each has."""
    return {
        "size": len(article_ids),
        **_DOC_VALUES_ONLY,
        "docvalue_fields": ["article_id", "cluster_id"],
        "query": {"ids": {"values": list(article_ids)}},
    }


# Neither the _source nor the stored _id: both mean decompressing whole documents.
_DOC_VALUES_ONLY: dict[str, Any] = {"_source": False, "stored_fields": "_none_"}


def _field(hit: Mapping[str, Any], name: str) -> Any:
    values = hit.get("fields", {}).get(name)
    return values[0] if values else None


def members_from_hits(response: Mapping[str, Any]) -> list[Member]:
    members = []
    for hit in response["hits"]["hits"]:
        article_id, encoded = _field(hit, "article_id"), _field(hit, "signature.minhash")
        if article_id and encoded:
            cluster_id = _field(hit, "cluster_id") or article_id
            members.append(Member(article_id, cluster_id, unpack_minhash(encoded)))
    return members


def clusters_from_hits(response: Mapping[str, Any]) -> dict[str, str]:
    found = ((_field(hit, "article_id"), _field(hit, "cluster_id")) for hit in response["hits"]["hits"])
    return {article_id: cluster_id or article_id for article_id, cluster_id in found if article_id}


def best_match(minhash: Sequence[int], candidates: Iterable[Member], threshold: float) -> Member | None:
    """The most similar candidate at or above the threshold (ties: the smallest cluster id, for determinism)."""
    best: tuple[float, str] | None = None
    chosen: Member | None = None
    for candidate in candidates:
        if len(candidate.minhash) != len(minhash):  # a signature of another scheme: not comparable
            continue
        similarity = estimated_similarity(candidate.minhash, minhash)
        if similarity < threshold:
            continue
        rank = (-similarity, candidate.cluster_id)
        if best is None or rank < best:
            best, chosen = rank, candidate
    return chosen


def assign_clusters(
    articles: Sequence[ArticleLinked],
    indexed_candidates: Mapping[str, Sequence[Member]],
    existing: Mapping[str, str],
    recent: RecentMembers,
    threshold: float,
) -> list[str]:
    """One ``cluster_id`` per article, in batch order; each signed article joins ``recent`` for the next ones."""
    cluster_ids = []
    for article in articles:
        signature = article.signature
        # Indexed already (or written moments ago, not yet searchable): it keeps its cluster.
        cluster_id = existing.get(article.article_id) or recent.cluster_of(article.article_id)
        minhash = signature.values if signature else ()
        if cluster_id is None and signature and minhash:
            others = (
                member
                for member in (
                    *indexed_candidates.get(article.article_id, ()),
                    *recent.sharing_a_band(signature.band_keys),
                )
                if member.article_id != article.article_id
            )
            match = best_match(minhash, others, threshold)
            cluster_id = match.cluster_id if match else None
        cluster_id = cluster_id or article.article_id
        if signature and minhash:
            recent.add(Member.of(article.article_id, cluster_id, minhash), signature.band_keys)
        cluster_ids.append(cluster_id)
    return cluster_ids
