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

A capital that only opens a sentence makes no name of an ordinary word
("Cool, calm conditions", "Apple growers" in a story about apples), a month
is never a place, and a recognised name longer than any real one is a runaway.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from services.entity_link.kb.index import LABEL_WEIGHT, Candidate, KnowledgeBase
from services.entity_link.ner.features import TokenDoc, kb_match_values, sentence_ids
from services.entity_link.ner.tagger import NamedSpan, Tagger
from services.entity_link.text import UNSPACED_NAME, normalise_alias, tokenize

# "Alibaba-backed", "Hangzhou-based": a name inside a hyphenated word, which the recogniser reads whole.
_NAME_COMPOUND = re.compile(
    r"-(?:based|backed|owned|led|made|listed|born|funded|controlled|run|style|linked|built|bound|focused|"
    r"affiliated|headquartered|registered|developed|designed|operated|related|specific|era)\b",
    re.IGNORECASE,
)
_NEWLINE = re.compile("\n")
_SPANS_PUNCTUATION = re.compile(r"\s[(),;]|[(),;]\s")
# Words after which a name is a place: "in Washington", "visiting Rome".
# fmt: off
_LOCATIVE = frozenset({
    "in", "at", "from", "near", "outside", "around", "across", "throughout", "inside", "into", "visit",
    "visiting", "visited"
})
# "to" makes a place only after a word of movement: "flying to Washington", not "a signal to Washington",
# where the name stands for the government.
_MOVEMENT = frozenset({
    "fly", "flies", "flew", "flying", "flown", "flight", "flights", "travel", "travels", "travelled", "traveled",
    "travelling", "traveling", "trip", "trips", "journey", "move", "moves", "moved", "moving", "relocate",
    "relocated", "return", "returns", "returned", "returning", "go", "goes", "went", "going", "gone", "come",
    "comes", "came", "coming", "drive", "drove", "driving", "sail", "sailed", "head", "headed", "heading",
    "route", "routes", "road", "way", "back", "visitors", "tourists", "migrated", "fled", "deported", "transferred",
    "brought", "bring", "bringing", "marched", "sailing", "arriving", "commute", "commuted", "trek", "rail",
})
# Function words that open sentences and clauses: capitalised only for that, they are no name on their own
# ("As with its earlier releases", "Until now"). Words that are also names ("May", "Will", "Per") are left out.
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "there", "here", "it", "its", "he", "she", "we", "they",
    "you", "his", "her", "our", "their", "my", "your", "as", "at", "in", "on", "of", "for", "from", "to", "by",
    "with", "without", "within", "into", "onto", "upon", "about", "above", "below", "after", "before", "during",
    "since", "until", "till", "while", "whilst", "when", "whenever", "where", "wherever", "why", "how", "what",
    "which", "who", "whom", "whose", "if", "unless", "although", "though", "because", "but", "and", "or", "nor",
    "so", "yet", "then", "than", "also", "however", "meanwhile", "moreover", "furthermore", "nevertheless",
    "still", "even", "just", "only", "not", "no", "some", "many", "most", "more", "much", "all", "each", "every",
    "both", "either", "neither", "such", "other", "another", "any", "several", "few", "despite", "like", "unlike",
    "among", "between", "through", "throughout", "across", "against", "over", "under", "around", "beyond",
    "instead", "once", "now", "thus", "hence", "therefore", "otherwise", "indeed", "perhaps", "already", "again",
    "never", "always", "often",
})
# A dateline opens a story: "WASHINGTON —", "HANGZHOU, China -", or in wire copy after the byline,
# "WASHINGTON 1996-08-30": an all-caps place then a dash, comma, bracket, or a date.
_DATELINE_END = re.compile(r"\s*(?:[—–-]|,|\()")
_DATELINE_DATE = re.compile(r" \d{4}-\d\d-\d\d\b")
# "HANGZHOU, China (Reuters) -", "Hangzhou (AP) —": the agency's credit in brackets, then a dash.
_WIRE_CREDIT = re.compile(r"(?:,\s*[A-Z][\w.'-]*(?: [\w.'-]+){0,3})?\s*\([A-Z][\w.&' -]{0,40}\)\s*[—–-]")
# What may come before a dateline's country on its line: the city and a comma ("HANGZHOU, ").
_DATELINE_CITY = re.compile(r"\s*(?:[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3},\s*)?")
# Months and weekdays are capitalised but name no place or organisation ("the year ending in March").
_CALENDAR_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
})
# Nouns after which a capitalised word is a crop, not a company: "Apple growers", "Orange orchards".
_PRODUCE_NOUNS = frozenset({
    "grower", "growers", "orchard", "orchards", "farmer", "farmers", "farm", "farms", "tree", "trees", "harvest",
    "harvests", "blossom", "crop", "crops", "pickers", "picking", "varieties", "plantations", "groves",
})
# fmt: on
# Longer recognised "names" are runaways (CoNLL-2003's longest entity has 10 tokens and 63 characters).
MAX_MENTION_TOKENS = 10
MAX_MENTION_CHARS = 80
# Acronyms are short: "AMD", "NASA", "U.N."; a longer all-caps word is a shouted one.
ACRONYM_MAX_LETTERS = 5
# How far either side of a name its neighbouring words are looked for.
_CASE_WINDOW = 40
# A mention the KB alone found (the recogniser saw no name there) is kept only if the alias is telling:
# several words, a mixed-case or digit-bearing word ("DeepSeek", "H100"), or a popular, unambiguous entity.
_LONE_ALIAS_MIN_PRIOR = 0.5
# News names the same few thousand things over and over: a name's key is worth remembering.
_alias_key = lru_cache(maxsize=1 << 16)(normalise_alias)


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
    acronym: bool = False  # all capitals amid lower-case text ("AMD", "U.N."), not a shouted headline
    candidates: Sequence[Candidate] = ()

    @property
    def key(self) -> str:
        return _alias_key(self.text)

    @property
    def opens_sentence_as_a_word(self) -> bool:
        """A function word capitalised only because it opens a sentence ("As with ...", "Until now ...").

        Only in title case: "IT" and "US" are names whatever their place.
        """
        return self.sentence_start and self.text.istitle() and self.text.lower() in _FUNCTION_WORDS


