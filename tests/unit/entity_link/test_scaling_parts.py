"""The linear-time pieces of the linker against the plain quadratic definitions they replace."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.entity_link.disambiguation import ArticleEntities, Choice
from services.entity_link.kb.entity import KBEntity
from services.entity_link.linker import LinkedMention, _one_sense_per_name, _resolve_short_forms
from services.entity_link.mentions import Mention, _TakenRanges
from services.entity_link.ner.features import kb_match_values

# A handful of ids and countries, so that random entities often share them.
IDS = [f"Q{n}" for n in range(1, 7)]
entities = st.builds(
    KBEntity,
    id=st.sampled_from(IDS),
    name=st.just("x"),
    type=st.just("ORG"),
    country=st.sampled_from(["", "CN", "US"]),
    related=st.lists(st.sampled_from(IDS), unique=True, max_size=3).map(tuple),
)


def naive_coherence(entity: KBEntity, others: list[KBEntity]) -> float:
    if not others:
        return 0.0
    related = sum(1 for o in others if o.id in entity.related or entity.id in o.related)
    same_country = sum(1 for o in others if entity.country and o.country == entity.country and o.id != entity.id)
    return min(1.0, related / 2.0 + min(0.25, 0.08 * same_country))


@given(st.lists(entities, max_size=8), entities, st.data())
def test_coherence_from_counts_equals_comparing_with_every_other_entity(
    chosen: list[KBEntity], candidate: KBEntity, data: st.DataObject
) -> None:
    # One entity per id, as in a knowledge base; the mention's own provisional entity is one of the chosen.
    by_id = {e.id: e for e in [*chosen, candidate]}
    chosen = [by_id[e.id] for e in chosen]
    candidate = by_id[candidate.id]
    own = data.draw(st.sampled_from([None, *range(len(chosen))]))
    others = [e for i, e in enumerate(chosen) if i != own]
    expected = naive_coherence(candidate, others)
    assert ArticleEntities(chosen).coherence(candidate, None if own is None else chosen[own]) == expected


ranges = st.tuples(st.integers(0, 60), st.integers(1, 12)).map(lambda r: (r[0], r[0] + r[1]))


@given(st.lists(ranges, max_size=8), st.lists(ranges, max_size=12))
def test_taken_ranges_answer_as_a_scan_of_all_taken_ranges_would(
    names: list[tuple[int, int]], aliases: list[tuple[int, int]]
) -> None:
    taken = _TakenRanges(names)
    held = list(names)
    for start, end in sorted(aliases, key=lambda r: (r[0], -r[1])):  # the order the finder adds aliases in
        overlaps = any(start < e and s < end for s, e in held)
        assert taken.overlaps(start, end) == overlaps
        if not overlaps:
            taken.add_alias(end)
            held.append((start, end))


def naive_kb_match(tokens: list[tuple[int, int]], matches: list[tuple[int, int, int]]) -> list[int]:
    values = [0] * len(tokens)
    longest = [0] * len(tokens)
    for start, end, bits in matches:
        inside = [i for i, (a, b) in enumerate(tokens) if a >= start and b <= end]
        for token in inside:
            if end - start > longest[token]:
                longest[token], values[token] = end - start, bits * 2 + (token == inside[0])
    return values


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 20), st.integers(1, 15)), max_size=8),
)
def test_kb_match_values_keep_the_longest_match_over_each_token(
    widths: list[int], raw: list[tuple[int, int, int]]
) -> None:
    tokens, offset = [], 0
    for width in widths:  # tokens one space apart
        tokens.append((offset, offset + width))
        offset += width + 1
    matches = [(start, start + length, bits) for start, length, bits in raw]
    assert kb_match_values(tokens, matches).tolist() == naive_kb_match(tokens, matches)


def _mention(text: str, ner_type: str | None = "PER") -> Mention:
    return Mention(0, len(text), text, ner_type, 1.0, False, False)


def test_a_short_form_takes_the_longest_fuller_name_of_a_compatible_type() -> None:
    mentions = [
        _mention("Sam Altman"),
        _mention("Samuel Harris Altman"),
        _mention("Altman Capital", "ORG"),
        _mention("Altman"),
        _mention("Harris"),
    ]
    linked: list[LinkedMention | None] = [
        LinkedMention(m, f"nf:per:{i}", m.text, "PER", 0.5) for i, m in enumerate(mentions)
    ]
    _resolve_short_forms(mentions, [Choice(None, 0.0, 0.0)] * len(mentions), linked)
    assert [item.entity_id for item in linked if item is not None] == [
        "nf:per:0",
        "nf:per:1",
        "nf:per:2",
        "nf:per:1",  # the longest PER name ending in "Altman"; the ORG one starting with it is another type
        "nf:per:4",  # "Harris" is inside a name, neither its start nor its end
    ]


def test_a_name_linked_once_in_an_article_names_the_same_entity_where_its_link_was_withheld() -> None:
    antalya, lyon, turkey = _mention("Antalya", "LOC"), _mention("Lyon", "LOC"), _mention("Turkey", "LOC")
    linked: list[LinkedMention | None] = [
        LinkedMention(antalya, "nf:loc:antalya", "Antalya", "LOC", 0.9),  # withheld: thin context
        LinkedMention(antalya, "Q40249", "Antalya", "LOC", 0.85),
        LinkedMention(lyon, "nf:loc:lyon", "Lyon", "LOC", 0.9),  # linked only with a doubtful confidence
        LinkedMention(lyon, "Q456", "Lyon", "LOC", 0.6),
        LinkedMention(turkey, "Q43", "Turkey", "LOC", 0.9),
        LinkedMention(turkey, "Q1", "Turkey", "LOC", 0.9),  # two senses in one article: left alone
        LinkedMention(turkey, "nf:loc:turkey", "Turkey", "LOC", 0.9),
        LinkedMention(turkey, "Q43", "Turkey", "MISC", 1.0, kind="demonym"),
    ]
    _one_sense_per_name(linked)
    assert [item.entity_id for item in linked if item is not None] == [
        "Q40249",
        "Q40249",
        "nf:loc:lyon",
        "Q456",
        "Q43",
        "Q1",
        "nf:loc:turkey",
        "Q43",
    ]
