"""The contract as files: JSON Schema of every message and an AsyncAPI 3.0
document per stage, generated from the code into ``contract/``.

    python -m shared.contract write   # regenerate (make contract)
    python -m shared.contract check   # exit 1 if the files differ from the code

A unit test runs the check, so a contract change always shows as a diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream.nats import NatsBroker, PullSub
from faststream.specification import AsyncAPI

from shared.messages import ALL_EVENTS, SCHEMA_VERSION, DeadLettered
from shared.topology import Topology

CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"


def documented_broker(topology: Topology, stage: str) -> NatsBroker:
    """A never-connected broker that declares what a stage reads and writes, for AsyncAPI.

    The stage runtime pulls with its own loop (see shared.stage), so the running
    broker has no subscriber to document; this one mirrors the topology instead.
    """
    spec = topology.stage(stage)
    broker = NatsBroker(apply_types=False)

    async def consume(body: Any) -> None:
        raise RuntimeError("documentation only")

    consume.__annotations__["body"] = spec.consumes
    broker.subscriber(
        topology.inbox(stage),
        stream=topology.stream,
        durable=topology.durable(stage),
        pull_sub=PullSub(batch=True),
        title=stage,
        description=f"{stage}: a durable pull consumer of {spec.consumes.__name__} (explicit ack)",
    )(consume)
    outbox = topology.outbox(stage)
    if outbox and spec.produces is not None:
        broker.publisher(outbox, schema=spec.produces, title=f"{stage} output")
    broker.publisher(topology.dead_letter_subject(stage), schema=DeadLettered, title=f"{stage} dead letters")
    return broker


def _render(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    files = {f"schemas/{model.__name__}.json": _render(model.model_json_schema()) for model in ALL_EVENTS}
    topology = Topology()
    for stage in topology.stage_names:
        # The contract is versioned by its schema, not by the code: a commit that leaves the messages
        # alone leaves these files alone.
        spec = AsyncAPI(documented_broker(topology, stage), title=f"newsflow {stage}", version=str(SCHEMA_VERSION))
        files[f"asyncapi/{stage}.json"] = _render(json.loads(spec.to_specification().to_json()))
    return files


def main(command: str) -> int:
    files = generated()
    if command == "write":
        for relative, text in files.items():
            path = CONTRACT_DIR / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        print(f"wrote {len(files)} files under {CONTRACT_DIR}")
        return 0
    stale = [
        rel
        for rel, text in files.items()
        if not (CONTRACT_DIR / rel).exists() or (CONTRACT_DIR / rel).read_text() != text
    ]
    for relative in stale:
        print(f"contract/{relative} differs from the code: run `make contract` and commit the diff")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "check"))