class _ArticleWords:
    """What the article's words say about a capitalised word being a name (computed once, when first asked)."""

    def __init__(self, words: list[str], opens: np.ndarray, body_from: int, surnames: frozenset[str]) -> None:
        self._words = words
        self._opens = opens
        self._body_from = body_from
        self.surnames = surnames  # last words of the article's longer names: "Nadella" after "Satya Nadella"

    @cached_property
    def lower_case(self) -> frozenset[str]:
        """Every word the article writes in lower case."""
        return frozenset(filter(str.islower, self._words))

    @cached_property
    def capitalised_inside(self) -> frozenset[str]:
        """Every body word where a capital means something: not opening a sentence."""
        body = self._body_from
        return frozenset(itertools.compress(self._words[body:], (~self._opens[body:]).tolist()))


@dataclass
class _Text:
    text: str
    in_title: bool
    spans: list[tuple[int, int]]
    words: list[str]
    alias_hits: list[tuple[int, int, str]]  # (start, end, alias key)

    @cached_property
    def bounds(self) -> np.ndarray:
        """The token spans as an array (tokens x 2)."""
        flat = np.fromiter(itertools.chain.from_iterable(self.spans), dtype=np.int64, count=2 * len(self.spans))
        return flat.reshape(-1, 2)

    def token_extents(self, extents: list[tuple[int, int]]) -> tuple[list[int], list[bool]]:
        """For character extents: the token each starts (-1 if none), and whether it ends with a token too."""
        if not extents or not self.spans:
            return [-1] * len(extents), [False] * len(extents)
        found = np.array(extents, dtype=np.int64)
        last = len(self.spans) - 1
        first = np.searchsorted(self.bounds[:, 0], found[:, 0])
        starts = self.bounds[np.minimum(first, last), 0] == found[:, 0]
        ending = np.minimum(np.searchsorted(self.bounds[:, 1], found[:, 1]), last)
        ends = self.bounds[ending, 1] == found[:, 1]
        return np.where(starts, first, -1).tolist(), (starts & ends).tolist()

    def line_breaks(self) -> np.ndarray:
        """Per token: whether it opens the text or a line break comes between it and the token before."""
        breaks = np.zeros(len(self.spans), dtype=bool)
        if not self.spans:
            return breaks
        breaks[0] = True
        newlines = np.array([m.start() for m in _NEWLINE.finditer(self.text)], dtype=np.int64)
        if len(newlines):
            before = np.searchsorted(newlines, self.bounds[:, 0])
            breaks[1:] |= before[1:] > np.searchsorted(newlines, self.bounds[:-1, 1])
        return breaks


