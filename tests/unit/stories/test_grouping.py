"""The story model's pure parts: profiles, pair features, the single-pass grouping, merges, the
story document (original, outlets) and the shipped model's contract with the code."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.stories.documents import Story
from services.stories.features import FEATURES, ArticleProfile, StoryProfile, pair_features
from services.stories.grouping import StoryMemory, choose, group
from services.stories.model import StoryModel
from shared.background import BackgroundFrequencies
from shared.messages import Entity
from tests.factories import entity, linked

BACKGROUND = BackgroundFrequencies.load()
T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
VOLCANO = entity("nf:loc:mount-orrin", "Mount Orrin", kind="LOC")
ISLAND = entity("nf:loc:tarvel-island", "Tarvel Island", kind="LOC")
MINISTER = entity("nf:per:ada-kessel", "Ada Kessel", kind="PER")


def profile(
    article_id: str, title: str, body: str, *entities: Entity, hours: float = 0, source: str = "Outlet"
) -> ArticleProfile:
    published = T0 + timedelta(hours=hours)
    article = linked(article_id, title=title, body=body, entities=entities, published_at=published, source=source)
    return ArticleProfile.of(article, BACKGROUND)


ERUPTION = profile(
    "eruption-wire",
    "Mount Orrin erupts, 3,200 evacuated from Tarvel Island",
    "Mount Orrin erupted on Thursday, sending an ash column 9 kilometres high; 3,200 residents of Tarvel Island "
    "were evacuated by ferry, minister Ada Kessel said.",
    VOLCANO,
    ISLAND,
    MINISTER,
)
RETELLING = profile(
    "eruption-digest",
    "Ferries carry 3,200 from Tarvel Island as Orrin volcano blows",
    "Ash rose 9 kilometres over Tarvel Island after the Orrin volcano blew on Thursday. Ada Kessel said ferries "
    "had carried 3,200 islanders to the mainland.",
    VOLCANO,
    ISLAND,
    MINISTER,
    hours=3,
    source="Digest",
)
OTHER_NEWS = profile(
    "budget",
    "Parliament passes the harbour budget",
    "Members of parliament approved the harbour budget on Friday after a long debate about dredging costs.",
    hours=5,
)
MODEL = StoryModel.load()


def test_a_retelling_is_more_alike_than_other_news() -> None:
    story = StoryProfile("s")
    story.add(ERUPTION)
    assert MODEL.probability(pair_features(RETELLING, story)) > 0.5
    assert MODEL.probability(pair_features(OTHER_NEWS, story)) < 0.1


def test_a_clear_winner_joins_where_a_close_race_does_not() -> None:
    """The join weighs how far the best story leads: the same pairwise score joins when no other story
    comes close, and starts a story of its own when a second one scores as well."""
    best = 0.5
    assert MODEL.join_probability(best, runner_up=0.01) >= MODEL.join > MODEL.join_probability(best, runner_up=best)
    assert MODEL.join_probability(0.9, runner_up=0.01) > MODEL.join_probability(0.5, runner_up=0.01)


def test_no_lead_makes_a_story_join_that_is_more_likely_not_the_articles() -> None:
    """In a quiet stream an article leads unrelated stories by far: below a pairwise 0.5 that lead counts
    for nothing (two chip-maker stories on the same companies stay apart); above it, it does."""
    assert MODEL.join_probability(0.45, runner_up=None) == MODEL.join_probability(0.45, runner_up=0.01) == 0.0
    assert MODEL.join_probability(0.6, runner_up=None) >= MODEL.join


def test_entities_named_differently_still_meet_through_their_names() -> None:
    """One outlet's linker knew the minister (a QID), another's kept a local id for her surname alone:
    the ids differ, the words of the names do not."""
    story = StoryProfile("s")
    story.add(
        profile(
            "wire", "Kessel orders evacuation", "Ada Kessel ordered the evacuation.", entity("Q990001", "Ada Kessel")
        )
    )
    surname = profile("digest", "Minister acts", "Kessel acted.", entity("nf:per:kessel", "Kessel", kind="PER"))
    stranger = profile("other", "Minister acts", "Borin acted.", entity("nf:per:borin", "Borin", kind="PER"))
    names = FEATURES.index("entity_names")
    assert pair_features(surname, story)[FEATURES.index("entities")] == 0.0
    assert pair_features(surname, story)[names] > 0.5
    assert pair_features(stranger, story)[names] == 0.0


def test_one_pass_groups_the_retelling_and_keeps_other_news_apart() -> None:
    placed = group([ERUPTION, RETELLING, OTHER_NEWS], MODEL)
    assert placed["eruption-digest"] == placed["eruption-wire"] == "eruption-wire"
    assert placed["budget"] == "budget"


def test_an_article_outside_the_window_starts_its_own_story() -> None:
    late = replace(RETELLING, at=RETELLING.at + (MODEL.window_days + 2) * 86_400)
    memory = StoryMemory()
    story = StoryProfile("eruption-wire")
    story.add(ERUPTION)
    memory.put(story)
    assert choose(late, memory, MODEL).story_id is None
    assert choose(RETELLING, memory, MODEL).story_id == "eruption-wire"


def test_an_article_that_fits_two_stories_bridges_them_into_the_first_seen() -> None:
    eager = replace(MODEL, merge=0.5)  # bridges at a pairwise probability the shipped model would only join at
    memory = StoryMemory()
    for article in (ERUPTION, RETELLING):  # two stories of one event, as two replicas could start them
        story = StoryProfile(article.article_id)
        story.add(article)
        memory.put(story)
    bridge = profile(
        "eruption-review",
        "Mount Orrin erupts: ferries carry 3,200 from Tarvel Island",
        "Mount Orrin erupted on Thursday; ash rose 9 kilometres and ferries carried 3,200 residents of Tarvel "
        "Island to the mainland, Ada Kessel said.",
        VOLCANO,
        ISLAND,
        MINISTER,
        hours=4,
    )
    choice = choose(bridge, memory, eager)
    assert {choice.story_id, *choice.bridged} == {"eruption-wire", "eruption-digest"}


def test_the_credited_outlet_is_the_original_else_the_earliest() -> None:
    story = Story(StoryProfile("s"))
    copy = linked("copy", title="Copy", source="Aggregator", published_at=T0, original_source="Island Herald")
    report = linked("report", title="Report", source="Island Herald", published_at=T0 + timedelta(hours=2))
    story.add(copy, ArticleProfile.of(copy, BACKGROUND))
    assert story.original.article_id == "copy"  # nobody credits the aggregator; it is the earliest
    story.add(report, ArticleProfile.of(report, BACKGROUND))
    document = story.document()
    assert (document["original_article_id"], document["headline"]) == ("report", "Report")
    assert (document["member_count"], document["outlets"]) == (2, ["Aggregator", "Island Herald"])


def test_a_stored_story_reads_back_as_it_was_written() -> None:
    story = Story(StoryProfile("s"))
    article = linked("a", title=ERUPTION.article_id, body="Mount Orrin erupted.", entities=(VOLCANO,), published_at=T0)
    story.add(article, ArticleProfile.of(article, BACKGROUND))
    hit = {"_id": "s", "_source": json.loads(json.dumps(story.document())), "_seq_no": 4, "_primary_term": 1}
    read = Story.from_hit(hit)
    assert read.document() | {"updated_at": None} == story.document() | {"updated_at": None}
    assert (read.seq_no, read.primary_term) == (4, 1)


def test_a_model_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    fitted = json.loads(MODEL.to_json())
    fitted["features"] = [*FEATURES, "something_else"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(fitted))
    with pytest.raises(ValueError, match="fitted on features"):
        StoryModel.load(path)
