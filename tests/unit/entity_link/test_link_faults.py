"""Faults seen on the sample corpus, each on a story written for these tests: common words and months taken
for places, acronyms, names missing from the KB, "Mars", "Apple" the fruit, and text in unspaced scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.entity_link.linker import LinkedMention, Linker, unknown_name_type
from services.entity_link.mentions import MAX_MENTION_CHARS, MAX_MENTION_TOKENS, Mention
from services.entity_link.ner.conll import Document, Sentence
from services.entity_link.ner.features import Featurizer
from services.entity_link.ner.tagger import Tagger
from services.entity_link.ner.train import common_words
from services.entity_link.text import looks_like_name, tokenize
from tests.unit.entity_link.lookup import entity_at, entity_or_none_at


def linked_at(linker: Linker, title: str, body: str, text: str) -> LinkedMention | None:
    """What the mention starting where ``text`` first occurs in ``body`` was linked to (None: no mention)."""
    start = body.index(text)
    found = [m for m in linker.link_mentions(title, body) if not m.mention.in_title and m.mention.start == start]
    return found[0] if found else None


def linked_ids(linker: Linker, title: str, body: str) -> dict[str, str]:
    """Each mention's text and what it was linked to (the last mention of a text wins)."""
    return {m.mention.text: m.entity_id for m in linker.link_mentions(title, body)}


# -- 1. common words and month names are not places ---------------------------------------------------------


def test_a_common_word_opening_a_sentence_is_no_place(linker: Linker) -> None:
    body = (
        "The riders set off at dawn. Cool, dry weather along the coast road helped the leaders keep a high pace, "
        "and the winner crossed the line in Porto just after noon."
    )
    assert linked_at(linker, "Coastal stage ends in a sprint", body, "Cool") is None
    porto = linked_at(linker, "Coastal stage ends in a sprint", body, "Porto")
    assert porto is not None and porto.type == "LOC"


def test_months_and_weekdays_are_no_places(linker: Linker) -> None:
    body = (
        "The carmaker expects an operating profit of 2 trillion yen in the year ending in March. It will report "
        "quarterly results on Friday in Tokyo, and said in May that sales in Europe had slowed."
    )
    entities = linker.link_text("Carmaker lifts forecast", body)
    for word in ("March", "Friday", "May"):
        assert entity_or_none_at(entities, body, word) is None, word
    assert entity_at(entities, body, "Tokyo").type == "LOC"


# -- 2. an all-caps acronym amid lower-case text is the organisation it abbreviates ---------------------------


def test_amd_is_the_chip_company_not_the_town(linker: Linker) -> None:
    body = (
        "Nvidia will take most of the new packaging capacity, and AMD is expected to book the rest for its "
        "accelerator chips next year, the foundry said."
    )
    amd = linked_at(linker, "Foundry adds chip packaging lines", body, "AMD")
    assert amd is not None and (amd.entity_id, amd.type) == ("Q128896", "ORG")


def test_a_name_in_a_shouted_headline_is_no_acronym(linker: Linker) -> None:
    # Five letters or fewer, so the acronym rule's length test alone would not rule it out.
    body = "TENNIS - KANE WINS IN ROME . Rome 2026-05-10 Luc Kane won the final in straight sets on Sunday."
    kane = linked_at(linker, "", body, "KANE")
    assert kane is not None and kane.type == "PER"  # a surname in capitals, not an organisation's acronym


# -- 3. big names the lists miss, and the type of names the KB does not know ----------------------------------


@pytest.mark.parametrize(
    ("name", "qid"), [("Netflix", "Q907311"), ("Pixar", "Q127552"), ("NASA", "Q23548"), ("TSMC", "Q713418")]
)
def test_names_the_lists_miss_come_from_the_overlay(linker: Linker, name: str, qid: str) -> None:
    body = f"On Thursday {name} said that demand had never been higher, and its shares rose in late trading."
    found = linked_at(linker, "Results beat forecasts", body, name)
    assert found is not None and (found.entity_id, found.type) == (qid, "ORG")


