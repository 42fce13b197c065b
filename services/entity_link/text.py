"""Text primitives shared by the knowledge base, the recogniser and the linker.

Two views of one text, both addressed by character offsets into the original:

* ``fold`` gives a same-length, case- and accent-free copy in which anything
  that is not a letter or digit is a space. Aliases are folded the same way, so
  "Alibaba's", "ALIBABA" and "Alibába" all meet the alias "alibaba", and
  "Qwen-3-Max" meets "Qwen 3 Max"; offsets found in the folded copy are offsets
  in the original because folding never changes the length.
* ``tokenize`` splits like CoNLL-2003 does (the recogniser is trained on it):
  "U.S." and "all-rounder" stay whole, "'s" and punctuation stand alone.
"""

from __future__ import annotations

import re
import unicodedata


def _fold_char(char: str) -> str:
    # "İ".lower() is "i" plus a combining dot: keep the first code point so the length stays.
    lowered = char.lower()[0]
    if not lowered.isalnum():
        return " "
    base = unicodedata.normalize("NFKD", lowered)[0]
    return base if base.isalnum() else lowered


class _FoldTable(dict[int, str]):
    """Code point -> folded character, filled in as characters are first met (str.translate reads it)."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()
# ASCII text (most of it) folds through bytes.translate, several times faster than str.translate.
_ASCII_FOLD = bytes(ord(_FOLD_TABLE[code]) for code in range(128)) + bytes(range(128, 256))


def fold(text: str) -> str:
    """Lower-case, accent-free copy of ``text`` of the same length; non-alphanumerics become spaces."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    return text.translate(_FOLD_TABLE)


_SPACES = re.compile(r"\s+")


def normalise_alias(alias: str) -> str:
    """The key an alias is matched by: folded, single-spaced, trimmed."""
    return _SPACES.sub(" ", fold(alias)).strip()


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    return _SLUG_JUNK.sub("-", fold(name)).strip("-")


# Legal-form words dropped from handles so "Alibaba Group Holding Ltd." reads @alibabagroup.
# fmt: off
LEGAL_FORMS = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "plc", "llc", "lp", "ag",
    "sa", "se", "nv", "bv", "gmbh", "holding", "holdings"
})
# fmt: on


def without_legal_form(name: str) -> str:
    """ "Apple Inc." -> "Apple", "Alibaba Group Holding Ltd." -> "Alibaba Group": how news writes company names."""
    words = name.split(",")[0].split(" (")[0].split()
    while len(words) > 1 and fold(words[-1]).strip() in LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def handle_for(name: str) -> str:
    """A short, lower-case, punctuation-free handle for "more on @handle" (e.g. ``deepseek``)."""
    return "".join(fold(without_legal_form(name)).split())[:64] or slugify(name)


def local_id(entity_type: str, name: str) -> str:
    """A stable id for an entity the knowledge base does not hold: ``nf:org:donghai-securities``."""
    return f"nf:{entity_type.lower()}:{slugify(name) or 'unnamed'}"


_ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|Prof|St|Mt|Ft|Jr|Sr|Inc|Corp|Co|Ltd|Bros|Gen|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Rev|No|vs"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
# Scripts written without spaces between words (Chinese, Japanese; Korean's syllables too): each character
# is a token of its own, so a Latin name run into them ("Nvidia的芯片") ends where its script does.
_UNSPACED = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u318f\u31a0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
)
UNSPACED_NAME = re.compile(rf"[{_UNSPACED}]{{2,}}")  # a name written wholly in an unspaced script ("阿里巴巴")
_WORD = rf"[^\W{_UNSPACED}]"  # a word character of a spaced script
_TOKEN = re.compile(
    rf"""
    [{_UNSPACED}]                            # one character of an unspaced script
    | (?:[^\W\d_{_UNSPACED}]\.){{2,}}(?![^\W\d_])  # initialisms: U.S., U.N.
    | (?<!\w)[A-Z]\.(?=\s*[A-Z])             # a name's initial: "V. Drakes"
    | (?:{_ABBREVIATIONS})\.(?=\s)          # common abbreviations keep their period
    | \d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?        # 1,000,000.5
    | {_WORD}+(?:[-&]{_WORD}+|['’](?![sS]\b){_WORD}+|\.{_WORD}+)*  # words, hyphenated, O'Neill, Amazon.com, Qwen3.5
    | ['’][sS]\b                            # possessive
    | \S
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token spans ``[start, end)`` in CoNLL-2003 style."""
    return [m.span() for m in _TOKEN.finditer(text)]


def shape(token: str) -> str:
    """Word shape with runs collapsed: "Alibaba" -> "Xx", "U.S." -> "X.X.", "V4" -> "Xd"."""
    out: list[str] = []
    for char in token:
        if char.isupper():
            mark = "X"
        elif char.isalpha():
            mark = "x"
        elif char.isdigit():
            mark = "d"
        else:
            mark = char
        if not out or out[-1] != mark:
            out.append(mark)
    return "".join(out)


def looks_like_name(token: str) -> bool:
    """Capitalised, or a mixed-case word such as "iPhone" or "xAI".

    A script without case (Chinese, Arabic, ...) never looks like a name: the
    recogniser learnt names from capitals and knows nothing else about them.
    """
    return bool(token) and (token[0].isupper() or (token[0].isalpha() and token.lower() != token))


# Tokens that end a sentence, so the next word's capital tells nothing about it being a name.
SENTENCE_END = frozenset({".", "!", "?", "...", "…"})
