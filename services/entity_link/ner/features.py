"""Features of the recogniser: hashed, computed with numpy a document at a time.

Only tokens in *candidate segments* are scored: runs of capitalised (or
mixed-case, or digit-led) words and the small words inside names ("Bank of
England"). On CoNLL-2003 they hold 99.2% of the entities but only a quarter
of the tokens, and every other token is simply outside a name. Context
features still read the neighbours, wherever they are.

Every feature is a template and a value hashed into one of ``2**bits`` rows
of the weight matrix. Per-word values (lower case, shape, affixes, which
kinds of KB name the word appears in) are hashed once per distinct word and
cached; templates over neighbours and conjunctions are then array arithmetic.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.entity_link.kb.matcher import NAME_CONNECTORS
from services.entity_link.text import SENTENCE_END, looks_like_name, shape

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: spreads nearby hashes apart
_PAIR = np.uint64(0x100000001B3)
_CACHE_LIMIT = 200_000

# Per-word attributes, in the columns of the vocabulary table: hashes, KB type bits,
# the id of the word's lower-case form, and flags.
_LOWER, _FORM, _SHAPE, _P3, _P4, _S2, _S3, _S4, _KB, _LOWER_ID, _FLAGS = range(11)
_WORD_COLUMNS = 11
_IS_LOWER, _IS_TITLED, _IS_UPPER, _IS_NAME, _IS_JOINER = (1 << bit for bit in range(5))
_BRIDGES = NAME_CONNECTORS | {word.title() for word in NAME_CONNECTORS} | {"&", "'s", "'S", "-", "'", "/", "."}


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


_BOUNDARY = _hash("<boundary>")


@dataclass
class TokenDoc:
    """A document as the recogniser sees it: words, sentence ids, and KB name matches."""

    words: list[str]
    sentence: np.ndarray  # int sentence id per token
    # Per token: the KB types (TYPE_BITS) of the longest alias match covering it, times 2, plus 1 at its first token.
    kb_match: np.ndarray

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sequence[str]], kb_match: np.ndarray | None = None) -> TokenDoc:
        words = [word for sentence in sentences for word in sentence]
        ids = np.repeat(np.arange(len(sentences)), [len(s) for s in sentences])
        return cls(words, ids, kb_match if kb_match is not None else np.zeros(len(words), dtype=np.int64))


def sentence_ids(words: Sequence[str], line_breaks: np.ndarray) -> np.ndarray:
    """Sentence id per token of running text: a new sentence after . ! ? or at a line break."""
    if not words:
        return np.zeros(0, dtype=np.int64)
    starts = np.asarray(line_breaks, dtype=bool).copy()
    starts[1:] |= np.array([word in SENTENCE_END for word in words[:-1]], dtype=bool)
    starts[0] = False
    return np.cumsum(starts)


def candidate_mask(words: Sequence[str], name_like: np.ndarray, joiner: np.ndarray) -> np.ndarray:
    """Which tokens may be inside a name (see the module doc).

    ``name_like``: capitalised or mixed-case; ``joiner``: a small word or a
    number, which can join capitalised neighbours into one name.
    """
    count = len(words)
    name = name_like.tolist()
    mask = list(name)
    for index in np.flatnonzero(joiner & ~name_like).tolist():
        word = words[index]
        left = index > 0 and name[index - 1]
        right = index + 1 < count and name[index + 1]
        if word[:1].isdigit():
            mask[index] = left or right  # "Windows 95", "1860 Munich"
            continue
        # Up to two small words between two capitalised ones: "Bank of England", "Duke of the Abruzzi".
        before = index - 1 if left else index - 2
        after = index + 1 if right else index + 2
        mask[index] = (
            before >= 0
            and after < count
            and name[before]
            and name[after]
            and (before == index - 1 or words[index - 1] in _BRIDGES)
            and (after == index + 1 or words[index + 1] in _BRIDGES)
        )
    return np.array(mask, dtype=bool)


def kb_match_values(
    token_spans: Sequence[tuple[int, int]] | np.ndarray, matches: Sequence[tuple[int, int, int]]
) -> np.ndarray:
    """Per token: the KB types of the longest alias match covering it, times 2, plus 1 at the match's first token.

    ``token_spans`` are the tokens' (start, end) in characters; ``matches``
    are (start, end, type bits) in characters. Of two equally long matches
    over a token the first counts. A match that covers no whole token (an
    alias inside "Alibaba-backed") gives nothing here.
    """
    values = np.zeros(len(token_spans), dtype=np.int64)
    if not len(matches) or not len(token_spans):
        return values
    tokens = np.asarray(token_spans, dtype=np.int64).reshape(-1, 2)
    found = np.asarray(matches, dtype=np.int64).reshape(-1, 3)
    first = np.searchsorted(tokens[:, 0], found[:, 0], side="left")
    covered = np.maximum(np.searchsorted(tokens[:, 1], found[:, 1], side="right") - first, 0)
    # Every (token, match) pair, then per token the match that is longest, and first among the longest.
    match_of = np.repeat(np.arange(len(found)), covered)
    token_of = first[match_of] + np.arange(len(match_of)) - np.repeat(np.cumsum(covered) - covered, covered)
    rank = (found[match_of, 1] - found[match_of, 0]) * len(found) + (len(found) - 1 - match_of)
    best = np.full(len(tokens), -1, dtype=np.int64)
    np.maximum.at(best, token_of, rank)
    hit = np.flatnonzero(best >= 0)
    winner = len(found) - 1 - best[hit] % len(found)
    values[hit] = found[winner, 2] * 2 + (hit == first[winner])
    return values


def segments(mask: np.ndarray, sentence: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of candidate tokens within a sentence, as [start, end) token ranges."""
    if not len(mask):
        return []
    inside = np.concatenate(([False], mask, [False]))
    opens = inside[1:-1] & ~inside[:-2]
    opens[1:] |= mask[1:] & (sentence[1:] != sentence[:-1])  # a sentence break splits a run
    closes = np.zeros(len(mask), dtype=bool)
    closes[:-1] = mask[:-1] & (~mask[1:] | opens[1:])
    closes[-1] = mask[-1]
    return list(zip(np.flatnonzero(opens).tolist(), (np.flatnonzero(closes) + 1).tolist(), strict=True))


