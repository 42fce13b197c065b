"""Precision first: a wrong id is worse than none. Each story is written for these tests."""

from __future__ import annotations

from typing import Any

import pytest

from services.entity_link.app import EntityLinkWorker
from services.entity_link.context import MARKETS, SPORT, story_kinds
from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.kb.more import describe_type, popularity, short_names
from services.entity_link.linker import (
    UNSUPPORTED_LANGUAGE,
    Linker,
    heading_like_lines,
    heading_spans,
)
from services.entity_link.text import fold
from shared.messages import ArticleEnriched, Heading, Source


def _article(title: str, body: str, **fields: Any) -> ArticleEnriched:
    return ArticleEnriched(article_id="a1", title=title, body=body, source=Source(name="Test"), **fields)


# -- the KB's new sources -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("men's national association football team representing Chile", ("ORG", "national_team")),
        ("association football club in Porto, Portugal", ("ORG", "sports_club")),
        ("American actress and singer", ("PER", "entertainer")),
        ("Kenyan long-distance runner", ("PER", "athlete")),
        ("city in Ohio, United States", ("LOC", "city")),
        ("2004 film directed by a Danish director", ("MISC", "work")),
        ("Romance language spoken in Romania", None),
        ("", None),
    ],
)
def test_a_description_s_head_noun_gives_the_type(description: str, expected: tuple[str, str] | None) -> None:
    assert describe_type(description) == expected


def test_teams_answer_to_the_names_news_uses() -> None:
    assert short_names("Chile national football team", "sports_club") == ["Chile"]
    assert short_names("Porto F.C.", "sports_club") == ["Porto"]
    assert short_names("Racing Club de Avellaneda", "sports_club") == []  # nothing to strip at either end
    assert short_names("Porto", "city") == []


def test_sitelinks_make_a_prior_that_grows_with_them() -> None:
    assert popularity(0) < popularity(10) < popularity(50) < popularity(150) <= 0.95


# -- what kind of story --------------------------------------------------------------------------------------


def test_scores_make_a_sports_story_and_prices_a_markets_one() -> None:
    sport = "Ostrava beat Brno 3-1 and Plzen drew 2-2 with Olomouc on Sunday."
    markets = "Shares fell as bond yields rose; the index lost 2 percent and investors sold stock."
    assert SPORT in story_kinds(fold(sport).split(), sport)
    assert story_kinds(fold(markets).split(), markets) == frozenset({MARKETS})


# -- demonyms ------------------------------------------------------------------------------------------------


def test_a_demonym_is_a_facet_of_its_country_not_a_mention_of_it(linker: Linker) -> None:
    body = "The German carmaker said exports to Germany's neighbours rose, and French buyers returned."
    entities = linker.link_text("Car exports rise", body)
    germany = [e for e in entities if e.id == "Q183"]
    assert {e.kind for e in germany} == {"demonym", None}
    demonym = next(e for e in germany if e.kind == "demonym")
    assert demonym.spans == [(4, 10)] and demonym.type == "MISC"
    assert any(e.id == "Q142" and e.kind == "demonym" for e in entities)


def test_demonyms_are_kept_apart_in_the_index() -> None:
    kb = KnowledgeBase([KBEntity(id="Q1", name="Ruritania", type="LOC", kind="country", demonyms=("Ruritanian",))])
    assert kb.demonym_of("ruritanian") is kb.get("Q1")
    assert kb.demonym_of("ruritania") is None
    assert [c.entity.id for c in kb.lookup("Ruritanian")] == ["Q1"]


# -- no guesses ----------------------------------------------------------------------------------------------


def test_numbers_are_never_names(linker: Linker) -> None:
    body = "The index closed at 76 after trading between 1 2 3 and 80 in a quiet session."
    assert all(not any(c.isdigit() for c in m.mention.text.split()[0]) for m in linker.link_mentions("", body))


def test_a_person_s_surname_never_links_to_a_company_or_a_place(linker: Linker) -> None:
    body = "Ms Dole told reporters on Tuesday that she would not seek a third term in the state senate."
    dole = [m for m in linker.link_mentions("Senator to step down", body) if m.mention.text == "Dole"]
    assert dole and all(m.entity_id.startswith("nf:") for m in dole)


def test_a_country_s_name_is_its_team_in_a_football_result(linker: Linker) -> None:
    body = "Brazil beat Argentina 2-1 in the qualifier, the winning goal coming from a penalty in stoppage time."
    ids = {m.mention.text: m.entity_id for m in linker.link_mentions("Qualifier", body)}
    assert ids["Brazil"] == "Q83459" and ids["Argentina"] == "Q79800"


def test_a_country_s_name_is_the_country_in_a_policy_story(linker: Linker) -> None:
    body = "Brazil's government approved new tariffs on steel imports after talks with industry leaders."
    ids = {m.mention.text: m.entity_id for m in linker.link_mentions("Tariffs", body)}
    assert ids["Brazil"] == "Q155"


