"""Story cluster assignment, without a server: candidates, threshold, batch order, recent memory."""

from __future__ import annotations

from services.index.clusters import (
    Member,
    RecentMembers,
    assign_clusters,
    best_match,
    candidate_query,
    clusters_from_hits,
    members_from_hits,
    pack_minhash,
    unpack_minhash,
)
from tests.unit.index.factories import linked, signature

THRESHOLD = 0.3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def member(article_id: str, cluster_id: str, story: int, differing: int = 0, variant: int = 0) -> Member:
    return Member.of(article_id, cluster_id, signature(story, differing, variant).minhash)


def test_best_match_is_the_most_similar_above_the_threshold() -> None:
    close = member("close", "cluster-close", story=1, differing=20, variant=1)
    far = member("far", "cluster-far", story=1, differing=120, variant=2)
    unrelated = member("other", "cluster-other", story=2)
    wanted = signature(1).minhash
    assert best_match(wanted, [far, unrelated, close], THRESHOLD) is close
    assert best_match(wanted, [far], THRESHOLD) is far  # 72/192 = 0.375
    assert best_match(wanted, [far], 0.5) is None
    assert best_match(wanted, [unrelated], THRESHOLD) is None


def test_candidates_of_another_signature_scheme_are_ignored() -> None:
    shorter = Member.of("short", "cluster-short", signature(1).minhash[:128])
    assert best_match(signature(1).minhash, [shorter], THRESHOLD) is None


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


def test_an_article_never_matches_itself() -> None:
    recent = RecentMembers(window_s=5, capacity=100, clock=FakeClock())
    recent.add(member("same", "someone-elses", story=4), signature(4).lsh_bands)
    assert assign_clusters([linked("same", story_signature=signature(4))], {}, {}, recent, THRESHOLD) == ["same"]


def test_recent_members_expire_after_the_window_and_beyond_capacity() -> None:
    clock = FakeClock()
    recent = RecentMembers(window_s=3, capacity=2, clock=clock)
    bands = signature(5).lsh_bands
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
    bands = signature(6).lsh_bands
    recent.add(member("failed", "failed", story=6), bands)
    recent.discard(["failed", "never-added"])
    assert recent.sharing_a_band(bands) == []
    assert assign_clusters([linked("next", story_signature=signature(6))], {}, {}, recent, THRESHOLD) == ["next"]


def test_candidate_query_filters_on_the_bands_newest_first_from_doc_values_only() -> None:
    article = linked("me", story_signature=signature(9))
    body = candidate_query(article)
    assert body["query"]["bool"]["filter"] == [{"terms": {"signature.lsh_bands": signature(9).lsh_bands}}]
    assert body["query"]["bool"]["must_not"] == [{"ids": {"values": ["me"]}}]
    assert body["sort"] == [{"dated_at": {"order": "desc"}}]
    assert (body["_source"], body["stored_fields"]) == (False, "_none_")


def test_members_come_from_doc_values_with_their_packed_minhash() -> None:
    minhash = signature(10).minhash
    hits = [
        {"fields": {"article_id": ["a"], "cluster_id": ["c"], "signature.minhash": [pack_minhash(minhash)]}},
        {"fields": {"article_id": ["unsigned"], "cluster_id": ["u"]}},
    ]
    (found,) = members_from_hits({"hits": {"hits": hits}})
    assert (found.article_id, found.cluster_id, list(found.minhash)) == ("a", "c", minhash)
    assert list(unpack_minhash(pack_minhash([0, 1, 2**32 - 1]))) == [0, 1, 2**32 - 1]
    assert clusters_from_hits({"hits": {"hits": hits}}) == {"a": "c", "unsigned": "u"}