class Featurizer:
    """Turns a ``TokenDoc`` into hashed feature rows for chosen token positions."""

    def __init__(self, bits: int, kb_token_types: dict[str, int]) -> None:
        self.bits = bits
        self.rows = 1 << bits
        self._shift = np.uint64(64 - bits)
        self._kb_token_types = kb_token_types
        self._reset()

    def _reset(self) -> None:
        self._ids: dict[str, int] = {}
        self._table = np.zeros((1024, _WORD_COLUMNS), dtype=np.uint64)

    def _add(self, word: str) -> int:
        lower = word.lower()
        lower_id = self._ids.get(lower)
        if lower_id is None:
            lower_id = self._add(lower) if lower != word else len(self._ids)
        index = len(self._ids)
        if index == len(self._table):
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
        flags = (
            (_IS_LOWER if word.islower() else 0)
            | (_IS_TITLED if word[:1].isupper() and not word.isupper() else 0)
            | (_IS_UPPER if word.isupper() else 0)
            | (_IS_NAME if looks_like_name(word) else 0)
            | (_IS_JOINER if word in _BRIDGES or word[:1].isdigit() else 0)
        )
        self._table[index] = (
            _hash("w" + lower),
            _hash("f" + word),
            _hash("s" + shape(word)),
            _hash("p3" + lower[:3]),
            _hash("p4" + lower[:4]),
            _hash("s2" + lower[-2:]),
            _hash("s3" + lower[-3:]),
            _hash("s4" + lower[-4:]),
            self._kb_token_types.get(lower, 0),
            lower_id,
            flags,
        )
        self._ids[word] = index
        return index

    def word_table(self, words: Sequence[str]) -> np.ndarray:
        """The vocabulary rows of ``words`` (new words are added; the vocabulary is reset when large)."""
        if len(self._ids) > _CACHE_LIMIT:
            self._reset()
        get = self._ids.get
        ids = np.fromiter(map(get, words, itertools.repeat(-1)), dtype=np.int64, count=len(words))
        for position in np.flatnonzero(ids < 0).tolist():
            known = get(words[position])  # added earlier in this same text
            ids[position] = self._add(words[position]) if known is None else known
        return self._table[ids]

    def candidates(self, doc: TokenDoc, table: np.ndarray) -> np.ndarray:
        flags = table[:, _FLAGS]
        return candidate_mask(doc.words, (flags & _IS_NAME) > 0, (flags & _IS_JOINER) > 0)

    def features(self, doc: TokenDoc, table: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Feature rows, shape (len(positions), n_features), for the tokens at ``positions``.

        ``table`` is ``word_table(doc.words)``. Each template's values are
        gathered as whole columns and all of them hashed in one array operation.
        """
        count = len(doc.words)
        here = table[positions]
        # The vocabulary rows of each neighbour, or the boundary marker past the sentence's edge.
        near = {0: here}
        for offset in (-2, -1, 1, 2):
            where = positions + offset
            clipped = np.clip(where, 0, max(count - 1, 0))
            inside = (where >= 0) & (where < count) & (doc.sentence[clipped] == doc.sentence[positions])
            near[offset] = np.where(inside[:, None], table[clipped], np.uint64(_BOUNDARY))

        def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return a * _PAIR + b

        lower = {o: rows[:, _LOWER] for o, rows in near.items()}
        shapes = {o: near[o][:, _SHAPE] for o in (-1, 0, 1)}
        kb = {o: near[o][:, _KB] for o in (-1, 0, 1)}
        opens = np.ones(count, dtype=bool)
        opens[1:] = doc.sentence[1:] != doc.sentence[:-1]
        first = opens[positions].astype(np.uint64)
        seen_lower, seen_name = _document_flags(table, opens, positions)
        all_caps = ((here[:, _FLAGS] & _IS_UPPER) > 0).astype(np.uint64)
        kb_match = doc.kb_match[positions].astype(np.uint64)
        columns = [
            np.zeros(len(positions), dtype=np.uint64),  # bias
            lower[0],
            here[:, _FORM],
            shapes[0],
            here[:, _P3],
            here[:, _P4],
            here[:, _S2],
            here[:, _S3],
            here[:, _S4],
            lower[-1],
            lower[1],
            lower[-2],
            lower[2],
            pair(shapes[-1], shapes[0]),
            pair(shapes[0], shapes[1]),
            pair(lower[-1], lower[0]),
            pair(lower[0], lower[1]),
            pair(first, shapes[0]),
            kb[0],
            pair(pair(kb[-1], kb[0]), kb[1]),
            pair(seen_lower * 2 + seen_name, first * 2 + all_caps),
            kb_match,
            pair(kb_match, shapes[0]),
        ]
        # Template number k is mixed into its values so equal values of two templates hash apart.
        templates = np.arange(len(columns), dtype=np.uint64) * _PAIR
        mixed = (np.stack(columns, axis=1) + templates) * _MIX
        return (mixed >> self._shift).astype(np.int64)


def _document_flags(table: np.ndarray, opens: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each word also appears in lower case, and capitalised mid-sentence, elsewhere in the document.

    What a capital means is ambiguous at the start of a sentence and in an
    all-caps headline; the same word elsewhere in the document settles it.
    (Python sets: for a few hundred words they beat ``np.isin``'s sorting.)
    """
    lower_ids = table[:, _LOWER_ID]
    flags = table[:, _FLAGS]
    lowered = set(lower_ids[(flags & _IS_LOWER) > 0].tolist())
    named = set(lower_ids[((flags & _IS_TITLED) > 0) & ~opens].tolist())
    wanted = lower_ids[positions].tolist()
    return (
        np.fromiter((word in lowered for word in wanted), dtype=np.uint64, count=len(wanted)),
        np.fromiter((word in named for word in wanted), dtype=np.uint64, count=len(wanted)),
    )
