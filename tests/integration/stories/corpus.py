"""A small corpus written for the story tests (no publisher's text): retellings of one event in
different words, a different event of the same kind in the same days, and a third event told twice
in ways a fuller telling later bridges. Run through the pipeline's own stage code up to entity_link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cli.inprocess import articles_of
from shared.messages import ArticleLinked, DocumentSubmitted

DAY = datetime(2026, 11, 17, 6, tzinfo=UTC)

# key: (outlet, hours after DAY, title, body)
TEXTS: dict[str, tuple[str, float, str, str]] = {
    "quake-chile-wire": (
        "Andes Wire",
        0,
        "Magnitude 7.1 earthquake shakes central Chile, two dead in Valparaíso",
        "A magnitude 7.1 earthquake struck off the coast of central Chile before dawn on Tuesday, the national "
        "seismology centre said. Buildings swayed for almost a minute in Santiago. In the port city of Valparaíso "
        "two people died when an old adobe house collapsed, and 43 were treated for injuries. The navy issued a "
        "tsunami alert for the coast and lifted it two hours later. President Gabriel Boric flew to Valparaíso "
        "to meet rescue crews.",
    ),
    "quake-chile-daily": (
        "Pacific Daily",
        3,
        "Powerful quake rattles Santiago; Valparaíso counts its dead",
        "Chileans ran into the streets in the early hours after a powerful 7.1 tremor hit offshore, centred west "
        "of Valparaíso. Two residents of the historic port were killed under the rubble of their home and 43 "
        "needed hospital care, officials said. Gabriel Boric, who travelled to the city, praised the firefighters. "
        "A short-lived tsunami warning sent coastal families uphill before the navy called it off.",
    ),
    "quake-chile-brief": (
        "Global Brief",
        7,
        "Chile: deadly 7.1 tremor, tsunami alert lifted",
        "Two people were killed in Valparaíso when a 7.1-magnitude earthquake hit central Chile on Tuesday. "
        "Chile's navy lifted a tsunami alert; President Boric visited the damaged port.",
    ),
    "quake-peru-wire": (
        "Andes Wire",
        26,
        "Magnitude 6.2 earthquake hits southern Peru near Arequipa",
        "A magnitude 6.2 earthquake struck southern Peru on Wednesday afternoon, centred 60 kilometres from "
        "Arequipa, Peru's geophysical institute said. A colonial church in the Colca valley lost part of its bell "
        "tower and landslides cut a mountain road. No deaths were reported; 12 people had minor injuries. "
        "Schools in Arequipa sent pupils home as a precaution.",
    ),
    "quake-peru-times": (
        "Lima Times",
        29,
        "Arequipa tremor damages Colca church, cuts road",
        "The 6.2 quake that shook the Arequipa region on Wednesday left a crack in the bell tower of a colonial "
        "church in the Colca valley and buried a stretch of mountain road under rock, the geophysical institute "
        "and local officials reported. Twelve people were slightly hurt; nobody died.",
    ),
    "ecb-cut-wire": (
        "Euro Markets Wire",
        0,
        "ECB cuts deposit rate to 1.75% as euro-zone inflation cools",
        "The European Central Bank lowered its deposit rate by a quarter point to 1.75% on Thursday, its first "
        "move since the summer, citing inflation of 1.9% in the euro zone. Christine Lagarde told reporters in "
        "Frankfurt that the governing council was united and that further steps would depend on the data.",
    ),
    "ecb-cut-ledger": (
        "Frankfurt Ledger",
        1,
        "Lagarde: rate cut to 1.75% was unanimous",
        "Christine Lagarde said the European Central Bank's governing council agreed unanimously to cut the "
        "deposit rate to 1.75%, as euro-zone inflation eased to 1.9%. Speaking in Frankfurt, the ECB president "
        "declined to promise more cuts and said decisions would be taken meeting by meeting.",
    ),
    "ecb-cut-review": (
        "Continental Review",
        4,
        "European Central Bank cuts deposit rate to 1.75%; Lagarde says council was unanimous",
        "The European Central Bank cut its deposit rate by a quarter point to 1.75% on Thursday as inflation in "
        "the euro zone eased to 1.9%. In Frankfurt, Christine Lagarde said the governing council had agreed "
        "unanimously and that further cuts would depend on the data, decided meeting by meeting.",
    ),
}


def linked_corpus() -> dict[str, ArticleLinked]:
    """The corpus through the real stages up to entity_link, by key."""
    submissions = []
    for key, (outlet, hours, title, body) in TEXTS.items():
        hints = {
            "title": title,
            "body": body,
            "source": outlet,
            "url": f"https://{outlet.lower().replace(' ', '-')}.example/{key}",
            "published_at": (DAY + timedelta(hours=hours)).isoformat(),
        }
        submissions.append(DocumentSubmitted(submission_id=key, kind="record", hints=hints))
    articles = articles_of(submissions, "entity_link")
    assert all(isinstance(article, ArticleLinked) for article in articles) and len(articles) == len(TEXTS)
    return {
        key: ArticleLinked.model_validate(article.model_dump()) for key, article in zip(TEXTS, articles, strict=True)
    }
