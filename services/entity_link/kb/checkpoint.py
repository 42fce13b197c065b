"""Checkpoints of a dump build, so an interrupted build carries on where it stopped.

A build of a full Wikidata dump reads for hours; a Ctrl-C, a kill or a power
cut must not cost them. The build stages the entities it keeps in a plain
file beside the output, and every so often syncs it and writes a checkpoint:
how many dump lines were consumed, how long the staged file was at that
moment, and the counts so far. The checkpoint is written to a temporary file
and renamed over the old one, so it is always a whole checkpoint, never half
of one. A resumed build cuts the staged file back to the recorded length and
skips the consumed lines (a compressed dump is still decompressed to skip
them, but nothing is parsed), so it writes exactly what an uninterrupted
build would.

A checkpoint names the dump (file name, size and a digest of its first MiB,
not its mtime, so a copied dump still resumes) and the options; one written
for another dump or other options is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.entity_link.kb.wikidata_dump import DumpOptions, DumpStats

CHECKPOINT_VERSION = 1
_HEAD_BYTES = 1 << 20


class CheckpointMismatch(ValueError):
    """A checkpoint exists for this output, but for another dump or other options."""


@dataclass
class Checkpoint:
    dump: dict[str, Any]  # which dump: dump_identity()
    options: dict[str, Any]  # asdict(DumpOptions), lists for tuples as JSON gives them back
    lines: int  # dump lines consumed
    position: int  # bytes of the dump file (as stored) read by then, for progress
    staged_bytes: int  # length of the staged file holding exactly those lines' entities
    stats: DumpStats = field(default_factory=DumpStats)
    streamed: bool = False  # the whole dump was read; only the final artifact is left to write


@dataclass(frozen=True)
class BuildFiles:
    """Where a build to ``out`` keeps its work in progress: beside the output, on the same disk."""

    out: Path

    @property
    def checkpoint(self) -> Path:
        return self.out.with_name(self.out.name + ".checkpoint.json")

    @property
    def staged(self) -> Path:
        return self.out.with_name(self.out.name + ".staged.tsv")

    @property
    def unfinished_out(self) -> Path:
        # The output's own name (gzip writes it into the file) in a folder of its own; moved into place when whole.
        return self.out.parent / f".{self.out.name}.unfinished" / self.out.name

    def remove(self) -> None:
        for path in (self.checkpoint, self.staged, self.unfinished_out):
            path.unlink(missing_ok=True)
        if self.unfinished_out.parent.exists():
            self.unfinished_out.parent.rmdir()


def dump_identity(dump: Path) -> dict[str, Any]:
    with dump.open("rb") as head:
        digest = hashlib.sha256(head.read(_HEAD_BYTES)).hexdigest()
    return {"name": dump.name, "bytes": dump.stat().st_size, "head_sha256": digest}


def options_facts(options: DumpOptions) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(json.dumps(asdict(options)))
    return facts


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump({"version": CHECKPOINT_VERSION, **asdict(checkpoint)}, file, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    # The rename itself is durable only once the directory is synced.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_checkpoint(path: Path, dump: dict[str, Any], options: dict[str, Any]) -> Checkpoint | None:
    """The checkpoint of an earlier build of this dump with these options, or None if there is none."""
    if not path.exists():
        return None
    facts = json.loads(path.read_text(encoding="utf-8"))
    if facts.pop("version", None) != CHECKPOINT_VERSION:
        raise CheckpointMismatch(f"{path} was written by another version of this build; start over with --fresh")
    differences = [
        f"{key}.{name} is {facts[key].get(name)!r} there, {value!r} here"
        for key, expected in (("dump", dump), ("options", options))
        for name, value in expected.items()
        if facts[key].get(name) != value
    ]
    if differences:
        raise CheckpointMismatch(
            f"{path} belongs to another build ({'; '.join(differences)}): "
            "run with the same dump and options to resume it, or with --fresh to discard it and start over"
        )
    stats = DumpStats(**facts.pop("stats"))
    return Checkpoint(**facts, stats=stats)
