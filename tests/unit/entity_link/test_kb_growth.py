"""Building the bundled KB: teams named by their places, mis-keyed towns folded, AI labs known to today's news."""

from __future__ import annotations

from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.more import merge_unconfirmed_towns, name_teams_by_their_places
from services.entity_link.kb.sources import raise_model_developers


def entity(id_: str, name: str, type_: str = "ORG", **fields: object) -> KBEntity:
    return KBEntity(id=id_, name=name, type=type_, **fields)  # type: ignore[arg-type]


def by_id(*entities: KBEntity) -> dict[str, KBEntity]:
    return {e.id: e for e in entities}


def test_a_team_is_also_named_by_the_place_it_is_called_after() -> None:
    entities = by_id(
        entity("Q10", "Ardmore", "LOC", kind="city", prior=0.6),
        entity("Q11", "Calvera", "LOC", kind="state", prior=0.7),
        entity("Q12", "South", "LOC", kind="city", prior=0.9),
        entity("Q13", "Aa", "LOC", kind="city", prior=0.9),
        entity("Q20", "Ardmore Rovers F.C.", kind="sports_club"),
        entity("Q21", "Calvera national rugby team", kind="national_team"),
        entity("Q22", "Queen of the South F.C.", kind="sports_club"),
        entity("Q23", "AA Gent", kind="sports_club"),
        entity("Q24", "Ardmore Savings Bank", kind="company"),
    )
    assert name_teams_by_their_places(entities) == 2
    assert entities["Q20"].aliases == ("Ardmore",)
    assert entities["Q21"].aliases == ("Calvera",)
    # Not after "of the", not a run written as an acronym, and only teams.
    assert entities["Q22"].aliases == entities["Q23"].aliases == entities["Q24"].aliases == ()


def test_an_obscure_place_lends_no_name() -> None:
    entities = by_id(
        entity("Q10", "Hollin", "LOC", kind="city", prior=0.1), entity("Q20", "Hollin Athletic", kind="sports_club")
    )
    assert name_teams_by_their_places(entities) == 0


def test_a_listed_town_nobody_describes_folds_into_the_described_one() -> None:
    entities = by_id(
        entity("Q900001", "Velmora", "LOC", kind="capital", country="XV", prior=0.95, aliases=("Welmora",)),
        entity("Q501", "Velmora", "LOC", kind="state", country="XV", prior=0.6, description="capital city of Xaveria"),
        entity("Q502", "Velmora", "LOC", kind="state", country="XV", prior=0.5),  # a region, not a town: kept
        entity("Q900002", "Brask", "LOC", kind="city", country="XV", prior=0.4),
        entity("Q601", "Brask", "LOC", kind="city", country="XV", description="town in Xaveria"),
        entity("Q602", "Brask", "LOC", kind="city", country="XV", description="city in western Xaveria"),
    )
    redirects = merge_unconfirmed_towns(entities)
    assert redirects == {"Q900001": "Q501"}  # two described Brasks: which one is meant is unknown, none folded
    kept = entities["Q501"]
    assert (kept.prior, kept.kind, kept.also) == (0.95, "capital", ("Q900001",))
    assert "Welmora" in kept.aliases
    assert {"Q502", "Q900002", "Q601", "Q602"} <= set(entities)


def test_a_listed_town_spelled_as_an_older_one_of_its_country_folds_into_it() -> None:
    entities = by_id(
        entity("Q900003", "Irvana", "LOC", kind="city", country="XV", prior=0.56, aliases=("Ervana",)),
        entity("Q700", "Ervana", "LOC", kind="city", country="XV", prior=0.61, aliases=("Yrvana",)),
        entity("Q701", "Ervana", "LOC", kind="city", country="XW", prior=0.3),  # another country's
    )
    assert merge_unconfirmed_towns(entities) == {"Q900003": "Q700"}
    assert set(entities["Q700"].aliases) == {"Yrvana", "Irvana"} and entities["Q701"].aliases == ()


def test_the_makers_of_notable_ai_models_rise_and_become_labs() -> None:
    entities = by_id(
        entity("Q1", "Nimbus Labs", kind="company", prior=0.3),
        entity("Q2", "Quill Analytics", kind="company", prior=0.3),
        entity("Q3", "Orchard Foods", kind="company", prior=0.3),
        *(entity(f"nf:m{n}", f"Nimbus-{n}", "PRODUCT", kind="model", related=("Q1",)) for n in range(7)),
        entity("nf:q", "Quill-1", "PRODUCT", kind="model", related=("Q2",)),
    )
    assert raise_model_developers(entities) == 2
    assert entities["Q1"].prior > entities["Q2"].prior > entities["Q3"].prior == 0.3
    assert (entities["Q1"].kind, entities["Q2"].kind) == ("lab", "company")  # one model makes no lab