def test_unknown_company_names_and_storms_are_no_people(linker: Linker) -> None:
    body = (
        "Ferries stopped on Monday as Typhoon Marisol reached the coast. Aid was sent by Sunny Foundation, and "
        "Pellorin, who runs it, said more would follow."
    )
    entities = linker.link_text("Storm makes landfall", body)
    assert entity_at(entities, body, "Typhoon Marisol").type == "EVENT"
    assert entity_at(entities, body, "Sunny Foundation").type == "ORG"
    assert entity_at(entities, body, "Pellorin").type == "PER"


def test_an_unknown_acronym_is_an_organisation_even_if_the_recogniser_says_person() -> None:
    acronym = Mention(0, 4, "QVRT", "PER", 1.0, in_title=False, sentence_start=False, acronym=True)
    shouted = Mention(0, 7, "SHEARER", "PER", 1.0, in_title=False, sentence_start=False, acronym=False)
    assert (unknown_name_type(acronym), unknown_name_type(shouted)) == ("ORG", "PER")


# -- 4. "Mars": the planet in a space story, the confectioner in a story about sweets -------------------------


def test_mars_is_the_planet_in_a_space_story(linker: Linker) -> None:
    body = (
        "The agency said its rover had passed a series of landing tests. Engineers hope the spacecraft will reach "
        "Mars in 2031 and drill below the surface of the planet for samples."
    )
    mars = linked_at(linker, "Rover clears landing tests", body, "Mars")
    assert mars is not None and (mars.entity_id, mars.type) == ("Q111", "LOC")


def test_mars_is_the_company_in_a_confectionery_story(linker: Linker) -> None:
    body = (
        "The chocolate maker said sales of its snack bars fell in the quarter as cocoa costs climbed. Mars, which "
        "also sells pet food, said it would raise prices for its sweets in Europe next month."
    )
    mars = linked_at(linker, "Confectioner raises prices", body, "Mars")
    assert mars is not None and (mars.entity_id, mars.type) == ("Q695087", "ORG")


# -- 5. "Apple" the fruit is no company; in a tech story it still is --------------------------------------------


def test_apple_growers_are_not_apple_inc(linker: Linker) -> None:
    fruit_in_lower_case = (
        "Apple farmers in the valley expect a small harvest after a late frost. Prices for dessert apples could "
        "rise by a fifth, the growers' association said."
    )
    produce_noun = "Apple orchards on the lower slopes lost most of their blossom. Pear trees fared better."
    for body in (fruit_in_lower_case, produce_noun):
        assert all(m.entity_id != "Q312" for m in linker.link_mentions("Frost hits the valley's orchards", body))


def test_apple_is_still_the_company_in_a_tech_story(linker: Linker) -> None:
    body = (
        "Apple said its new laptop chip was twice as fast as the last one. The company also cut the price of "
        "its tablet, and analysts said Apple was defending its market share."
    )
    for text in ("Apple said", "Apple was"):
        apple = linked_at(linker, "Apple unveils a faster chip", body, text)
        assert apple is not None and apple.entity_id == "Q312"


# -- 6. scripts without spaces, and runaway mentions -----------------------------------------------------------


def test_unspaced_scripts_split_into_characters_and_never_look_like_names() -> None:
    text = "Nvidia的芯片 サムスン 삼성"
    words = [text[a:b] for a, b in tokenize(text)]
    assert words[0] == "Nvidia"
    assert all(len(word) == 1 for word in words[1:])
    assert not any(looks_like_name(word) for word in words[1:])
    assert looks_like_name("iPhone") and looks_like_name("Ωmega") and not looks_like_name("αβγ")


def test_chinese_text_gives_no_huge_mention(linker: Linker) -> None:
    body = "新模型周三发布，价格下调。DeepSeek和百度也在开发类似的模型，Nvidia的芯片仍然紧缺。" * 3
    for item in linker.link_mentions("新模型发布", body):
        assert len(item.mention.text) <= MAX_MENTION_CHARS
        assert all(not ("\u4e00" <= char <= "\u9fff") for char in item.mention.text)


def test_a_latin_article_with_a_few_cjk_characters_still_links(linker: Linker) -> None:
    body = (
        "Alibaba (阿里巴巴) said on Monday that its cloud unit would cut prices in Hangzhou, where the company "
        "is based. Analysts at Nomura said the move would pressure Baidu (百度)."
    )
    ids = {m.entity_id for m in linker.link_mentions("Alibaba cuts cloud prices", body)}
    assert {"Q1359568", "Q4970", "Q14772"} <= ids


