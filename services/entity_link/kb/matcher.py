"""Finding every known alias in a text in one pass: Aho-Corasick over words.

The text is folded (``text.fold``: case, accents and punctuation gone, same
length) and split into words. Each word the knowledge base knows becomes two
symbols (its id's high and low part), any other word a separator, and the
automaton runs over that string. So only whole words ever match ("us" is
never found inside "business"), the trie has a node per distinct word prefix
rather than per character (tens of megabytes for 300k aliases), and no node
has more than about a thousand children (pyahocorasick scans a node's children
in a line, so a root with one child per word would make both the build and
the scan slow).

Words written all in lower case, other than the small words inside names
("Bank of England"), are separators too: names are written with capitals, and
this keeps the everyday words that some alias happens to spell ("cover",
"power") from matching at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
import numpy as np

from services.entity_link.text import fold

_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_LOW_BITS = 10
_HIGH_BASE = 0x10000  # high halves: supplementary plane 1 and up
_LOW_BASE = 0xE000  # low halves: the private use area (1024 code points from here)
_SEPARATOR = "  "  # two symbols wide, so a word's two halves stay on even positions
# The automaton stores one int per key: the alias group in the high bits, the key's word count below.
_LENGTH_BITS = 6
_MAX_WORDS = (1 << _LENGTH_BITS) - 1
# Lower-case words that occur inside names; any other lower-case word cannot be part of one.
# fmt: off
NAME_CONNECTORS = frozenset({
    "of", "the", "and", "for", "de", "du", "des", "la", "le", "les", "del", "della", "di", "da", "do", "dos",
    "von", "van", "der", "den", "ter", "al", "el", "bin", "ibn", "y", "et", "on", "in", "at", "upon"
})
# fmt: on
_ZERO, _NINE, _SPACE = ord("0"), ord("9"), ord(" ")


def key_variants(key: str) -> set[str]:
    """A normalised alias and its spelling with letters and digits apart.

    "qwen3 max" is also written "Qwen-3-Max" (folded "qwen 3 max"): both
    spellings lead to the same alias.
    """
    return {key, _LETTER_DIGIT.sub(" ", key)}


@dataclass(frozen=True, slots=True)
class AliasMatch:
    start: int  # character offsets into the original text
    end: int
    group: int  # the alias group it matched (see ``AliasMatcher``)


class AliasMatcher:
    """Matches normalised alias keys; each key belongs to a caller-defined group (an int)."""

    def __init__(self, keys: Iterable[tuple[str, int]]) -> None:
        self._symbols: dict[str, str] = {}
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key, group in keys:
            for variant in key_variants(key):
                words = variant.split()
                if 0 < len(words) <= _MAX_WORDS:
                    self._automaton.add_word(self._encode_key(words), (group << _LENGTH_BITS) | len(words))
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    def _symbol(self, word: str) -> str:
        symbol = self._symbols.get(word)
        if symbol is None:
            number = len(self._symbols)
            symbol = chr(_HIGH_BASE + (number >> _LOW_BITS)) + chr(_LOW_BASE + (number & ((1 << _LOW_BITS) - 1)))
            self._symbols[word] = symbol
        return symbol

    def _encode_key(self, words: list[str]) -> str:
        return "".join(self._symbol(word) for word in words)

    def find(self, text: str) -> list[AliasMatch]:
        """Every occurrence of a known alias as whole words, overlapping ones included."""
        if not self.size or not text:
            return []
        folded = fold(text)
        words = folded.split()
        if not words:
            return []
        folded_points = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
        original_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        is_space = np.concatenate(([True], folded_points == _SPACE, [True]))
        edges = np.flatnonzero(is_space[1:] != is_space[:-1])
        starts, ends = edges[0::2], edges[1::2]
        # A word may be part of a name if it has a capital (folding changed it) or a digit.
        marked = (original_points != folded_points) | ((folded_points >= _ZERO) & (folded_points <= _NINE))
        marked[is_space[1:-1]] = False
        like_flags = (np.add.reduceat(marked, starts) > 0).tolist()
        symbols = self._symbols
        encoded = "".join(
            [
                symbols.get(word, _SEPARATOR) if like or word in NAME_CONNECTORS else _SEPARATOR
                for word, like in zip(words, like_flags, strict=True)
            ]
        )
        matches: list[AliasMatch] = []
        for last, value in self._automaton.iter(encoded):
            length = value & _MAX_WORDS
            last_word = last // 2
            first_word = last_word - length + 1
            if not (like_flags[first_word] and like_flags[last_word]):
                continue  # "of England" is not a name; "Bank of England" is found on its own
            matches.append(AliasMatch(int(starts[first_word]), int(ends[last_word]), value >> _LENGTH_BITS))
        return matches
