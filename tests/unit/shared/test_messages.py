from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from shared.messages import ArticleEnriched, ArticleIngested, FieldSource, Signature, promote
from shared.signature import NUM_PERM, band_keys, pack_minhash
from tests.factories import linked

VALUES = np.arange(7, 7 + NUM_PERM, dtype=np.uint32) * 2_654_435_761


def test_a_signature_travels_as_one_packed_string_and_derives_its_band_keys() -> None:
    signature = Signature(minhash=pack_minhash(VALUES))
    wire = json.loads(signature.model_dump_json())
    assert list(wire) == ["minhash"] and isinstance(wire["minhash"], str)
    assert len(wire["minhash"]) < len(json.dumps(VALUES.tolist())) / 2
    assert list(Signature.model_validate_json(signature.model_dump_json()).values) == VALUES.tolist()
    assert signature.band_keys == band_keys(VALUES)


def test_the_unpacked_form_written_before_is_still_read() -> None:
    old = {"lsh_bands": band_keys(VALUES), "minhash": VALUES.tolist()}
    assert Signature.model_validate_json(json.dumps(old)) == Signature(minhash=pack_minhash(VALUES))


@pytest.mark.parametrize("packed", ["not base64!", "AAAAAAA=", "AAE="])
def test_a_minhash_that_is_not_packed_uint32_values_is_refused_at_the_door(packed: str) -> None:
    with pytest.raises(ValidationError, match="minhash"):
        Signature.model_validate_json(json.dumps({"minhash": packed}))


def test_promote_gives_each_new_field_a_fresh_default() -> None:
    article = ArticleIngested.model_validate(
        linked("p").model_dump(include=set(ArticleIngested.model_fields) - {"event"})
    )
    first, second = promote(article, ArticleEnriched), promote(article, ArticleEnriched)
    first.keywords.append("changed")
    assert second.keywords == [] and first.event == "ArticleEnriched"
    assert first.provenance is not article.provenance


def test_a_field_source_names_its_stage_and_model_and_leaves_the_code_version_to_the_stamps() -> None:
    written_before = FieldSource.model_validate_json('{"stage": "enrich", "version": "0.1", "model": "abc"}')
    assert json.loads(written_before.model_dump_json()) == {"stage": "enrich", "model": "abc"}
