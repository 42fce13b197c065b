"""A story as the ``stories`` index holds it: what readers see (headline, original, outlets, member
count, first and last seen, top entities and topics) and the centroid the grouping compares new
articles with (``profile``, stored but not indexed; ``keys``, the terms candidate retrieval filters on).

Which article is the original: the member from an outlet that another member credits as its source
("via SCMP"), else the earliest published.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.stories.features import ArticleProfile, StoryProfile, candidate_keys
from shared import __version__
from shared.messages import ArticleLinked, utcnow
from shared.signature import MINHASH_TYPECODE

TOP_ENTITIES = 10
TOP_TOPICS = 5
# Article ids kept on a story, for idempotency under redelivery (an article already placed keeps its
# story). A story retold more often than this forgets its oldest ids; those articles are indexed by then.
MEMBER_IDS_KEPT = 2_000


@dataclass
class Member:
    """An article as a story remembers it: enough to name the original and list the outlets."""

    article_id: str
    title: str
    source: str
    at: float

    def as_json(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "title": self.title, "source": self.source, "at": self.at}


@dataclass
class Story:
    profile: StoryProfile
    member_ids: list[str] = field(default_factory=list)
    first_by_outlet: dict[str, Member] = field(default_factory=dict)  # each outlet's first member
    credited: set[str] = field(default_factory=set)  # outlets members name as their source
    entity_names: dict[str, str] = field(default_factory=dict)
    topics: Counter[str] = field(default_factory=Counter)
    merged_ids: list[str] = field(default_factory=list)
    # Optimistic concurrency: the version this worker last read or wrote (None: not in the index yet).
    seq_no: int | None = None
    primary_term: int | None = None

    @property
    def story_id(self) -> str:
        return self.profile.story_id

    def add(self, article: ArticleLinked, profile: ArticleProfile) -> None:
        self.profile.add(profile)
        self.member_ids = [*self.member_ids, article.article_id][-MEMBER_IDS_KEPT:]
        outlet = article.source.name
        if outlet not in self.first_by_outlet or profile.at < self.first_by_outlet[outlet].at:
            self.first_by_outlet[outlet] = Member(article.article_id, article.title, outlet, profile.at)
        if article.original_source is not None:
            self.credited.add(article.original_source.name)
        for entity in article.entities:
            self.entity_names.setdefault(entity.id, entity.name)
        self.topics.update({topic.key: topic.score for topic in article.topics})

    def absorb(self, other: Story) -> None:
        """Take in a story this one bridged with; ``other`` then resolves to this one."""
        self.profile.absorb(other.profile)
        self.member_ids = [*self.member_ids, *other.member_ids][-MEMBER_IDS_KEPT:]
        for outlet, member in other.first_by_outlet.items():
            if outlet not in self.first_by_outlet or member.at < self.first_by_outlet[outlet].at:
                self.first_by_outlet[outlet] = member
        self.credited |= other.credited
        self.entity_names = {**other.entity_names, **self.entity_names}
        self.topics.update(other.topics)
        self.merged_ids = sorted({*self.merged_ids, other.story_id, *other.merged_ids})

    @property
    def original(self) -> Member:
        firsts = sorted(self.first_by_outlet.values(), key=lambda member: (member.at, member.article_id))
        credited = [member for member in firsts if member.source in self.credited]
        return (credited or firsts)[0]

    def document(self) -> dict[str, Any]:
        profile = self.profile  # kept at the stored size as it grows (StoryProfile._sum)
        original = self.original
        return {
            "story_id": self.story_id,
            "headline": original.title,
            "original_article_id": original.article_id,
            "original_source": original.source,
            "member_count": self.profile.size,
            "outlet_count": len(self.first_by_outlet),
            "outlets": sorted(self.first_by_outlet),
            "first_seen": _iso(profile.first_at),
            "last_seen": _iso(profile.last_at),
            "top_entities": [
                {"id": key, "name": self.entity_names.get(key, key)} for key in list(profile.entities)[:TOP_ENTITIES]
            ],
            "top_entity_ids": list(profile.entities)[:TOP_ENTITIES],
            "top_topics": [key for key, _ in self.topics.most_common(TOP_TOPICS)],
            "keys": candidate_keys(profile, terms=16, entities=8),
            "member_ids": self.member_ids,
            "merged_ids": self.merged_ids,
            "profile": {
                "terms": profile.terms,
                "title": profile.title,
                "entities": profile.entities,
                "numbers": dict(profile.numbers),
                "keywords": profile.keywords,
                "names": profile.names,
                "minhashes": [list(minhash) for minhash in profile.minhashes],
                "first_at": profile.first_at,
                "last_at": profile.last_at,
                "firsts": [member.as_json() for member in self.first_by_outlet.values()],
                "credited": sorted(self.credited),
                "entity_names": {key: self.entity_names[key] for key in profile.entities if key in self.entity_names},
                "topics": dict(self.topics.most_common(TOP_TOPICS * 4)),
            },
            "updated_at": utcnow().isoformat(),
            "updated_by": {"service": "stories", "version": __version__},
        }

    @classmethod
    def from_hit(cls, hit: dict[str, Any]) -> Story:
        source = hit["_source"]
        stored = source["profile"]
        profile = StoryProfile(
            story_id=source["story_id"],
            size=int(source["member_count"]),
            terms=dict(stored["terms"]),
            title=dict(stored["title"]),
            entities=dict(stored["entities"]),
            numbers=Counter(stored["numbers"]),
            keywords=dict(stored["keywords"]),
            names=dict(stored.get("names", {})),  # absent from stories written before the feature
            minhashes=[array(MINHASH_TYPECODE, minhash) for minhash in stored["minhashes"]],
            first_at=float(stored["first_at"]),
            last_at=float(stored["last_at"]),
        )
        firsts = {
            member["source"]: Member(member["article_id"], member["title"], member["source"], float(member["at"]))
            for member in stored["firsts"]
        }
        return cls(
            profile=profile,
            member_ids=list(source.get("member_ids", [])),
            first_by_outlet=firsts,
            credited=set(stored.get("credited", [])),
            entity_names=dict(stored.get("entity_names", {})),
            topics=Counter(stored.get("topics", {})),
            merged_ids=list(source.get("merged_ids", [])),
            seq_no=hit.get("_seq_no"),
            primary_term=hit.get("_primary_term"),
        )


def merged_document(story_id: str, into: str) -> dict[str, Any]:
    """What a story that merged into another becomes: a pointer, so its old id resolves to the new one."""
    return {"story_id": story_id, "merged_into": into, "updated_at": utcnow().isoformat()}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()
