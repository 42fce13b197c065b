"""Hostile messages, shared by the contract fuzz (tests/unit/shared/test_contract_fuzz.py) and the
hostile-input tests against the real server (tests/integration/test_hostile_messages.py).

``hostile_messages(stage)`` draws bytes that a stage's inbox must refuse: random
bytes, arbitrary JSON, a valid message with one field dropped, retyped or added
or another schema version, and a valid message with invalid UTF-8 inside.
``POISON`` holds inputs that once broke the stage runtime's own dead-lettering
(issue 7: a RecursionError, a lone surrogate, a letter over the message limit),
left the whole batch unsettled and so lost the valid messages beside them;
dedicated tests keep them as regressions.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from pydantic import ValidationError

from services.ingest.extract.articles import article_from_submission
from shared.messages import DocumentSubmitted, Source
from shared.topology import Topology

PIPELINE = Topology()
STAGES = tuple(PIPELINE.stage_names)
SURROGATE_IN_UTF8 = b"\xed\xa0\x80"  # U+D800 encoded as if UTF-8 allowed it
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xc0\xaf", SURROGATE_IN_UTF8]
POISON = {
    "deeply_nested_json": b"[" * 100_000,
    "surrogate_in_article_id": b'{"article_id": "' + SURROGATE_IN_UTF8 + b'x"}',
    # Invalid, and its dead letter holds it JSON-escaped at twice its size: over the stream's 4 MB limit.
    "invalid_near_the_size_limit": b'"' * (3 * 1024 * 1024),
}


def valid_message(stage: str, marker: str) -> tuple[bytes, str]:
    """A valid message for the stage's inbox, and the id of the article it is or becomes."""
    body = f"Valid message {marker}. The harbour authority in Rotterdam approved the new quay on Monday."
    if stage == "ingest":
        submission = DocumentSubmitted(
            submission_id=marker,
            kind="record",
            hints={"title": f"Valid {marker}", "body": body, "url": f"https://valid.example.test/{marker}"},
        )
        return submission.model_dump_json().encode(), article_from_submission(submission).article_id
    model = PIPELINE.stage(stage).consumes
    fields = {"article_id": f"valid-{marker}", "title": f"Valid {marker}", "body": body, "source": Source(name="test")}
    if "cluster_id" in model.model_fields:  # an indexed article has its story
        fields["cluster_id"] = f"valid-{marker}"
    article = model.model_validate(fields)
    return article.model_dump_json().encode(), f"valid-{marker}"


def is_valid(stage: str, data: bytes) -> bool:
    try:
        PIPELINE.stage(stage).consumes.model_validate_json(data)
    except ValidationError:
        return False
    return True


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def mutations_of(message: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The message with one field dropped, retyped or added, or another schema version."""
    keys = sorted(message)
    dropped = st.sampled_from(keys).map(lambda key: {k: v for k, v in message.items() if k != key})
    retyped = st.tuples(st.sampled_from(keys), json_values).map(lambda kv: {**message, kv[0]: kv[1]})
    added = st.tuples(st.text(min_size=1, max_size=12).filter(lambda k: k not in message), json_values).map(
        lambda kv: {**message, kv[0]: kv[1]}
    )
    versions = st.integers().filter(lambda v: v != 1).map(lambda v: {**message, "schema_version": v})
    return st.one_of(dropped, retyped, added, versions)


def with_invalid_utf8(data: bytes) -> st.SearchStrategy[bytes]:
    return st.tuples(st.integers(0, len(data)), st.sampled_from(INVALID_UTF8)).map(
        lambda at: data[: at[0]] + at[1] + data[at[0] :]
    )


def hostile_messages(stage: str) -> st.SearchStrategy[bytes]:
    valid, _ = valid_message(stage, "template")
    candidates = st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
        mutations_of(json.loads(valid)).map(lambda value: json.dumps(value).encode()),
        with_invalid_utf8(valid),
    )
    return candidates.filter(lambda data: not is_valid(stage, data))
