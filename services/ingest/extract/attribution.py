"""Where an article says it came from: "Original source: X", "began from a … item from X",
"via X", "first reported by X", a wire dateline "(Reuters) -", or a canonical link to another outlet."""

from __future__ import annotations

import re

from shared.ids import domain_of
from shared.messages import OriginalSource

# A word of a name; a dot only inside it ("U.S", "ledger.sg"), so a sentence's full stop ends the name.
_WORD = r"(?:[\w&'’-]|\.(?=\w))*"
# Small words inside an outlet's name, in the languages news is translated from ("El Faro del Sur").
_JOINERS = r"della|the|and|for|del|des|der|dos|das|von|van|of|de|do|du|di|da|la|le|&"
# An outlet's name as written: capitalised words (with a few joining words inside),
# a domain, or a URL. Joining words are trimmed from the end afterwards.
_NAME = (
    r"(?P<name>https?://\S+|(?:[Tt]he\s+)?[A-Z0-9]" + _WORD + r"(?:\s+(?:" + _JOINERS + r"|[A-Z0-9]" + _WORD + r"))*"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
)
_KIND_OF_ITEM = r"(?:item|story|report|article|piece|post|dispatch|feed)"
# The language a translated piece first ran in, before its outlet: "in Dutch in X", "in Italian by X".
# The shapes of language names ("-ish", "-an", "-ese", "-ch", "-ic", "-i", "-ek"), not a list of them.
_IN_LANGUAGE = r"(?:in\s+[A-Z][a-z]+(?:ish|an|ese|ch|ic|i|ek)\s+(?=(?:by|in)\b))?"

# Phrases that name the outlet an item was taken from. They are only read from
# padding lines (short lines about the item), never from article prose, where
# "via" and "source" have everyday meanings.
_PADDING_PATTERNS = [
    re.compile(r"(?i:\boriginal(?:ly)?\s+(?:source|story|report|article|publisher)\s*[:：])\s*" + _NAME),
    # "originally published in German by X", "first appeared in Dutch in X": the language is not the outlet.
    re.compile(
        r"(?i:\b(?:originally|first)\s+(?:published|reported|appeared)\s+)"
        + _IN_LANGUAGE
        + r"(?i:(?:by|in|on|at))\s+"
        + _NAME
    ),
    # "Translated from the Italian original in X", "translated from an article at X" (never "by": the translator).
    re.compile(r"(?i:\btranslated\s+from\s+(?:the\s+|an?\s+)?(?:[\w-]+\s+){0,3}?(?:in|at|of))\s+" + _NAME),
    re.compile(
        r"(?i:\b(?:began|started|originated|generated|built|assembled|written|adapted|summari[sz]ed)\s+from\s+an?\s+"
        r"(?:[\w-]+\s+){0,4}?" + _KIND_OF_ITEM + r"\s+(?:from|by|in))\s+" + _NAME
    ),
    re.compile(
        r"(?i:\b(?:began|started|originated|generated|built|assembled|written|adapted|summari[sz]ed)\s+from\s+an?)\s+"
        + _NAME
        + r"\s+(?i:"
        + _KIND_OF_ITEM
        + r")\b"
    ),
    re.compile(r"(?:^|[\s|·•(])(?i:via|courtesy\s+of|reprinted\s+from|republished\s+from)\s*:?\s+" + _NAME),
    re.compile(r"(?i:\bthis\s+[\w-]+\s+(?:first\s+)?appeared\s+)" + _IN_LANGUAGE + r"(?i:(?:in|on|at))\s+" + _NAME),
    re.compile(r"^(?i:source)\s*:\s+" + _NAME),
]
# "LONDON (Reuters) - ", "(Global Wire) — ": a wire service credited at the start of the lede.
_WIRE_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'’/-]{1,40}(?:,?\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s)?"  # place, and a day: "PARIS, May 3"
    r"\((?P<name>[A-Z][\w&'’. -]{1,40}?)\)\s*[-–—]{1,2}\s",
    re.UNICODE,
)
_TRAILING_JOINERS = re.compile(r"(?:\s+(?:" + _JOINERS + r"))+$", re.I)
_LINK_ARROWS = "↗→»›"


# One of these is in every attribution phrase: a cheap test before the patterns.
_ATTRIBUTION_WORDS = ("original", "first", "from", "via", "courtesy", "appeared", "source", "translated")


def attribution_in_padding(line: str) -> OriginalSource | None:
    """The original source a padding line names, if it names one."""
    lowered = line.lower()
    if not any(word in lowered for word in _ATTRIBUTION_WORDS):
        return None
    for pattern in _PADDING_PATTERNS:
        match = pattern.search(line)
        if match and (source := _source(match.group("name"))):
            return source
    return None


def wire_dateline(lede: str) -> OriginalSource | None:
    """The wire service a lede is credited to ("(Reuters) -")."""
    match = _WIRE_DATELINE.match(lede)
    return _source(match.group("name")) if match else None


def canonical_elsewhere(page_url: str | None, canonical: str | None, name: str | None) -> OriginalSource | None:
    """A canonical link to another outlet's domain names that outlet as the original."""
    page_domain, canonical_domain = domain_of(page_url), domain_of(canonical)
    if not canonical or not page_domain or not canonical_domain or _same_site(page_domain, canonical_domain):
        return None
    return OriginalSource(name=name or canonical_domain, url=canonical)


def _same_site(first: str, second: str) -> bool:
    return first == second or first.endswith("." + second) or second.endswith("." + first)


def _source(raw: str) -> OriginalSource | None:
    name = raw.strip().rstrip(_LINK_ARROWS).strip().rstrip(".,;:")
    if name.startswith(("http://", "https://")):
        return OriginalSource(name=domain_of(name) or name, url=name)
    name = _TRAILING_JOINERS.sub("", name).strip()
    if len(name) < 2 or name.lower() in {"the", "a", "an", "this", "our", "source"}:
        return None
    return OriginalSource(name=name)
