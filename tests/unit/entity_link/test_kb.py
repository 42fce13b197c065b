import bz2
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from services.entity_link.kb.build import build_from_dump
from services.entity_link.kb.entity import KBEntity, read_artifact, read_facts, write_artifact
from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.kb.matcher import AliasMatcher
from services.entity_link.kb.overlay import OverlayError, apply_overlay, parse_overlay
from services.entity_link.kb.sources import (
    clean_aliases,
    merge_duplicate_organisations,
    prefer_cities_to_same_named_regions,
)
from services.entity_link.kb.wikidata_dump import DumpOptions

SAMPLE_DUMP = Path(__file__).parent / "data" / "wikidata-dump-sample.json"


def entity(id_: str, name: str, type_: str = "ORG", **fields: object) -> KBEntity:
    return KBEntity(id=id_, name=name, type=type_, **fields)  # type: ignore[arg-type]


def test_artifact_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = entity(
        "Q1", "Tab\tCo", prior=0.42, kind="company", country="CN", aliases=("T Co",), related=("Q2",), also=("Q3",)
    )
    for suffix in (".tsv.xz", ".tsv.gz"):
        path = tmp_path / f"kb{suffix}"
        write_artifact(path, [original], {"source": "test"})
        (back,) = read_artifact(path)
        assert back.name == "Tab Co"  # tabs cannot survive in TSV
        assert (back.prior, back.kind, back.country, back.aliases, back.related, back.also) == (
            0.42, "company", "CN", ("T Co",), ("Q2",), ("Q3",)
        )  # fmt: skip
        assert read_facts(path) == {"source": "test"}


def test_clean_aliases_drops_match_tags_foreign_scripts_and_qualifiers() -> None:
    kept = clean_aliases("Apple Inc.", ["Apple (United States)", "private", "苹果", "Apple Inc.", "AAPL", "x"])
    assert kept == ("Apple", "AAPL")


def test_duplicate_organisations_fold_into_the_older_item() -> None:
    entities = {
        e.id: e
        for e in (entity("Q30273328", "Alibaba Group", country="CN"), entity("Q1359568", "Alibaba Group", country="CN"))
    }
    redirects = merge_duplicate_organisations(entities)
    assert redirects == {"Q30273328": "Q1359568"}
    assert list(entities) == ["Q1359568"] and entities["Q1359568"].also == ("Q30273328",)


def test_matcher_finds_whole_names_only_and_skips_lower_case_words() -> None:
    matcher = AliasMatcher([("us", 0), ("alibaba", 1), ("alibaba group holding", 2), ("qwen3 max", 3), ("meta", 4)])
    text = "US business: ALIBABA's unit Alibaba Group Holding ships Qwen-3-Max; the meta shifts."
    found = {(text[m.start : m.end], m.group) for m in matcher.find(text)}
    assert found == {
        ("US", 0), ("ALIBABA", 1), ("Alibaba", 1), ("Alibaba Group Holding", 2), ("Qwen-3-Max", 3)
    }  # fmt: skip


def test_overlay_adds_merges_aliases_and_blocks() -> None:
    kb = KnowledgeBase([entity("Q30273328", "Alibaba Group", aliases=("Qwen",)), entity("Q95", "Google")])
    overlay = parse_overlay(
        {
            "entities": [{"id": "Q1359568", "name": "Alibaba Group", "type": "ORG", "aliases": ["Alibaba"]}],
            "merge": {"Q30273328": "Q1359568"},
            "aliases": {"Q95": [{"name": "Alphabet", "weight": 0.4}]},
            "block": [{"alias": "Qwen", "id": "Q1359568"}, {"alias": "AI"}],
        }
    )
    apply_overlay(kb, overlay)
    assert [c.entity.id for c in kb.lookup("Alibaba")] == ["Q1359568"]
    assert kb.get("Q30273328") is kb.get("Q1359568")
    assert kb.lookup("Qwen") == []
    assert [(c.entity.id, c.weight) for c in kb.lookup("Alphabet")] == [("Q95", 0.4)]
    assert kb.is_blocked("ai")


def test_overlay_refuses_an_alias_for_an_unknown_entity() -> None:
    with pytest.raises(OverlayError):
        apply_overlay(KnowledgeBase(), parse_overlay({"aliases": {"Q404": ["Nobody"]}}))


def test_an_overlay_entity_without_id_gets_a_stable_local_id() -> None:
    kb = KnowledgeBase()
    apply_overlay(kb, parse_overlay({"entities": [{"name": "Donghai Securities", "type": "ORG"}]}))
    assert [c.entity.id for c in kb.lookup("donghai securities")] == ["nf:org:donghai-securities"]


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
def test_dump_build_keeps_typed_items_with_enough_sitelinks(
    tmp_path: Path, compress: Callable[[bytes], bytes] | None
) -> None:
    dump = tmp_path / "dump.json"
    raw = SAMPLE_DUMP.read_bytes()
    if compress is gzip.compress:
        dump = dump.with_suffix(".json.gz")
    elif compress is bz2.compress:
        dump = dump.with_suffix(".json.bz2")
    dump.write_bytes(compress(raw) if compress else raw)
    report = build_from_dump(dump, tmp_path / "kb.tsv.gz", DumpOptions(min_sitelinks=5))
    kept = {e.id: e for e in read_artifact(tmp_path / "kb.tsv.gz")}
    # The village (1 sitelink), the concept (unknown class) and the unlabelled item are left out.
    assert set(kept) == {"Q900001", "Q900002", "Q900003", "Q900004", "Q900005"}
    assert report.entities == 5 and report.dump_lines == 10  # 8 items between "[" and "]"
    assert [kept[q].type for q in sorted(kept)] == ["LOC", "LOC", "PER", "ORG", "PRODUCT"]
    assert kept["Q900002"].country == "FD"  # the country item's ISO code, learnt on the way
    assert kept["Q900004"].aliases == ("Marxco",) and "Q900002" in kept["Q900004"].related
    assert kept["Q900001"].prior > kept["Q900005"].prior


def test_dump_build_threshold_is_an_option(tmp_path: Path) -> None:
    report = build_from_dump(SAMPLE_DUMP, tmp_path / "kb.tsv.gz", DumpOptions(min_sitelinks=10))
    assert report.entities == 2  # Freedonia (40) and Sylvania City (12)


def test_a_city_outranks_the_region_named_after_it_but_a_hamlet_does_not() -> None:
    entities = {
        e.id: e
        for e in (
            entity("Q1", "Leeds", "LOC", kind="state", country="GB", prior=0.55),
            entity("Q2", "Leeds", "LOC", kind="city", country="GB", prior=0.5),
            entity("Q3", "California", "LOC", kind="state", country="US", prior=0.6),
            entity("Q4", "California", "LOC", kind="city", country="US", prior=0.2),
        )
    }
    assert prefer_cities_to_same_named_regions(entities) == 1
    assert entities["Q2"].prior > entities["Q1"].prior
    assert entities["Q4"].prior < entities["Q3"].prior


def test_acronyms_match_dotted_and_famous_people_their_surname() -> None:
    kb = KnowledgeBase(
        [
            entity("Q1065", "United Nations", aliases=("UN",), prior=0.9),
            entity("Q2866", "Alexander Lukashenko", "PER", prior=0.7),
            entity("Q9", "Jane Backbencher", "PER", prior=0.2),
        ]
    )
    assert [c.entity.id for c in kb.lookup("U.N.")] == ["Q1065"]
    assert [(c.entity.id, c.weight) for c in kb.lookup("Lukashenko")] == [("Q2866", 0.4)]
    assert kb.lookup("Backbencher") == []