class _TakenRanges:
    """Character ranges already given to a mention, checked by binary search rather than a scan of them all.

    An article can hold tens of thousands of mentions. The recogniser's names
    come first (stretched to a longer alias they may overlap one another, so
    they are merged); aliases are then added in order of their start and never
    overlap anything taken, so the last one added is the one that ends furthest.
    """

    def __init__(self, names: list[tuple[int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(names):
            if self._ends and start < self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)
        self._alias_end = 0

    def overlaps(self, start: int, end: int) -> bool:
        last_before = bisect_left(self._starts, end) - 1
        return start < self._alias_end or (last_before >= 0 and self._ends[last_before] > start)

    def add_alias(self, end: int) -> None:
        self._alias_end = end


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
                kb_match_values(part.bounds, [(s, e, self.kb.type_bits(k)) for s, e, k in part.alias_hits])
                for part in parts
            ]
        )
        doc = TokenDoc(words, sentence, kb_match)
        named = self.tagger.spans(doc)
        opens = np.ones(len(words), dtype=bool)
        opens[1:] = sentence[1:] != sentence[:-1]
        surnames = frozenset(words[s.end - 1] for s in named if s.end - s.start > 1)
        article_words = _ArticleWords(words, opens, len(parts[0].spans), surnames)
        mentions: list[Mention] = []
        offset = 0
        for part in parts:
            count = len(part.spans)
            local = [s for s in named if offset <= s.start < offset + count]
            starts = opens[offset : offset + count].tolist()
            mentions.extend(self._reconcile(part, local, offset, starts, article_words))
            offset += count
        return mentions

    def find_known(self, title: str, body: str) -> list[Mention]:
        """Names the KB knows, found by its aliases alone: for text the English recogniser must not read.

        Capitals say little in German (every noun has one), so a one-word name
        counts only if it is an entity's own label and the entity is well known;
        longer names and names in unspaced scripts count as they are.
        """
        mentions: list[Mention] = []
        for text, in_title in ((title, True), (body, False)):
            if not text:
                continue
            hits = [(m.start, m.end) for m, _key in self.kb.find_aliases(text)]
            hits += [(start, end) for start, end, _key in self.kb.find_unspaced(text)]
            taken = 0
            for start, end in sorted(hits, key=lambda hit: (hit[0], -hit[1])):
                if start < taken:
                    continue
                mention = Mention(start, end, text[start:end], None, 0.0, in_title, False)
                mention.candidates = self.kb.lookup_key(mention.key)
                if mention.candidates and self._known_anywhere(mention):
                    mentions.append(mention)
                    taken = end
        return mentions

    @staticmethod
    def _known_anywhere(mention: Mention) -> bool:
        if " " in mention.text.strip() or UNSPACED_NAME.fullmatch(mention.text):
            return True
        return any(c.weight >= LABEL_WEIGHT and c.entity.prior >= _LONE_ALIAS_MIN_PRIOR for c in mention.candidates)

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
        words: _ArticleWords,
    ) -> list[Mention]:
        text, spans = part.text, part.spans
        ends_by_start: dict[int, list[int]] = {}
        for start, end, _key in part.alias_hits:
            ends_by_start.setdefault(start, []).append(end)
        known = {(start, end) for start, end, _key in part.alias_hits}
        mentions: list[Mention] = []
        for span in named:
            first_token = span.start - offset
            start, end = spans[first_token][0], spans[span.end - offset - 1][1]
            if span.end - span.start > MAX_MENTION_TOKENS or end - start > MAX_MENTION_CHARS:
                continue
            # A longer alias from the same first word: "Alibaba Group Holding" over "Alibaba Group".
            longer = [e for e in ends_by_start.get(start, ()) if e > end]
            end = max([end, *(e for e in longer if not _SPANS_PUNCTUATION.search(text, end, e))])
            for piece_start, piece_end in _coordinated(text, start, end, known):
                opens = sentence_starts[first_token] and piece_start == start
                mention = self._mention(text, piece_start, piece_end, span.type, span.score, part.in_title, opens)
                if not (mention.opens_sentence_as_a_word or self._ordinary_word(mention, text, words)):
                    mentions.append(mention)
        taken = _TakenRanges([(m.start, m.end) for m in mentions])
        # Aliases in order of their start, the longest first: one alias per place, never inside a name.
        extents = sorted({(s, e) for s, e, _ in part.alias_hits}, key=lambda extent: (extent[0], -extent[1]))
        for (start, end), first_token, whole_words in zip(extents, *part.token_extents(extents), strict=True):
            if taken.overlaps(start, end):
                continue
            if not (whole_words or (first_token >= 0 and _NAME_COMPOUND.match(text, end))):
                continue  # an alias inside a word, unless it is the name in "Alibaba-backed"
            mention = self._mention(text, start, end, None, 0.0, part.in_title, sentence_starts[first_token])
            if self._telling(mention, words) and self._names_something(mention, text, words):
                mentions.append(mention)
                taken.add_alias(end)
        return sorted(mentions, key=lambda m: m.start)

    def _mention(
        self, text: str, start: int, end: int, ner_type: str | None, score: float, in_title: bool, first: bool
    ) -> Mention:
        compound = _NAME_COMPOUND.search(text, start, end)
        if compound and compound.end() == end:
            # "Hangzhou-based": the name is Hangzhou, and what kind of name is for the KB to say.
            end, ner_type = compound.start(), None
        mention = Mention(start, end, text[start:end], ner_type, score, in_title, first)
        if mention.text.isupper():
            dateline = not in_title and _opens_dateline(text, start, end)
            mention.acronym = not dateline and _is_acronym(text, start, end)
            mention.locative = dateline or _after_a_place_word(text, start)
        else:
            # "LA CORUNA, Spain 1996-08-31", "Hangzhou, China (Reuters) -": a dateline names where the story
            # was filed.
            dateline = not in_title and _in_dateline(text, start, end)
            mention.locative = dateline or _after_a_place_word(text, start)
        mention.candidates = self.kb.lookup_key(mention.key)
        return mention

    def _ordinary_word(self, mention: Mention, text: str, words: _ArticleWords) -> bool:
        """Whether a capitalised word is an ordinary word rather than a name.

        A month or weekday never names a place or a company, only ever a person
        ("May"). Elsewhere only a capital that says nothing counts: opening a
        sentence or in the title, and never written capitalised inside one of the
        body's sentences. There a word is ordinary if the article also writes it
        in lower case ("Apple ..." in a story about apples) or a crop's noun
        follows it ("Apple growers"), or if it is a common word ("Cool, calm
        conditions") that names nothing well known.
        """
        name = mention.text
        if " " in name or not name.istitle():
            return False
        lower = name.lower()
        if lower in _CALENDAR_WORDS:
            return mention.ner_type != "PER"
        if not (mention.sentence_start or mention.in_title) or name in words.capitalised_inside:
            return False
        if _next_word(text, mention.end) in _PRODUCE_NOUNS and not any(
            c.entity.type == "LOC" for c in mention.candidates
        ):
            return True  # "Apple growers": a place's growers ("Kent growers") are the place's
        if lower in words.lower_case or f"{lower}s" in words.lower_case or f"{lower}es" in words.lower_case:
            return True
        popular = any(c.entity.prior * c.weight >= _LONE_ALIAS_MIN_PRIOR for c in mention.candidates)
        return not popular and self.tagger.is_common_word(name)

    def _names_something(self, mention: Mention, text: str, words: _ArticleWords) -> bool:
        """Whether a one-word alias the recogniser passed over is more than a word the KB also spells.

        An everyday word ("We", "Heat", "Talk") and a shouted headline word
        ("BEAT", "SATURDAY") are names only if the recogniser says so.
        """
        if self._ordinary_word(mention, text, words):
            return False
        if " " in mention.text:
            # Folding made "Russia ) 1" read as the alias "Russia 1": a name never spans a bracket or a comma.
            return not _SPANS_PUNCTUATION.search(mention.text)
        shouted = mention.text.isupper() and not mention.acronym
        return not (shouted or self.tagger.is_common_word(mention.text))

    @staticmethod
    def _telling(mention: Mention, article_words: _ArticleWords) -> bool:
        """Whether a KB alias the recogniser passed over is a name all the same.

        At a sentence start a capital says nothing, so a one-word alias there
        counts only if the article never uses the word in lower case ("Meta
        said ..." in a story without "meta"; not "Nice to see ...") and it is
        no function word ("As with ...").
        """
        if not mention.candidates or mention.opens_sentence_as_a_word:
            return False
        words = mention.text.split()
        if len(words) >= 2 and not mention.sentence_start:
            return True
        distinctive = any(any(c.isdigit() for c in w) or (w[1:] != w[1:].lower() and not w.isupper()) for w in words)
        if distinctive or (len(words) == 1 and mention.text in article_words.surnames):
            return True  # "Nadella said" after "Satya Nadella": the name shortened
        best = max(c.entity.prior * c.weight for c in mention.candidates)
        if best < _LONE_ALIAS_MIN_PRIOR or not mention.text[:1].isupper():
            return False
        return not mention.sentence_start or not any(w.lower() in article_words.lower_case for w in words)


