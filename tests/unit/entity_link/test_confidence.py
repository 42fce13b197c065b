"""The link confidence model: a calibrated probability per link, and links withheld below its threshold.

Stories are written for these tests; the model is the bundled one (``data/link_confidence.json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.entity_link.confidence import EVIDENCE, ConfidenceModel
from services.entity_link.context import SPORT, story_kinds
from services.entity_link.disambiguation import ArticleEntities, kin_of
from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.kb.overlay import apply_overlay, parse_overlay
from services.entity_link.linker import LOCAL_PREFIX, Linker
from services.entity_link.settings import DEFAULT_CONFIDENCE
from services.entity_link.text import fold


def test_the_bundled_model_reads_the_evidence_the_linker_computes() -> None:
    model = ConfidenceModel.load(DEFAULT_CONFIDENCE)
    assert model.weights.shape == (len(EVIDENCE),)
    assert 0.0 < model.threshold < 1.0


def test_a_model_fitted_on_other_evidence_is_refused(tmp_path: Path) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text('{"features": ["popularity"], "weights": [1.0], "bias": 0.0, "threshold": 0.5}')
    with pytest.raises(ValueError, match="refit"):
        ConfidenceModel.load(stale)


def test_probability_and_trust_follow_the_weights(tmp_path: Path) -> None:
    weights = np.zeros(len(EVIDENCE))
    weights[EVIDENCE.index("popularity")] = 4.0
    model = ConfidenceModel(weights, -2.0, 0.5, {"fitted_by": "test"})
    model.save(tmp_path / "m.json")
    loaded = ConfidenceModel.load(tmp_path / "m.json")
    obscure, popular = [0.0] * len(EVIDENCE), [0.0] * len(EVIDENCE)
    popular[EVIDENCE.index("popularity")] = 0.9
    assert loaded.probability(obscure) < 0.5 < loaded.probability(popular)
    assert not loaded.trusts(loaded.probability(obscure)) and loaded.trusts(loaded.probability(popular))


def test_every_link_carries_evidence_and_a_probability(linker: Linker) -> None:
    body = "The European Central Bank kept rates on hold on Thursday, and its president said inflation was easing."
    links = [m for m in linker.link_mentions("Rates on hold", body) if m.entity_id.startswith("Q")]
    assert links
    for item in links:
        assert len(item.evidence) == len(EVIDENCE) and 0.0 <= item.confidence <= 1.0


def test_an_obscure_namesake_is_withheld_but_a_famous_one_kept(linker: Linker) -> None:
    """A one-word name that is mostly a person's, matched to a hamlet of that name, is no link worth giving."""
    body = (
        "Speaking after the vote, Albright told reporters the alliance would stand together. Officials in Paris "
        "and Berlin welcomed the statement."
    )
    linked = {m.mention.text: m.entity_id for m in linker.link_mentions("Allies meet", body)}
    assert linked["Paris"] == "Q90" and linked["Berlin"] == "Q64"
    assert "Albright" not in linked or not linked["Albright"].startswith("Q")


def _strict_linker(linker: Linker, kb: KnowledgeBase) -> Linker:
    """A linker over ``kb`` whose model doubts every link but the surest (only popularity counts)."""
    weights = np.zeros(len(EVIDENCE))
    weights[EVIDENCE.index("popularity")] = 10.0
    return Linker(kb, linker.finder.tagger, confidence=ConfidenceModel(weights, -9.0, 0.5, {}))


def test_a_doubted_link_is_withheld_and_the_name_keeps_a_local_id(linker: Linker) -> None:
    kb = KnowledgeBase(
        [
            KBEntity("Q900001", "Harbourview Holdings", "ORG", prior=0.1, kind="company"),
            KBEntity("Q900003", "Tessaly Group", "ORG", prior=0.99, kind="company"),
        ]
    )
    body = "Shares of Harbourview Holdings fell on Monday, while Tessaly Group said its profit rose."
    linked = {m.mention.text: m for m in _strict_linker(linker, kb).link_mentions("", body)}
    harbourview, tessaly = linked["Harbourview Holdings"], linked["Tessaly Group"]
    assert harbourview.entity_id.startswith(LOCAL_PREFIX)
    assert tessaly.entity_id == "Q900003" and tessaly.confidence > 0.5


def test_the_operator_s_names_are_never_withheld(linker: Linker) -> None:
    """A name the overlay gives is the operator's word, however weak the other evidence."""
    kb = KnowledgeBase([KBEntity("Q900001", "Harbourview Holdings", "ORG", prior=0.1, kind="company")])
    apply_overlay(kb, parse_overlay({"entities": [{"id": "Q900002", "name": "Tessaly Labs", "type": "ORG"}]}))
    assert [c.vouched for c in kb.lookup("Harbourview Holdings")] == [False]
    assert [c.vouched for c in kb.lookup("Tessaly Labs")] == [True]
    body = "Tessaly Labs and Harbourview Holdings signed the deal on Monday."
    linked = {m.mention.text: m.entity_id for m in _strict_linker(linker, kb).link_mentions("", body)}
    assert linked["Tessaly Labs"] == "Q900002" and linked["Harbourview Holdings"].startswith(LOCAL_PREFIX)


def test_a_league_table_is_a_sports_story_whatever_its_columns_of_figures() -> None:
    rows = " ".join(f"Northgate {n} 3 1 0 {n + 2} 4 10" for n in range(30))
    table = f"SOCCER - LEAGUE STANDINGS . Standings after the weekend's matches : {rows}"
    assert SPORT in story_kinds(fold(table).split(), table)


def test_the_country_closing_a_wire_dateline_is_the_place_not_its_team(linker: Linker) -> None:
    body = (
        "VALDORIA , Portugal 2031-05-17 A late goal gave the visitors a 2-1 win in the qualifier, and the "
        "striker said the team had earned the points after a poor first half."
    )
    portugal = [m for m in linker.link_mentions("", body) if m.mention.text == "Portugal"]
    assert portugal and portugal[0].mention.locative
    assert portugal[0].entity_id in ("Q45", "nf:loc:portugal")  # the country, or nothing: never the team


def test_peers_count_the_article_s_other_entities_of_the_same_kin() -> None:
    lab = KBEntity(id="Q1", name="Nimbus Labs", type="ORG", kind="lab")
    firms = [KBEntity(id=f"Q{n}", name=f"Firm {n}", type="ORG", kind="company") for n in (2, 3)]
    club = KBEntity(id="Q4", name="Ardmore Rovers", type="ORG", kind="sports_club")
    chosen = ArticleEntities([lab, *firms, club])
    assert chosen.peers(lab, lab) == pytest.approx(2 / 3)  # a lab is a business among businesses, itself aside
    assert chosen.peers(club, club) == 0.0
    assert kin_of(club) == kin_of(KBEntity(id="Q5", name="Ardmore", type="ORG", kind="national_team")) == "team"
