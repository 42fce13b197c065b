"""Single-pass story grouping: each article, in arrival order, joins the story it most probably
belongs to (``StoryModel.join``), or starts a new one; an article that fits two stories at least
``StoryModel.merge`` bridges them and they merge (the older story id survives).

``StoryMemory`` holds the stories the grouper can join: the ones this worker wrote recently and the
ones the batch's search found in the index. Candidates are the stories that share a key (a heavy
entity or word, ``candidate_keys``) with the article and were seen within the model's window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.stories.features import ArticleProfile, StoryProfile, candidate_keys, pair_features
from services.stories.model import StoryModel

DAY_S = 86_400.0
# Candidates scored per article: the ones sharing the most keys. Bounds the CPU per article.
MAX_CANDIDATES = 24


@dataclass(frozen=True)
class Assignment:
    story_id: str
    probability: float  # of the story it joined; 1.0 for a story it started
    merged: tuple[str, ...] = ()  # stories this article bridged into ``story_id``


@dataclass
class StoryMemory:
    stories: dict[str, StoryProfile] = field(default_factory=dict)
    keys: dict[str, set[str]] = field(default_factory=dict)  # key -> story ids
    keys_of: dict[str, list[str]] = field(default_factory=dict)  # story id -> its keys
    merged_into: dict[str, str] = field(default_factory=dict)  # an old story id -> the one it merged into

    def put(self, story: StoryProfile) -> None:
        self.drop(story.story_id)
        self.stories[story.story_id] = story
        self.keys_of[story.story_id] = candidate_keys(story, terms=16, entities=8)
        for key in self.keys_of[story.story_id]:
            self.keys.setdefault(key, set()).add(story.story_id)

    def drop(self, story_id: str) -> None:
        self.stories.pop(story_id, None)
        for key in self.keys_of.pop(story_id, ()):
            holders = self.keys[key]
            holders.discard(story_id)
            if not holders:
                del self.keys[key]

    def resolve(self, story_id: str) -> str:
        while story_id in self.merged_into:
            story_id = self.merged_into[story_id]
        return story_id

    def candidates(self, article: ArticleProfile, window_s: float) -> list[StoryProfile]:
        shared: dict[str, int] = {}
        for key in candidate_keys(article):
            for story_id in self.keys.get(key, ()):
                shared[story_id] = shared.get(story_id, 0) + 1
        ranked = sorted(shared, key=lambda story_id: (-shared[story_id], story_id))
        found = []
        for story_id in ranked:
            story = self.stories[story_id]
            if story.first_at - window_s <= article.at <= story.last_at + window_s:
                found.append(story)
            if len(found) == MAX_CANDIDATES:
                break
        return found

    def forget_before(self, oldest_s: float) -> None:
        for story_id in [story_id for story_id, story in self.stories.items() if story.last_at < oldest_s]:
            self.drop(story_id)


def assign(article: ArticleProfile, memory: StoryMemory, model: StoryModel, new_story_id: str) -> Assignment:
    """Put the article in its story (in ``memory``) and say which; ``new_story_id`` names a story it starts."""
    scored = sorted(
        ((model.probability(pair_features(article, story)), story.story_id) for story in memory.candidates(article, model.window_days * DAY_S)),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not scored or scored[0][0] < model.join:
        story = StoryProfile(new_story_id)
        story.add(article)
        memory.put(story)
        return Assignment(new_story_id, 1.0)
    probability, best = scored[0]
    bridged = [story_id for p, story_id in scored[1:] if p >= model.merge] if probability >= model.merge else []
    survivor = min([best, *bridged], key=lambda story_id: (memory.stories[story_id].first_at, story_id))
    target = memory.stories[survivor]
    for story_id in (best, *bridged):
        if story_id != survivor:
            target.absorb(memory.stories[story_id])
            memory.drop(story_id)
            memory.merged_into[story_id] = survivor
    target.add(article)
    memory.put(target)
    return Assignment(survivor, probability, tuple(story_id for story_id in (best, *bridged) if story_id != survivor))


def group(articles: Iterable[ArticleProfile], model: StoryModel) -> dict[str, str]:
    """Every article's story, in one pass over ``articles`` (already in date order); merged ids resolved."""
    memory = StoryMemory()
    placed = {article.article_id: assign(article, memory, model, article.article_id).story_id for article in articles}
    return {article_id: memory.resolve(story_id) for article_id, story_id in placed.items()}