def _coordinated(text: str, start: int, end: int, known: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """A recognised name that is two known names joined by "and" ("DeepSeek and Apple"), as the two.

    A name the KB holds whole ("Procter and Gamble") stays one.
    """
    joint = text.find(" and ", start, end)
    if joint < 0 or (start, end) in known:
        return [(start, end)]
    pieces = [(start, joint), (joint + len(" and "), end)]
    return pieces if all(piece in known for piece in pieces) else [(start, end)]


def _next_word(text: str, end: int) -> str:
    """The word after ``end``, in lower case."""
    following = text[end : end + _CASE_WINDOW].split(maxsplit=1)
    return following[0].lower() if following else ""


def _is_acronym(text: str, start: int, end: int) -> bool:
    """Whether the all-caps ``text[start:end]`` is a short name ("AMD", "U.N.") amid lower-case words.

    A word next to it has a lower-case letter: "AMD is", "Nvidia and AMD",
    not the shouted headline "WOODS MAKES PRO DEBUT".
    """
    letters = text[start:end].replace(".", "")
    if not (letters.isalpha() and len(letters) <= ACRONYM_MAX_LETTERS):
        return False
    before = [w for w in text[max(0, start - _CASE_WINDOW) : start].split() if any(c.isalpha() for c in w)]
    after = [w for w in text[end : end + _CASE_WINDOW].split() if any(c.isalpha() for c in w)]
    return any(not word.isupper() for word in (before[-1:] + after[:1]))


def _opens_dateline(text: str, start: int, end: int) -> bool:
    """Whether an all-caps name at ``start`` is a dateline: it opens the text, or a wire date follows it."""
    return bool((start == 0 and _DATELINE_END.match(text, end)) or _in_dateline(text, start, end))


def _in_dateline(text: str, start: int, end: int) -> bool:
    """Whether a name is part of a dateline: a wire date follows it, or, on a line's first words, an agency's credit."""
    if _DATELINE_DATE.match(text, end):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    return bool(_DATELINE_CITY.fullmatch(text, line_start, start) and _WIRE_CREDIT.match(text, end))


def _after_a_place_word(text: str, start: int) -> bool:
    """Whether the words before ``start`` make the name a place: "in Washington", "flying to Washington"."""
    words = text[max(0, start - 30) : start].split()
    previous = [word.lower() for word in words]
    if not previous:
        return False
    if previous[-1] == "to":
        return len(previous) > 1 and previous[-2] in _MOVEMENT
    if previous[-1] == "at" and len(words) > 1 and words[-2][:1].isupper():
        return False  # a fixture, "Kansas City at Detroit": the home side, not where something happens
    return previous[-1] in _LOCATIVE
