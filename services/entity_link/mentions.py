"""Finding mentions: the recogniser's names and the knowledge base's aliases, reconciled.

The recogniser (``ner/``) decides where names are and of what type; the
alias matcher says which of them the KB knows, and also finds known names the
recogniser missed (model names such as "Qwen-Max", which no 1996 newswire
taught it). Where both found something at one place:

* the same span: one mention, with the recogniser's type and the KB's candidates;
* a KB alias longer than the recognised name and containing it ("Alibaba
  Group Holding" where the recogniser stopped at "Alibaba Group"): the alias wins;
* a recognised name with no alias of its exact extent ("DeepSeek-Lite 3B"):
  it stays, unknown to the KB, and gets a local id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from services.entity_link.kb.index import Candidate, KnowledgeBase
from services.entity_link.kb.matcher import key_variants
from services.entity_link.ner.features import TokenDoc, kb_match_values, sentence_ids
from services.entity_link.ner.tagger import NamedSpan, Tagger
from services.entity_link.text import normalise_alias, tokenize

# "Alibaba-backed", "Hangzhou-based": a name inside a hyphenated word, which the recogniser reads whole.
_NAME_COMPOUND = re.compile(
    r"-(?:based|backed|owned|led|made|listed|born|funded|controlled|run|style|linked|built|bound|focused|"
    r"affiliated|headquartered|registered|developed|designed|operated|related|specific|era)\b",
    re.IGNORECASE,
)
_NEWLINE = re.compile("\n")
# Words after which a name is a place: "in Washington", "visiting Rome".
# fmt: off
_LOCATIVE = frozenset({
    "in", "at", "from", "to", "near", "outside", "around", "across", "throughout", "inside", "into", "visit",
    "visiting", "visited"
})
# fmt: on
# A dateline opens a story: "WASHINGTON —", "HANGZHOU, China -".
_DATELINE_END = re.compile(r"\s*(?:[—–-]|,|\()")
# A mention the KB alone found (the recogniser saw no name there) is kept only if the alias is telling:
# several words, a mixed-case or digit-bearing word ("DeepSeek", "H100"), or a popular, unambiguous entity.
_LONE_ALIAS_MIN_PRIOR = 0.5


@dataclass
class Mention:
    start: int  # character offsets in the text it was found in
    end: int
    text: str
    ner_type: str | None  # PER/ORG/LOC/MISC from the recogniser; None if only the KB found it
    ner_score: float
    in_title: bool
    sentence_start: bool
    locative: bool = False  # after "in", "at", ... or a dateline: a place is likelier than what it stands for
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def key(self) -> str:
        return normalise_alias(self.text)


@dataclass
class _Text:
    text: str
    in_title: bool
    spans: list[tuple[int, int]]
    words: list[str]
    alias_hits: list[tuple[int, int, str]]  # (start, end, alias key)

    def line_breaks(self) -> np.ndarray:
        """Per token: whether it opens the text or a line break comes between it and the token before."""
        breaks = np.zeros(len(self.spans), dtype=bool)
        if not self.spans:
            return breaks
        breaks[0] = True
        newlines = np.array([m.start() for m in _NEWLINE.finditer(self.text)], dtype=np.int64)
        if len(newlines):
            starts = np.array([s for s, _ in self.spans])
            ends = np.array([e for _, e in self.spans])
            before = np.searchsorted(newlines, starts)
            breaks[1:] |= before[1:] > np.searchsorted(newlines, ends[:-1])
        return breaks


class MentionFinder:
    def __init__(self, kb: KnowledgeBase, tagger: Tagger) -> None:
        self.kb = kb
        self.tagger = tagger

    def find(self, title: str, body: str) -> list[Mention]:
        parts = [self._prepare(title, True), self._prepare(body, False)]
        words = [word for part in parts for word in part.words]
        sentence = sentence_ids(words, np.concatenate([part.line_breaks() for part in parts]))
        # The title is its own sentence, never run together with the body's first one.
        if parts[0].spans and parts[1].spans:
            sentence[len(parts[0].spans) :] += 1
        kb_match = np.concatenate(
            [
                kb_match_values(part.spans, [(s, e, self.kb.type_bits(k)) for s, e, k in part.alias_hits])
                for part in parts
            ]
        )
        doc = TokenDoc(words, sentence, kb_match)
        named = self.tagger.spans(doc)
        # Words the article also writes in lower case are ordinary words when capitalised at a sentence start.
        lower_case = frozenset(word for word in words if word.islower())
        opens = np.ones(len(words), dtype=bool)
        opens[1:] = sentence[1:] != sentence[:-1]
        mentions: list[Mention] = []
        offset = 0
        for part in parts:
            count = len(part.spans)
            local = [s for s in named if offset <= s.start < offset + count]
            starts = opens[offset : offset + count].tolist()
            mentions.extend(self._reconcile(part, local, offset, starts, lower_case))
            offset += count
        return mentions

    def _prepare(self, text: str, in_title: bool) -> _Text:
        hits = [(match.start, match.end, key) for match, key in self.kb.find_aliases(text)] if text else []
        spans = tokenize(text) if text else []
        return _Text(text, in_title, spans, [text[a:b] for a, b in spans], hits)

    def _reconcile(
        self,
        part: _Text,
        named: list[NamedSpan],
        offset: int,
        sentence_starts: list[bool],
        lower_case: frozenset[str],
    ) -> list[Mention]:
        text, spans = part.text, part.spans
        token_at_start = {start: index for index, (start, _) in enumerate(spans)}
        token_ends = {end for _, end in spans}
        by_extent: dict[tuple[int, int], list[str]] = {}
        ends_by_start: dict[int, list[int]] = {}
        for start, end, key in part.alias_hits:
            by_extent.setdefault((start, end), []).append(key)
            ends_by_start.setdefault(start, []).append(end)
        mentions: list[Mention] = []
        taken: list[tuple[int, int]] = []
        for span in named:
            start, end = spans[span.start - offset][0], spans[span.end - offset - 1][1]
            # A longer alias from the same first word: "Alibaba Group Holding" over "Alibaba Group".
            end = max([end, *(e for e in ends_by_start.get(start, ()) if e > end)])
            first_token = token_at_start.get(start, span.start - offset)
            mentions.append(
                self._mention(text, start, end, span.type, span.score, part.in_title, sentence_starts[first_token])
            )
            taken.append((start, end))
        for (start, end), _keys in sorted(by_extent.items(), key=lambda item: (item[0][0], item[0][0] - item[0][1])):
            if any(start < e and s < end for s, e in taken):
                continue
            if start not in token_at_start or not (end in token_ends or _NAME_COMPOUND.match(text, end)):
                continue  # an alias inside a word, unless it is the name in "Alibaba-backed"
            first_token = token_at_start.get(start, 0)
            mention = self._mention(text, start, end, None, 0.0, part.in_title, sentence_starts[first_token])
            if self._telling(mention, lower_case):
                mentions.append(mention)
                taken.append((start, end))
        return sorted(mentions, key=lambda m: m.start)

    def _mention(
        self, text: str, start: int, end: int, ner_type: str | None, score: float, in_title: bool, first: bool
    ) -> Mention:
        compound = _NAME_COMPOUND.search(text, start, end)
        if compound and compound.end() == end:
            # "Hangzhou-based": the name is Hangzhou, and what kind of name is for the KB to say.
            end, ner_type = compound.start(), None
        mention = Mention(start, end, text[start:end], ner_type, score, in_title, first)
        previous = text[max(0, start - 12) : start].split()
        mention.locative = bool(previous and previous[-1].lower() in _LOCATIVE) or (
            start == 0 and not in_title and mention.text.isupper() and bool(_DATELINE_END.match(text, end))
        )
        mention.candidates = self.candidates(mention.key)
        return mention

    def candidates(self, key: str) -> list[Candidate]:
        found: dict[str, Candidate] = {}
        for variant in key_variants(key):
            for candidate in self.kb.candidates(variant):
                found.setdefault(candidate.entity.id, candidate)
        return list(found.values())

    @staticmethod
    def _telling(mention: Mention, lower_case: frozenset[str]) -> bool:
        """Whether a KB alias the recogniser passed over is a name all the same.

        At a sentence start a capital says nothing, so a one-word alias there
        counts only if the article never uses the word in lower case ("Meta
        said ..." in a story without "meta"; not "Nice to see ...").
        """
        if not mention.candidates:
            return False
        words = mention.text.split()
        if len(words) >= 2 and not mention.sentence_start:
            return True
        distinctive = any(any(c.isdigit() for c in w) or (w[1:] != w[1:].lower() and not w.isupper()) for w in words)
        if distinctive:
            return True
        best = max(c.entity.prior * c.weight for c in mention.candidates)
        if best < _LONE_ALIAS_MIN_PRIOR or not mention.text[:1].isupper():
            return False
        return not mention.sentence_start or not any(w.lower() in lower_case for w in words)
