from __future__ import annotations

import json

import pytest
from faststream import FastStream

from services._template.app import STAGE, STAGE_SPEC, ReadabilityWorker, create_app, create_worker
from services._template.enrichment import readability
from services._template.settings import ReadabilitySettings
from shared.messages import ArticleEnriched, Provenance, Source, Stamp
from shared.topology import Topology


def _article(body: str, language: str | None = "en") -> ArticleEnriched:
    return ArticleEnriched(
        article_id="a1",
        title="A title",
        body=body,
        source=Source(name="Test Outlet"),
        language=language,
        enrichments={"earlier": "kept"},
        provenance=Provenance(stamps=[Stamp(service="enrich", version="0")]),
    )


@pytest.fixture
def worker() -> ReadabilityWorker:
    return create_worker(ReadabilitySettings())


def test_process_adds_one_key_and_names_it_as_its_field(worker: ReadabilityWorker, easy_text: str) -> None:
    incoming = _article(easy_text)
    [outgoing] = worker.process(incoming)
    assert isinstance(outgoing, ArticleEnriched)
    assert set(outgoing.enrichments) == {"earlier", STAGE}
    expected = readability(easy_text)
    assert expected is not None
    assert outgoing.enrichments[STAGE] == expected.as_json()
    # The runtime records, from field_sources, that this stage wrote the key.
    assert worker.field_sources == {f"enrichments.{STAGE}": None}
    # Everything else is carried through untouched, and the incoming message is not modified.
    assert outgoing.model_dump(exclude={"enrichments"}) == incoming.model_dump(exclude={"enrichments"})
    assert set(incoming.enrichments) == {"earlier"}


def test_scores_survive_the_wire_with_their_json_types(worker: ReadabilityWorker, hard_text: str) -> None:
    [outgoing] = worker.process(_article(hard_text))
    assert ArticleEnriched.model_validate_json(outgoing.model_dump_json()) == outgoing
    # The index types each field from its JSON value, so a whole-number float must not arrive as an int.
    sent = json.loads(outgoing.model_dump_json())["enrichments"][STAGE]
    scored = readability(hard_text)
    assert scored is not None
    assert {key: type(value) for key, value in sent.items()} == {
        key: type(value) for key, value in scored.as_json().items()
    }


@pytest.mark.parametrize("language", ["de", None])
def test_articles_in_other_or_unknown_languages_pass_through_unscored(
    worker: ReadabilityWorker, easy_text: str, language: str | None
) -> None:
    [outgoing] = worker.process(_article(easy_text, language))
    assert STAGE not in outgoing.enrichments


def test_a_body_without_words_passes_through_unscored(worker: ReadabilityWorker) -> None:
    [outgoing] = worker.process(_article("2026-11-20 09:00"))
    assert STAGE not in outgoing.enrichments


def test_only_the_opening_sample_is_scored(easy_text: str, hard_text: str) -> None:
    sampling = create_worker(ReadabilitySettings(sample_chars=len(easy_text)))
    [outgoing] = sampling.process(_article(f"{easy_text} {hard_text}"))
    opening = readability(easy_text)
    assert opening is not None and outgoing.enrichments[STAGE] == opening.as_json()


def test_settings_read_their_own_prefix_and_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_READABILITY_LANGUAGES", '["en", "fr"]')
    monkeypatch.setenv("NEWSFLOW_READABILITY_SAMPLE_CHARS", "500")
    monkeypatch.setenv("NEWSFLOW_NATS_URL", "nats://shared:4222")
    settings = ReadabilitySettings()
    assert (settings.languages, settings.sample_chars, settings.nats_url) == (["en", "fr"], 500, "nats://shared:4222")


def test_the_stage_fits_between_enrich_and_entity_link() -> None:
    pipeline = Topology()
    assert STAGE_SPEC.name == STAGE
    enrich_output = pipeline.stage("enrich").produces
    assert enrich_output is not None and issubclass(enrich_output, STAGE_SPEC.consumes)
    assert STAGE_SPEC.produces is not None and issubclass(STAGE_SPEC.produces, pipeline.stage("entity_link").consumes)


def test_create_app_builds_the_stage_from_a_topology_that_has_it() -> None:
    pipeline = Topology().pipeline
    names = [spec.name for spec in pipeline]
    if STAGE not in names:  # the line a developer adds to shared/topology.py
        after_enrich = names.index("enrich") + 1
        pipeline = (*pipeline[:after_enrich], STAGE_SPEC, *pipeline[after_enrich:])
    app = create_app(ReadabilitySettings(), Topology("unit", pipeline=pipeline))
    assert isinstance(app, FastStream)
