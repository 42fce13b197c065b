"""Property-based checks of the message contract and of what the stages do with hostile input (no server).

* Every valid event survives the wire: dumped to JSON and read back, it is the same event.
* Any batch, however hostile, is settled message by message by the stage runtime:
  each invalid message becomes one dead letter with a reason and its original,
  every valid one reaches the worker, and the runtime never raises.
* Valid messages carrying hostile text go through ingest, enrich and entity-link:
  each gives a valid next event that fits a message, or a ``PermanentError``;
  never another exception (which the runtime would retry as if it were transient).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from faststream.nats import NatsBroker, TestNatsBroker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.msg import Msg

from services.enrich.app import EnrichWorker
from services.enrich.app import create_worker as enrich_worker
from services.enrich.settings import EnrichSettings
from services.entity_link.app import EntityLinkWorker
from services.entity_link.app import create_worker as link_worker
from services.entity_link.settings import EntityLinkSettings
from services.ingest.app import create_worker as ingest_worker
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError
from shared.messages import (
    ALL_EVENTS,
    MAX_MESSAGE_BYTES,
    ArticleEnriched,
    ArticleFields,
    ArticleIngested,
    ArticleLinked,
    ArticleT,
    DeadLettered,
    DocumentSubmitted,
    Entity,
    Model,
    Sentiment,
    Source,
    TopicScore,
)
from shared.settings import ServiceSettings
from shared.stage import Outcome, PerItemWorker
from shared.stage.runtime import StageRuntime
from shared.topology import Topology
from tests.chaos.hostile import POISON, STAGES, hostile_messages, is_valid, json_values, valid_message
from tests.support import offline_outcomes

UNIT = Topology("unit")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

# -- every valid event survives the wire ---------------------------------------------------------
text = st.text(max_size=200)
finite = st.floats(allow_nan=False, allow_infinity=False)
moments = st.datetimes(
    min_value=datetime(1900, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=4)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": text,
    "body": st.text(max_size=2000),
    "content": st.none() | text,
    "hints": json_objects,
    "metadata": json_objects,
    "enrichments": json_objects,
    "published_at": st.none() | moments,
    "ingested_at": moments,
    "submitted_at": moments,
    "at": moments,
    "language_confidence": st.none() | finite,
    "sentiment": st.none() | st.builds(Sentiment, score=st.floats(-1, 1)),
    "topics": st.lists(st.builds(TopicScore, key=text, score=finite), max_size=3),
    "keywords": st.lists(text, max_size=5),
    "entities": st.lists(
        st.builds(
            Entity,
            id=text,
            name=text,
            handle=text,
            spans=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=3),
        ),
        max_size=3,
    ),
    "source": st.builds(Source, name=text, domain=st.none() | text, verified=st.none() | st.booleans()),
    "original_headers": st.dictionaries(text, text, max_size=3),
}


def events(model: type[Model]) -> st.SearchStrategy[Model]:
    """Instances of an event with every field we have a strategy for filled in, the rest inferred."""
    known = {name: strategy for name, strategy in FIELD_VALUES.items() if name in model.model_fields}
    return st.builds(model, **known)


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda model: model.__name__)
@FAST
@given(data=st.data())
def test_every_valid_event_reads_back_as_itself(model: type[Model], data: st.DataObject) -> None:
    event = data.draw(events(model))
    assert model.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_float_that_json_cannot_carry_is_refused_when_the_event_is_built(value: float) -> None:
    # JSON has no NaN or infinity: pydantic would write null, and the next stage would refuse the message.
    with pytest.raises(ValueError):
        TopicScore(key="technology", score=value)


# -- any batch is settled message by message --------------------------------------------------------
class RecordingWorker(PerItemWorker):
    """Takes every valid message and publishes nothing: what reached it is what it saw."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        self.seen.extend(items)
        return [[] for _ in items]


