"""The shared stage runtime on FastStream's in-memory broker (no server).

What is checked here is routing and settlement decisions; redelivery, acks and
dead-letter durability are checked against the real server in tests/integration.
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker, TestNatsBroker
from nats.aio.msg import Msg

from services.ingest.app import create_worker
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError
from shared.messages import ArticleIngested, DeadLettered, DocumentSubmitted
from shared.settings import ServiceSettings
from shared.stage import PerItemWorker
from shared.stage.runtime import StageRuntime
from shared.topology import Topology

TOPOLOGY = Topology("unit")


def _message(data: bytes) -> Msg:
    return Msg(_client=None, subject=TOPOLOGY.inbox("ingest"), data=data)  # type: ignore[arg-type]


def _record(number: int) -> bytes:
    submission = DocumentSubmitted(
        submission_id=f"s{number}", kind="record", hints={"title": f"Title {number}", "body": f"Body number {number}."}
    )
    return submission.model_dump_json().encode()


async def _run(worker: Any, *payloads: bytes) -> tuple[list[ArticleIngested], list[DeadLettered]]:
    broker = NatsBroker(apply_types=False)
    published: list[ArticleIngested] = []
    letters: list[DeadLettered] = []

    @broker.subscriber(TOPOLOGY.inbox("enrich"), stream=TOPOLOGY.stream)
    async def downstream(body: dict[str, Any]) -> None:  # the in-memory broker hands over decoded JSON
        published.append(ArticleIngested.model_validate(body))

    @broker.subscriber(TOPOLOGY.dead_letter_subject("ingest"), stream=TOPOLOGY.stream)
    async def dead(body: dict[str, Any]) -> None:
        letters.append(DeadLettered.model_validate(body))

    settings = ServiceSettings(namespace="unit")
    runtime = StageRuntime(
        settings=settings, spec=TOPOLOGY.stage("ingest"), worker=worker, broker=broker, topology=TOPOLOGY
    )
    async with TestNatsBroker(broker):
        await runtime.handle_batch([_message(payload) for payload in payloads])
    return published, letters


async def test_valid_messages_go_downstream_with_provenance() -> None:
    published, letters = await _run(create_worker(IngestSettings()), _record(1), _record(2))
    assert [article.title for article in published] == ["Title 1", "Title 2"]
    assert published[0].provenance.stamps[-1].service == "ingest"
    assert published[0].provenance.fields["body"].stage == "ingest"
    assert letters == []


async def test_a_bad_message_is_dead_lettered_without_stopping_its_batch() -> None:
    published, letters = await _run(create_worker(IngestSettings()), _record(1), b"{not json", _record(3))
    assert [article.title for article in published] == ["Title 1", "Title 3"]
    assert len(letters) == 1
    assert letters[0].reason == "validation" and letters[0].original == "{not json"
    assert letters[0].stage == "ingest" and letters[0].subject == TOPOLOGY.inbox("ingest")


async def test_unknown_schema_version_is_refused_with_a_reason() -> None:
    future = _record(1).replace(b'"schema_version":1', b'"schema_version":99')
    published, letters = await _run(create_worker(IngestSettings()), future)
    assert published == []
    assert "schema_version" in letters[0].error


class _RefusesEverything(PerItemWorker):
    def process(self, item: Any) -> list[Any]:
        raise PermanentError("refused", f"no thanks to {item.submission_id}")


async def test_permanent_errors_are_dead_lettered_with_the_workers_reason() -> None:
    published, letters = await _run(_RefusesEverything(), _record(7))
    assert published == []
    assert (letters[0].reason, letters[0].error, letters[0].kind) == ("refused", "no thanks to s7", "permanent")
