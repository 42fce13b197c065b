"""TL;DR and key takeaways: extractive, from the body's prose sentences.

Each prose sentence gets a centrality: the cosine between its content words
(idf-weighted) and the article's tf-idf profile, so sentences about what
the article is mostly about rank high. The summary adds a lead bias (news
puts the gist first) and takes the best sentences that fit in
``SUMMARY_MAX_WORDS``, in reading order; a quotation never opens it, and a
second or third sentence must come close to the first one's score. Takeaways are picked by maximal
marginal relevance among the other sentences, so they repeat neither the
summary nor each other. Sentences that open with a quotation, or with a
word that points back at a previous sentence ("But", "He", "This"), are
marked down: on their own, out of context, they read badly.

Datelines are already stripped and padding is already excluded by
``services.enrich.text``; nothing here can return text that is not a body
sentence.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from services.enrich.text import STOP_WORDS, Sentence, word_set
from shared.background import BackgroundFrequencies

SUMMARY_MAX_WORDS = 60
SUMMARY_MAX_SENTENCES = 3
MIN_WORDS = 6
TAKEAWAY_MAX_WORDS = 45
MIN_TAKEAWAYS = 3
MAX_TAKEAWAYS = 5
SENTENCES_PER_TAKEAWAY = 3  # an article of 15 prose sentences gets 5 takeaways, one of 9 gets 3
REDUNDANT = 0.5  # content-word Jaccard at which two sentences say the same thing
MMR_REDUNDANCY_WEIGHT = 0.7
CONTEXT_PENALTY = 0.6
# A second or third summary sentence must score at least this share of the first: filler never pads a TL;DR.
FOLLOWER_MIN_SHARE = 0.6
_OPENS_QUOTE = ('"', "“", "‘", "'")
_POINTS_BACK = word_set(
    "but and or so however he she it they this that these those its his her their him them also yet "
    "meanwhile still instead"
)


@dataclass(frozen=True)
class Digest:
    summary: str | None
    takeaways: list[str]


@dataclass(frozen=True)
class _Scored:
    sentence: Sentence
    content: frozenset[str]
    centrality: float

    @property
    def words(self) -> int:
        return self.sentence.word_count


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Summarizer:
    def __init__(self, background: BackgroundFrequencies) -> None:
        self.background = background

    def digest(self, sentences: list[Sentence]) -> Digest:
        scored = self._score(sentences)
        if not scored:
            return Digest(None, [])
        summary = self._summary(scored)
        takeaways = self._takeaways(scored, summary)
        summary_text = " ".join(item.sentence.text for item in summary) if summary else None
        if summary_text is None:
            summary_text = _trim(scored[0].sentence.text, SUMMARY_MAX_WORDS)
        return Digest(summary_text, [item.sentence.text for item in takeaways])

    def _score(self, sentences: list[Sentence]) -> list[_Scored]:
        candidates = [s for s in sentences if s.word_count >= MIN_WORDS]
        contents = [
            frozenset(word for word in s.lower if word not in STOP_WORDS and not word.isdigit()) for s in candidates
        ]
        profile = Counter(word for content in contents for word in content)
        weight = {word: self.background.idf(word) ** 2 for word in profile}  # squared idf, once per word
        scored = []
        for sentence, content in zip(candidates, contents, strict=True):
            norm = math.sqrt(sum(weight[word] for word in content)) or 1.0
            centrality = sum(weight[word] * profile[word] for word in content) / norm
            if sentence.text.startswith(_OPENS_QUOTE) or sentence.lower[0] in _POINTS_BACK:
                centrality *= CONTEXT_PENALTY
            scored.append(_Scored(sentence, content, centrality))
        return scored

    def _summary(self, scored: list[_Scored]) -> list[_Scored]:
        # Lead bias: the k-th prose sentence's weight is 1 + 1/(k+1), so the lede counts double.
        weighted = sorted(
            ((item.centrality * (1.0 + 1.0 / (rank + 1)), item) for rank, item in enumerate(scored)),
            key=lambda pair: -pair[0],
        )
        chosen: list[_Scored] = []
        words = 0
        for score, item in weighted:
            if len(chosen) == SUMMARY_MAX_SENTENCES or (chosen and score < FOLLOWER_MIN_SHARE * weighted[0][0]):
                break
            if item.sentence.text.startswith(_OPENS_QUOTE) or words + item.words > SUMMARY_MAX_WORDS:
                continue
            if any(_similarity(item.content, other.content) >= REDUNDANT for other in chosen):
                continue
            chosen.append(item)
            words += item.words
        return sorted(chosen, key=lambda item: item.sentence.position)

    def _takeaways(self, scored: list[_Scored], summary: list[_Scored]) -> list[_Scored]:
        used = {item.sentence.position for item in summary}
        pool = [item for item in scored if item.sentence.position not in used and item.words <= TAKEAWAY_MAX_WORDS]
        wanted = max(MIN_TAKEAWAYS, min(MAX_TAKEAWAYS, len(scored) // SENTENCES_PER_TAKEAWAY))
        top = max((item.centrality for item in pool), default=0.0) or 1.0
        # Each candidate's largest overlap with what is already said, updated as sentences are chosen.
        overlap = {
            id(item): max((_similarity(item.content, other.content) for other in summary), default=0.0) for item in pool
        }
        chosen: list[_Scored] = []
        while pool and len(chosen) < wanted:
            best = max(pool, key=lambda item: item.centrality / top - MMR_REDUNDANCY_WEIGHT * overlap[id(item)])
            pool.remove(best)
            if overlap[id(best)] >= REDUNDANT:
                continue
            chosen.append(best)
            for item in pool:
                overlap[id(item)] = max(overlap[id(item)], _similarity(item.content, best.content))
        return sorted(chosen, key=lambda item: item.sentence.position)


def _trim(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words]).rstrip(",;:") + "…"
