"""How close a passage is to the article around it: the share of its content words the article also uses.

Teasers for other stories, consent notices and mastheads share almost no
content words with the article; a crosshead, a deck or a summary of the
article shares many. Words are compared by their first six letters, a crude
stem that makes "tenancy"/"tenants" and "rises"/"rise" meet.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{4,}")
_STEM_LETTERS = 6
# Words of four letters or more that every English story uses: they say nothing about its topic.
_COMMON = frozenset(
    "that with from said says will have this they were been their which would about after more than also into"
    " over when what your there some other could only just like them then most many such very much well where"
    " while these those because being does here year years week weeks first last next make made takes take"
    " told tell still even back down each both before under again against between during through".split()
)


def content_words(text: str) -> set[str]:
    return {word[:_STEM_LETTERS] for word in _WORD.findall(text.lower()) if word not in _COMMON}


def overlap(passage: str, context: set[str]) -> float | None:
    """Share of the passage's content words found in ``context``; None when it has no content words."""
    words = content_words(passage)
    if not words:
        return None
    return len(words & context) / len(words)