def test_recognised_names_are_bounded(linker: Linker) -> None:
    body = "Officials said " + " ".join(f"Northgate{n}" for n in range(3 * MAX_MENTION_TOKENS)) + " agreed."
    for item in linker.link_mentions("", body):
        assert len(item.mention.text.split()) <= MAX_MENTION_TOKENS
        assert len(item.mention.text) <= MAX_MENTION_CHARS


# -- 7. today's news: AI labs, wire datelines, clubs named by their towns -------------------------------------


def test_the_labs_racing_to_bigger_models_are_linked(linker: Linker) -> None:
    body = (
        "Apple, Baidu and DeepSeek are all training models with more than a trillion parameters, executives "
        "said on Tuesday. Google and Microsoft spent billions on chips last quarter."
    )
    ids = linked_ids(linker, "The race to trillion-parameter AI models", body)
    assert (ids["Apple"], ids["Baidu"], ids["DeepSeek"]) == ("Q312", "Q14772", "Q131577453")


def test_a_wire_dateline_with_an_agency_credit_names_the_place_it_was_filed_from(linker: Linker) -> None:
    body = (
        "HANGZHOU, China (Reuters) - DeepSeek said on Monday its newest model matched rivals at a fraction of the "
        "training cost, and Baidu said it would open its own model to developers."
    )
    found = {m.mention.text: m for m in linker.link_mentions("", body)}
    assert found["China"].mention.locative and found["China"].entity_id == "Q148"
    assert (found["DeepSeek"].entity_id, found["Baidu"].entity_id) == ("Q131577453", "Q14772")
    credit_in_prose = "Analysts at the bank said Portugal (Reuters) - no dateline."
    portugal = linked_at(linker, "", credit_in_prose, "Portugal")
    assert portugal is not None and not portugal.mention.locative


def test_two_names_joined_by_and_are_two_mentions(linker: Linker) -> None:
    body = (
        '"We are not behind anyone," a Baidu spokesperson said on Thursday, days after DeepSeek and Apple showed '
        "assistants that answer questions about photos."
    )
    names = [m.mention.text for m in linker.link_mentions("", body)]
    assert "DeepSeek" in names and "Apple" in names and "DeepSeek and Apple" not in names
    whole = "Talks between Bosnia and Herzegovina and its neighbours resumed."  # one name the KB holds whole
    assert "Bosnia and Herzegovina" in [m.mention.text for m in linker.link_mentions("", whole)]


def test_a_club_is_named_by_its_town_in_a_result_and_the_town_is_the_town_elsewhere(linker: Linker) -> None:
    result = (
        "Norwich beat Ipswich 2-1 at Carrow Road on Saturday, the striker scoring twice in the second half of "
        "the league match. Leeds drew 0-0 with Sheffield Wednesday."
    )
    clubs = linked_ids(linker, "", result)
    assert (clubs["Norwich"], clubs["Ipswich"], clubs["Leeds"]) == ("Q18721", "Q9653", "Q1128631")
    home = "She grew up in Norwich and later moved to Leeds, where she opened a bakery near the station."
    towns = linked_ids(linker, "", home)
    assert (towns["Norwich"], towns["Leeds"]) == ("Q130191", "Q39121")


# -- the recogniser's common words: learnt from training text, stored as hashes --------------------------------


def test_common_words_are_the_ones_written_mostly_in_lower_case(tmp_path: Path) -> None:
    sentences = [
        Sentence(["The", "weather", "stayed", "cool", "and", "the", "March", "rally", "went", "ahead"], []),
        Sentence(["Cool", "air", "arrived", "in", "March", ",", "a", "cool", "month"], []),
        Sentence(["It", "was", "cool", "again", "before", "the", "march"], []),
    ]
    tagger = Tagger.empty(Featurizer(8, {}))
    tagger.common_words = common_words([Document(sentences)])
    assert tagger.is_common_word("Cool") and tagger.is_common_word("cool")
    assert not tagger.is_common_word("March")  # once in lower case, twice capitalised inside a sentence
    assert not tagger.is_common_word("Porto")
    tagger.save(tmp_path / "ner.npz")
    assert Tagger.load(tmp_path / "ner.npz", {}).is_common_word("COOL")
