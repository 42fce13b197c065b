"""What kind of story an article is, read from its words: sport, markets, politics.

A name's meaning turns on it: in a results story "England" is a team and
"Chicago" a club, in a markets story "Shell" is a company. The kind is read
from how densely an article uses each kind's words (and, for sport, from
scores such as "2-1"), never from the names themselves.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from services.entity_link.text import fold

SPORT, MARKETS, POLITICS = "sport", "markets", "politics"


def _words(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


# fmt: off
_CUES: dict[str, frozenset[str]] = {
    SPORT: _words(
        "match matches game games season team teams league cup championship championships coach players player "
        "goal goals won win wins scored score final finals tournament club clubs innings wickets wicket runs race "
        "beat beats defeated draw drew halftime points standings played innings bowled batting striker midfielder "
        "defender goalkeeper soccer football cricket tennis golf baseball basketball hockey rugby champion "
        "champions seed seeded round lap grand prix stadium referee penalty fixtures results division playoff "
        "playoffs pitcher homer inning quarterback touchdown olympic medal victory defeat squad captain qualifier "
        "friendly goalless"
    ),
    MARKETS: _words(
        "shares share stock stocks index bonds bond yields yield prices price trading traded futures dollar yen "
        "euro percent pct investors market markets earnings profit revenue quarter dividend analysts brokers "
        "exchange rates rate inflation bourse"
    ),
    POLITICS: _words(
        "party parliament election elections minister president vote voters campaign opposition government "
        "policy senator mp talks treaty diplomat diplomats sanctions ministry prime leader leaders rebels army"
    ),
}
# fmt: on
_SCORE = re.compile(r"(?<![\d-])\d{1,3}-\d{1,3}(?![\d-])")
# A kind holds when at least this share of an article's words are its cues (and a few in all)...
_MIN_SHARE = 0.03
_MIN_HITS = 3
# ...or, for sport, when it reports this many scores.
_MIN_SCORES = 2


# Each cue word -> the kinds it counts for (one look-up per word of an article).
_KINDS_OF: dict[str, tuple[str, ...]] = {}
for _kind, _cues in _CUES.items():
    for _cue in _cues:
        _KINDS_OF[_cue] = (*_KINDS_OF.get(_cue, ()), _kind)


def story_kinds(words: Sequence[str], text: str) -> frozenset[str]:
    """The kinds of story an article is (possibly several, possibly none) from its folded words and raw text."""
    hits = Counter(kind for word in words if word in _KINDS_OF for kind in _KINDS_OF[word])
    # The share is of words proper: a league table's columns of figures dilute no story's words.
    wordy = sum(not word.isdigit() for word in words)
    kinds = {kind for kind, n in hits.items() if n >= _MIN_HITS and n >= _MIN_SHARE * wordy}
    scores = len(_SCORE.findall(text))
    if scores >= _MIN_SCORES or (scores and hits[SPORT]):  # "drew 1-1", not a lone "voted 5-4"
        kinds.add(SPORT)
    return frozenset(kinds)
