"""Single-pass story grouping: each article, in arrival order, joins the story it most probably
belongs to when that story wins clearly enough (``StoryModel.join_probability``), or starts a new
one; an article that fits two stories at least ``StoryModel.merge`` bridges them and they merge into
the one first seen.

``StoryMemory`` holds the stories the grouper can join: in the service, the ones this worker wrote
recently and the ones the batch's search found in the index. Candidates are the stories that share
a key (a heavy entity or word, ``candidate_keys``) with the article and were seen within the
model's window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.stories.features import FEATURES, ArticleProfile, StoryProfile, candidate_keys, pair_features
from services.stories.model import StoryModel
from shared.signature import NEAR_DUPLICATE_JACCARD

NEAR_DUPLICATE = FEATURES.index("near_duplicate")

DAY_S = 86_400.0
# Candidates scored per article: the ones sharing the most keys. Bounds the CPU per article.
MAX_CANDIDATES = 24
# Keys a story is found by (an article looks with fewer: its own heaviest).
STORY_KEY_TERMS = 16
STORY_KEY_ENTITIES = 8


@dataclass(frozen=True)
class Choice:
    """Where an article goes: an existing story (``None``: a new one) and the stories it bridges into it."""

    story_id: str | None
    probability: float
    bridged: tuple[str, ...] = ()


@dataclass
class StoryMemory:
    stories: dict[str, StoryProfile] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)  # key -> story ids
    keys_of: dict[str, list[str]] = field(default_factory=dict)  # story id -> its keys

    def put(self, story: StoryProfile) -> None:
        """Remember a story, or refresh what it is found by after it changed."""
        self.drop(story.story_id)
        self.stories[story.story_id] = story
        self.keys_of[story.story_id] = candidate_keys(story, STORY_KEY_TERMS, STORY_KEY_ENTITIES)
        for key in self.keys_of[story.story_id]:
            self.keys.setdefault(key, set()).add(story.story_id)

    def drop(self, story_id: str) -> None:
        self.stories.pop(story_id, None)
        for key in self.keys_of.pop(story_id, ()):
            holders = self.keys[key]
            holders.discard(story_id)
            if not holders:
                del self.keys[key]

    def candidates(self, article: ArticleProfile, window_s: float) -> list[StoryProfile]:
        shared: dict[str, int] = {}
        for key in candidate_keys(article):
            for story_id in self.keys.get(key, ()):
                shared[story_id] = shared.get(story_id, 0) + 1
        found = []
        for story_id in sorted(shared, key=lambda story_id: (-shared[story_id], story_id)):
            story = self.stories[story_id]
            if story.first_at - window_s <= article.at <= story.last_at + window_s:
                found.append(story)
                if len(found) == MAX_CANDIDATES:
                    break
        return found


def choose(article: ArticleProfile, memory: StoryMemory, model: StoryModel) -> Choice:
    """The article's story: its best candidate when the join model is sure enough of it (a near-duplicate
    of a member always is), with the other candidates it fits at least ``model.merge`` bridged into it."""
    window_s = model.window_days * DAY_S
    scored = sorted(
        (
            (story_probability(pair_features(article, story), model), story.story_id)
            for story in memory.candidates(article, window_s)
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not scored:
        return Choice(None, 0.0)
    best_probability, best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else None
    probability = 1.0 if best_probability == 1.0 else model.join_probability(best_probability, runner_up)
    if probability < model.join:
        return Choice(None, probability)
    bridged = (
        tuple(story_id for p, story_id in scored[1:] if p >= model.merge) if best_probability >= model.merge else ()
    )
    return Choice(best, probability, bridged)


def story_probability(features: Sequence[float], model: StoryModel) -> float:
    """The model's probability that an article tells a story, from their ``pair_features``; a near-duplicate
    of one of its members (the shingle signature's threshold, precision 1.0 on held-out retellings) tells it
    for certain."""
    if features[NEAR_DUPLICATE] >= NEAR_DUPLICATE_JACCARD:
        return 1.0
    return model.probability(features)


def survivor_of(story_ids: Iterable[str], memory: StoryMemory) -> str:
    """Of stories that merge, the one that keeps its id: the first seen (ties: the smallest id)."""
    return min(story_ids, key=lambda story_id: (memory.stories[story_id].first_at, story_id))


def group(articles: Iterable[ArticleProfile], model: StoryModel) -> dict[str, str]:
    """Every article's story, in one pass over ``articles`` (already in date order); merged ids resolved."""
    memory = StoryMemory()
    placed: dict[str, str] = {}
    merged_into: dict[str, str] = {}
    for article in articles:
        choice = choose(article, memory, model)
        if choice.story_id is None:
            story = StoryProfile(article.article_id)
        else:
            story = memory.stories[survivor_of((choice.story_id, *choice.bridged), memory)]
            for other in (choice.story_id, *choice.bridged):
                if other != story.story_id:
                    story.absorb(memory.stories[other])
                    memory.drop(other)
                    merged_into[other] = story.story_id
        story.add(article)
        memory.put(story)
        placed[article.article_id] = story.story_id

    def resolve(story_id: str) -> str:
        while story_id in merged_into:
            story_id = merged_into[story_id]
        return story_id

    return {article_id: resolve(story_id) for article_id, story_id in placed.items()}