async def settle(stage: str, payloads: list[bytes]) -> tuple[list[Any], list[tuple[DeadLettered, int]]]:
    """One batch through the stage runtime on the in-memory broker: what reached the worker, and the
    dead letters with the size of each on the wire."""
    broker = NatsBroker(apply_types=False)
    letters: list[tuple[DeadLettered, int]] = []

    @broker.subscriber(UNIT.dead_letter_subject(stage), stream=UNIT.stream)
    async def dead(body: dict[str, Any]) -> None:  # the in-memory broker hands over decoded JSON
        letter = DeadLettered.model_validate(body)
        letters.append((letter, len(letter.model_dump_json().encode())))

    worker = RecordingWorker()
    runtime = StageRuntime(
        settings=ServiceSettings(namespace="unit"), spec=UNIT.stage(stage), worker=worker, broker=broker, topology=UNIT
    )
    messages = [Msg(_client=None, subject=UNIT.inbox(stage), data=data) for data in payloads]  # type: ignore[arg-type]
    async with TestNatsBroker(broker):
        await runtime.handle_batch(messages)
    return worker.seen, letters


@pytest.mark.parametrize("stage", STAGES)
@FAST
@given(data=st.data())
async def test_any_batch_is_settled_message_by_message(stage: str, data: st.DataObject) -> None:
    hostile = data.draw(st.lists(hostile_messages(stage), max_size=8), label="hostile")
    valid = [valid_message(stage, f"m{number}")[0] for number in range(data.draw(st.integers(0, 3), label="valid"))]
    batch = data.draw(st.permutations(hostile + valid), label="batch")
    seen, letters = await settle(stage, batch)
    assert len(seen) == len(valid)
    assert sorted(letter.original for letter, _ in letters) == sorted(p.decode("utf-8", "replace") for p in hostile)
    for letter, size in letters:
        assert (letter.stage, letter.reason, letter.kind, letter.attempts) == (stage, "validation", "permanent", 1)
        assert letter.error and size <= MAX_MESSAGE_BYTES


@pytest.mark.parametrize("poison", sorted(POISON))
async def test_a_poison_message_is_dead_lettered_within_the_limit_and_its_batch_goes_through(poison: str) -> None:
    valid = [valid_message("ingest", f"beside-{number}")[0] for number in range(2)]
    assert not is_valid("ingest", POISON[poison])
    seen, letters = await settle("ingest", [valid[0], POISON[poison], valid[1]])
    assert len(seen) == 2
    [(letter, size)] = letters
    assert letter.reason == "validation" and size <= MAX_MESSAGE_BYTES
    assert letter.original_truncated == (poison == "invalid_near_the_size_limit")


# -- valid messages with hostile text go through the workers --------------------------------------
hostile_text = st.text(st.characters(codec="utf-8"), max_size=3000) | st.text(
    st.sampled_from(["\x00", "\u202e", "\ufeff", "\u0301", " ", "\n", ".", "A", "Z", "'", "-", "é", "山"]), max_size=500
)


@pytest.fixture(scope="module")
def enrich() -> EnrichWorker:
    return enrich_worker(EnrichSettings())


@pytest.fixture(scope="module")
def entity_link() -> EntityLinkWorker:
    return link_worker(EntityLinkSettings())


def next_event(outputs: list[ArticleFields], produces: type[ArticleT]) -> ArticleT:
    """The one event a worker produced, checked the way the next stage will read it."""
    [output] = outputs
    wire = output.model_dump_json().encode()
    assert len(wire) <= MAX_MESSAGE_BYTES
    return produces.model_validate_json(wire)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["text", "markdown", "html", "record"]),
    title=hostile_text,
    body=hostile_text,
)
def test_hostile_text_goes_through_every_worker_or_is_refused_with_a_reason(
    enrich: EnrichWorker, entity_link: EntityLinkWorker, kind: str, title: str, body: str
) -> None:
    submission = DocumentSubmitted(
        submission_id="fuzz",
        kind=kind,  # type: ignore[arg-type]
        content=None if kind == "record" else body,
        hints={"title": title, "body": body} if kind == "record" else {},
    )
    [ingested] = asyncio.run(offline_outcomes(ingest_worker(IngestSettings()), submission))
    if isinstance(ingested, Exception):
        assert isinstance(ingested, PermanentError) and ingested.reason
        return
    for article in ingested:
        enriched = next_event(enrich.process(next_event([article], ArticleIngested)), ArticleEnriched)
        next_event(entity_link.process(enriched), ArticleLinked)
