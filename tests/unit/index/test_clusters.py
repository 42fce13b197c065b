"""Story cluster assignment, without a server: candidates, threshold, batch order, recent memory."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from services.index.clusters import (
    CANDIDATES_PER_ARTICLE,
    MAX_CANDIDATES_PER_BATCH,
    Member,
    RecentMembers,
    assign_clusters,
    best_match,
    candidates_by_article,
    candidates_query,
    clusters_from_hits,
    members_from_hits,
)
from services.index.settings import IndexSettings
from shared.search.indices import TEMPLATE_FILE
from shared.signature import NUM_PERM, band_keys, band_rows, pack_minhash, unpack_minhash
from tests.factories import linked, signature

THRESHOLD = 0.3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def member(article_id: str, cluster_id: str, story: int, differing: int = 0, variant: int = 0) -> Member:
    return Member.of(article_id, cluster_id, signature(story, differing, variant).values)


def test_best_match_is_the_most_similar_above_the_threshold() -> None:
    close = member("close", "cluster-close", story=1, differing=20, variant=1)
    far = member("far", "cluster-far", story=1, differing=120, variant=2)
    unrelated = member("other", "cluster-other", story=2)
    wanted = signature(1).values
    assert best_match(wanted, [far, unrelated, close], THRESHOLD) is close
    assert best_match(wanted, [far], THRESHOLD) is far  # 72/192 = 0.375
    assert best_match(wanted, [far], 0.5) is None
    assert best_match(wanted, [unrelated], THRESHOLD) is None


def test_candidates_of_another_signature_scheme_are_ignored() -> None:
    shorter = Member.of("short", "cluster-short", signature(1).values[:128])
    assert best_match(signature(1).values, [shorter], THRESHOLD) is None


def test_a_batch_groups_its_own_near_duplicates_in_order() -> None:
    recent = RecentMembers(window_s=5, capacity=100, clock=FakeClock())
    batch = [
        linked("first", story_signature=signature(7)),
        linked("unsigned"),
        linked("retold", story_signature=signature(7, differing=50, variant=1)),
        linked("elsewhere", story_signature=signature(8)),
        linked("retold-again", story_signature=signature(7, differing=90, variant=2)),
    ]
    assigned = assign_clusters(batch, {}, {}, recent, THRESHOLD)
    assert assigned == ["first", "unsigned", "first", "elsewhere", "first"]
    assert len(recent) == 4  # the unsigned article cannot attract anything


def test_an_indexed_candidate_gives_its_cluster_and_the_article_keeps_a_cluster_it_already_has() -> None:
    recent = RecentMembers(window_s=5, capacity=100, clock=FakeClock())
    indexed = {"new": [member("old", "story-of-old", story=3, differing=10, variant=1)]}
    batch = [
        linked("new", story_signature=signature(3)),
        linked("again", story_signature=signature(3, differing=5, variant=2)),
    ]
    # "again" is indexed already, in a cluster of its own choosing: a re-ingest never moves it.
    assert assign_clusters(batch, indexed, {"again": "kept"}, recent, THRESHOLD) == ["story-of-old", "kept"]


def test_an_article_written_moments_ago_keeps_its_cluster_before_the_index_shows_it() -> None:
    recent = RecentMembers(window_s=5, capacity=100, clock=FakeClock())
    first = [linked("seed", story_signature=signature(12)), linked("joined", story_signature=signature(12, 20, 1))]
    assert assign_clusters(first, {}, {}, recent, THRESHOLD) == ["seed", "seed"]
    # Re-ingested with a signature now closer to another story: the search cannot see it yet, the memory can.
    other = [linked("elsewhere", story_signature=signature(13))]
    assert assign_clusters(other, {}, {}, recent, THRESHOLD) == ["elsewhere"]
    again = [linked("joined", story_signature=signature(13, 5, 2))]
    assert assign_clusters(again, {}, {}, recent, THRESHOLD) == ["seed"]


def test_an_article_never_matches_itself() -> None:
    recent = RecentMembers(window_s=5, capacity=100, clock=FakeClock())
    itself = {"same": [member("same", "someone-elses", story=4)]}
    assert assign_clusters([linked("same", story_signature=signature(4))], itself, {}, recent, THRESHOLD) == ["same"]


def test_recent_members_expire_after_the_window_and_beyond_capacity() -> None:
    clock = FakeClock()
    recent = RecentMembers(window_s=3, capacity=2, clock=clock)
    bands = signature(5).band_keys
    recent.add(member("a", "a", story=5), bands)
    clock.now = 2
    recent.add(member("b", "a", story=5, differing=10, variant=1), bands)
    assert {m.article_id for m in recent.sharing_a_band(bands[:1])} == {"a", "b"}
    clock.now = 4  # "a" is 4 s old
    assert [m.article_id for m in recent.sharing_a_band(bands)] == ["b"]
    recent.add(member("c", "a", story=5, differing=20, variant=2), bands)
    recent.add(member("d", "a", story=5, differing=30, variant=3), bands)
    assert {m.article_id for m in recent.sharing_a_band(bands)} == {"c", "d"}  # capacity 2


def test_discarded_members_attract_nothing() -> None:
    recent = RecentMembers(window_s=5, capacity=10, clock=FakeClock())
    bands = signature(6).band_keys
    recent.add(member("failed", "failed", story=6), bands)
    recent.discard(["failed", "never-added"])
    assert recent.sharing_a_band(bands) == []
    assert assign_clusters([linked("next", story_signature=signature(6))], {}, {}, recent, THRESHOLD) == ["next"]


def test_one_candidates_query_for_the_batch_filters_on_all_its_bands_newest_first_from_doc_values_only() -> None:
    batch = [linked("one", story_signature=signature(9)), linked("two", story_signature=signature(11))]
    body = candidates_query(batch)
    (terms,) = body["query"]["bool"]["filter"]
    assert set(terms["terms"]["signature.lsh_bands"]) == set(signature(9).band_keys) | set(signature(11).band_keys)
    assert body["size"] == 2 * CANDIDATES_PER_ARTICLE
    assert body["sort"] == [{"dated_at": {"order": "desc"}}]
    assert (body["_source"], body["stored_fields"]) == (False, "_none_")
    assert candidates_query([batch[0]] * 1000)["size"] == MAX_CANDIDATES_PER_BATCH


@given(
    st.lists(st.integers(0, 2**32 - 1), min_size=NUM_PERM, max_size=NUM_PERM),
    st.sets(st.integers(0, NUM_PERM - 1)),
)
def test_band_rows_are_shared_exactly_when_band_keys_are(minhash: list[int], changed: set[int]) -> None:
    other = [value ^ 1 if position in changed else value for position, value in enumerate(minhash)]
    keys, other_keys = band_keys(np.asarray(minhash, dtype=np.uint32)), band_keys(np.asarray(other, dtype=np.uint32))
    shared_keys = [band for band, (a, b) in enumerate(zip(keys, other_keys, strict=True)) if a == b]
    rows, other_rows = band_rows(minhash), band_rows(other)
    assert [band for band, (a, b) in enumerate(zip(rows, other_rows, strict=True)) if a == b] == shared_keys


def test_the_batch_hits_go_to_the_articles_sharing_a_band_with_them_newest_first() -> None:
    batch = [
        linked("story-1", story_signature=signature(1)),
        linked("story-2", story_signature=signature(2)),
        linked("unsigned"),
    ]
    # Each retelling keeps the last bands of its story (the first `differing` values are changed).
    newer = member("newer", "c1", story=1, differing=150, variant=1)
    older = member("older", "c1", story=1, differing=90, variant=2)
    of_two = member("of-two", "c2", story=2, differing=10, variant=3)
    elsewhere = member("elsewhere", "c3", story=3)
    foreign = Member.of("foreign", "c4", signature(1).values[:128])  # another scheme: never a candidate
    found = candidates_by_article(batch, [newer, of_two, elsewhere, foreign, older])
    assert found == {"story-1": [newer, older], "story-2": [of_two]}


def test_each_article_gets_at_most_its_share_of_the_newest_candidates() -> None:
    retellings = [member(f"r{n}", "c", story=4, differing=100, variant=n) for n in range(CANDIDATES_PER_ARTICLE + 5)]
    found = candidates_by_article([linked("story-4", story_signature=signature(4))], retellings)
    assert found["story-4"] == retellings[:CANDIDATES_PER_ARTICLE]


def test_members_come_from_doc_values_with_their_packed_minhash() -> None:
    packed = signature(10).minhash
    hits = [
        {"fields": {"article_id": ["a"], "cluster_id": ["c"], "signature.minhash": [packed]}},
        {"fields": {"article_id": ["unsigned"], "cluster_id": ["u"]}},
    ]
    (found,) = members_from_hits({"hits": {"hits": hits}})
    assert (found.article_id, found.cluster_id, found.minhash) == ("a", "c", unpack_minhash(packed))
    assert list(unpack_minhash(pack_minhash([0, 1, 2**32 - 1]))) == [0, 1, 2**32 - 1]
    assert clusters_from_hits({"hits": {"hits": hits}}) == {"a": "c", "unsigned": "u"}


def test_the_worker_remembers_its_writes_for_longer_than_the_index_takes_to_show_them() -> None:
    refresh = json.loads(TEMPLATE_FILE.read_text())["template"]["settings"]["refresh_interval"]
    assert refresh.endswith("s") and refresh[:-1].isdigit(), refresh
    settings = IndexSettings()
    # A bulk request of a batch takes well under a second; two leave room for a slow one.
    assert settings.recent_window_s >= int(refresh[:-1]) + 2