def test_a_country_whose_side_the_kb_lacks_gets_no_link_in_a_result(linker: Linker) -> None:
    result = "Latvia held Moldova 1-1 in the qualifier in Riga, their goalkeeper saving a penalty in the last minute."
    latvia = next(m for m in linker.link_mentions("Qualifier", result) if m.mention.text == "Latvia")
    assert not any(c.entity.kind == "national_team" for c in latvia.mention.candidates)  # the KB lacks the side
    assert latvia.entity_id.startswith("nf:")  # the side, which is not the country
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("Qualifier", result)}["Riga"] == "Q1773"
    policy = "Latvia's parliament voted on Tuesday to raise the minimum wage, the finance minister said after talks."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("Wages", policy)}["Latvia"] == "Q211"


def test_a_fixture_s_at_names_the_home_side_not_a_place(linker: Linker) -> None:
    schedule = (
        "Saturday's schedule: Kansas City at Detroit, Boston at Oakland. The home pitcher has won his last four "
        "starts in the league this season."
    )
    ids = {m.mention.text: m.entity_id for m in linker.link_mentions("Baseball", schedule)}
    assert (ids["Kansas City"], ids["Detroit"]) == ("Q744530", "Q650855")  # Royals, Tigers
    trip = "The minister flew from London to Kansas City at dawn and met the mayor at Detroit airport."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("Visit", trip)}["Detroit"] == "Q12439"


def test_a_gridiron_team_plays_no_football_and_a_government_no_match(linker: Linker) -> None:
    soccer = "Hamilton drew 1-1 with Ayr in the league on Saturday, their goalkeeper saving a late penalty."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", soccer)}["Hamilton"] == "Q498473"
    gridiron = "Hamilton beat Toronto 31-17, their quarterback throwing three touchdowns as the season opened."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", gridiron)}["Hamilton"] == "Q44149"
    nfl = "Washington beat Dallas 24-10 on Sunday, the quarterback throwing for two touchdowns in the season opener."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", nfl)}["Washington"] == "Q212654"


def test_an_organisation_s_acronym_is_not_a_code_a_country_goes_by(linker: Linker) -> None:
    body = "Police said the IRA had not claimed the attack, and a spokesman for the group declined to comment."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", body)}["IRA"].startswith("nf:")
    places = "Officials from the US and the UK met in Geneva on Monday to discuss the sanctions."
    ids = {m.mention.text: m.entity_id for m in linker.link_mentions("", places)}
    assert (ids["US"], ids["UK"]) == ("Q30", "Q145")


def test_a_club_is_named_by_its_city_only_in_sport(linker: Linker) -> None:
    sport = "Liverpool beat Chelsea 3-1 at home, and the manager praised his goalkeeper after the match."
    city = "Liverpool's mayor opened a new museum by the river, and visitors queued along the waterfront."
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", sport)}["Liverpool"] == "Q1130849"
    assert {m.mention.text: m.entity_id for m in linker.link_mentions("", city)}["Liverpool"] == "Q24826"


# -- headings ------------------------------------------------------------------------------------------------


def test_headings_come_from_ingest_else_from_the_body_lines() -> None:
    assert heading_spans(_article("T", "Body text.")) is None  # ingest found none: the body's lines are looked at
    article = _article("T", "Body.\nMarket Outlook\nText.")
    article.headings = [Heading(text="Market Outlook", start=6)]
    assert heading_spans(article) == [(6, 20)]
    assert heading_like_lines("Market Outlook\nShares fell on Monday, traders said.\nWhat Comes Next") == [
        (0, 14),
        (52, 67),
    ]


def test_an_unknown_name_filling_a_heading_line_is_not_a_name(linker: Linker) -> None:
    body = "Harvest Outlook\nFarmers in the valley expect a smaller crop after the late frost, the council said."
    assert not any(m.mention.text.startswith("Harvest") for m in linker.link_mentions("Frost", body))


# -- other languages -----------------------------------------------------------------------------------------


def test_another_language_gets_known_names_only_and_says_so(worker: EntityLinkWorker) -> None:
    body = (
        "Am Montag erklärte die Regierung in Berlin, dass Bauer Schmidt und die Firma Lindenholz neue "
        "Verträge unterschreiben. Die Europäische Union prüft den Plan."
    )
    [linked] = worker.process(_article("Neue Verträge", body, language="de"))
    ids = {e.id for e in linked.entities}  # type: ignore[attr-defined]
    assert "Q64" in ids  # Berlin, a name the KB knows
    assert all(not e.id.startswith("nf:") for e in linked.entities)  # type: ignore[attr-defined]
    assert linked.enrichments["entity_link"] == {
        "status": UNSUPPORTED_LANGUAGE,
        "language": "de",
        "mode": "dictionary",
    }


def test_unspaced_chinese_gets_dictionary_matches(linker: Linker) -> None:
    known = [
        key
        for key, weights in linker.kb.aliases.items()
        if key.startswith("北京") and any(id_ == "Q956" for id_, _ in weights)
    ]
    assert known, "the KB should hold Beijing's Chinese name"
    body = f"今天{known[0]}的天气很好。"
    linked = linker.link_known("", body)
    assert [(m.entity_id, m.mention.text) for m in linked] == [("Q956", known[0])]


def test_english_text_is_still_recognised(worker: EntityLinkWorker) -> None:
    body = "Lanternfield Capital said on Monday that its chief executive would step down next year."
    [linked] = worker.process(_article("Chief to step down", body, language="en"))
    assert "entity_link" not in linked.enrichments
    assert any(e.id.startswith("nf:org:lanternfield") for e in linked.entities)  # type: ignore[attr-defined]
