"""The linker with the bundled knowledge base, overlay and recogniser, on stories written for these tests."""

from __future__ import annotations

from services.entity_link.app import EntityLinkWorker
from services.entity_link.linker import Linker
from shared.messages import ArticleEnriched, ArticleLinked, Entity, Source
from tests.unit.entity_link.lookup import entity_at


def by_id(entities: list[Entity]) -> dict[str, Entity]:
    return {e.id: e for e in entities}


POLICY = (
    "Officials in Washington said on Monday that the new export controls on advanced chips would take effect "
    "next month. Washington has pressed allies to adopt similar rules, and the Commerce Department said the "
    "sanctions target companies that help Beijing acquire restricted technology. Lawmakers in Congress welcomed "
    "the policy, while trade negotiators warned of tariffs in return."
)
TRAVEL = (
    "A long weekend in Washington can be spent almost entirely on foot. Visitors start at the museums along the "
    "Mall, where entry is free, then walk to the restaurants of the city's older neighbourhoods. Hotels near the "
    "river fill quickly in spring, when tourists arrive for the cherry blossom festival."
)


def test_washington_is_the_government_in_a_policy_story(linker: Linker) -> None:
    entities = linker.link_text("Washington tightens chip export rules", POLICY)
    assert entity_at(entities, POLICY, "Washington has").id == "Q48525"


def test_washington_is_the_city_in_a_travel_story(linker: Linker) -> None:
    entities = linker.link_text("Three days in the capital", TRAVEL)
    assert entity_at(entities, TRAVEL, "Washington").id == "Q61"


def test_washington_is_the_government_when_a_message_is_sent_to_it(linker: Linker) -> None:
    body = (
        "The new model is partly a message to Washington, that the export curbs and sanctions have not stopped "
        "the labs. Officials said the rules would be reviewed."
    )
    assert entity_at(linker.link_text("Chip curbs", body), body, "Washington").id == "Q48525"


def test_washington_is_the_city_when_travelling_to_it_or_in_a_dateline(linker: Linker) -> None:
    trip = "We were flying to Washington for the festival, and the hotels near the museums were full of tourists."
    assert entity_at(linker.link_text("A spring break", trip), trip, "Washington").id == "Q61"
    policy = (
        "WASHINGTON — The administration tightened export controls on chips on Tuesday, officials said. "
        "Washington has pressed allies to adopt the rules and sanctions."
    )
    entities = linker.link_text("Rules tightened", policy)
    assert entity_at(entities, policy, "WASHINGTON").id == "Q61"  # where the story was filed
    assert entity_at(entities, policy, "Washington has").id == "Q48525"


def test_words_that_open_a_sentence_are_not_names(linker: Linker) -> None:
    body = (
        "As with its earlier phones, Lumora shipped the device without a charger. Until now the company sold only "
        "in Europe. Most buyers ordered online."
    )
    starts = {start for entity in linker.link_text("Lumora ships a folding phone", body) for start, _ in entity.spans}
    assert starts.isdisjoint({body.index("As"), body.index("Until"), body.index("Most")})
    assert body.index("Lumora") in starts


def test_meta_the_company_but_not_the_word(linker: Linker) -> None:
    company = (
        "Meta said on Wednesday it would bring its smart glasses to more countries next year. The company, which "
        "owns Facebook and Instagram, expects sales of the devices to double."
    )
    word = (
        "Players say the meta of the game has shifted since the last patch: the strongest strategy now is to "
        "defend early. Online forums are full of guides to the new meta."
    )
    assert entity_at(linker.link_text("Meta expands smart glasses", company), company, "Meta").id == "Q380"
    assert not [e for e in linker.link_text("How the game changed", word) if "meta" in e.name.lower()]


def test_alibaba_group_holding_and_alibaba_are_one_entity(linker: Linker) -> None:
    body = (
        "Alibaba Group Holding reported higher quarterly revenue on Thursday. Alibaba said growth in its cloud unit "
        "offset weaker spending by shoppers, and Alibaba's shares rose in Hong Kong."
    )
    entities = linker.link_text("Alibaba revenue beats forecasts", body)
    alibaba = by_id(entities)["Q1359568"]
    assert alibaba.mentions == 4  # three in the body, one in the title
    assert len(alibaba.spans) == 3
    assert [body[a:b] for a, b in alibaba.spans] == ["Alibaba Group Holding", "Alibaba", "Alibaba"]
    assert alibaba.handle == "alibabagroup"


def test_apple_is_the_company_in_a_tech_story(linker: Linker) -> None:
    body = (
        "Apple unveiled a thinner iPhone on Tuesday and said its new processor would make the device faster. "
        "Analysts expect the technology company to ship more phones this quarter."
    )
    apple = entity_at(linker.link_text("Apple unveils a thinner phone", body), body, "Apple")
    assert (apple.id, apple.type) == ("Q312", "ORG")


def test_overlay_models_and_unknown_names(linker: Linker) -> None:
    body = (
        "DeepSeek released DeepSeek-V4 on Friday, and Alibaba answered with a cheaper Qwen-3-Max. Analysts at "
        "Donghai Securities and at Brightwater Partners said the price war would widen."
    )
    entities = linker.link_text("Chinese labs cut prices", body)
    assert entity_at(entities, body, "DeepSeek-V4").id == "nf:product:deepseek-v4"
    assert entity_at(entities, body, "Qwen-3-Max").id == "nf:product:qwen3-max"
    assert entity_at(entities, body, "DeepSeek released").id == "Q131577453"  # only the KB saw a name there
    assert entity_at(entities, body, "Donghai Securities").id == "nf:org:donghai-securities"
    unknown = entity_at(entities, body, "Brightwater Partners")
    assert unknown.id == "nf:org:brightwater-partners" and unknown.handle == "brightwaterpartners"


def test_spans_salience_and_counts(linker: Linker) -> None:
    body = (
        "Toyota raised its profit forecast on Wednesday. Later in the day, a supplier in Nagoya said it had hired "
        "more staff.\n\n" + "The results were in line with expectations. " * 12 + "Toyota shares rose."
    )
    entities = linker.link_text("Toyota raises forecast", body)
    for entity in entities:
        assert all(body[a:b] for a, b in entity.spans)
        assert 0.0 <= entity.salience <= 1.0 and 0.0 <= entity.confidence <= 1.0
    toyota = entity_at(entities, body, "Toyota raised")
    nagoya = entity_at(entities, body, "Nagoya")
    assert toyota.mentions == 3 and toyota.salience > nagoya.salience


def test_worker_never_reads_metadata_for_entities(worker: EntityLinkWorker) -> None:
    article = ArticleEnriched(
        article_id="a1",
        title="Rain expected",
        body="Forecasters expect rain across Lisbon this weekend.",
        source=Source(name="test"),
        metadata={"topic": "Nvidia earnings", "related": "Samsung Electronics"},
    )
    (linked,) = worker.process(article)
    assert isinstance(linked, ArticleLinked)
    names = {e.name for e in linked.entities}
    assert "Nvidia" not in names and "Samsung Electronics" not in names
    assert any(e.type == "LOC" and "Lisbon" in e.name for e in linked.entities)
    assert worker.field_sources["entities"]  # the KB and recogniser version behind every link
