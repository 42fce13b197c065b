"""Building the knowledge-base artifact, from the shared lists or from a Wikidata dump.

python -m cli.kb build                       # the bundled artifact
python -m cli.kb build --wikidata-dump latest-all.json.gz --out kb-full.tsv.gz   # see the README for time and memory
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.entity_link.kb.checkpoint import (
    BuildFiles,
    Checkpoint,
    CheckpointMismatch,
    dump_identity,
    load_checkpoint,
    options_facts,
    save_checkpoint,
)
from services.entity_link.kb.entity import ArtifactWriter, KBEntity, read_artifact, write_artifact
from services.entity_link.kb.more import (
    add_titles,
    confirm_with,
    merge_unconfirmed_towns,
    name_teams_by_their_places,
    read_more,
)
from services.entity_link.kb.sources import (
    merge_duplicate_organisations,
    merge_same_id,
    prefer_cities_to_same_named_regions,
    raise_model_developers,
    read_lists,
    resolve_related,
)
from services.entity_link.kb.wikidata_dump import DumpOptions, DumpReader, DumpStats, entity_from_line, open_dump

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED_KB = DATA_DIR / "kb.tsv.xz"
# Relative to the repository root, where the team's data sets sit beside the repo.
DEFAULT_SHARED_DATA = Path("../shared/data")

LIST_ATTRIBUTION = [
    "wikidata-entities: dr5hn/countries-states-cities-database (ODbL 1.0), hearvox/wiki-media-cred (CC0), "
    "unitedstates/congress-legislators (CC0)",
    "kb-extra: ROR (CC0), Name Suggestion Index (BSD-3-Clause), Epoch AI (CC BY 4.0), supraverden and "
    "world-leaders-current (CC BY-SA 4.0), every-politician / Wikidata query output (CC0)",
    "kb-more: FB15k-237 entity2wikidata (MIT; Wikidata CC0), Wikitrivia queries (MIT; Wikidata CC0), "
    "DW-NB DBpedia titles (MIT; CC BY-SA)",
    "Wikidata (CC0) for identifiers, labels and aliases",
]
DUMP_ATTRIBUTION = ["Wikidata JSON dump (CC0)"]


@dataclass
class BuildReport:
    artifact: str
    entities: int
    seconds: float
    bytes: int
    by_type: dict[str, int] = field(default_factory=dict)
    redirects: int = 0
    dump_lines: int = 0
    dump_bytes: int = 0
    resumed_from_line: int = 0

    @property
    def entities_per_second(self) -> float:
        return self.entities / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        facts = asdict(self)
        facts["entities_per_second"] = round(self.entities_per_second, 1)
        if self.dump_lines:
            facts["dump_lines_per_second"] = round(self.dump_lines / self.seconds, 1)
            facts["dump_mb_per_second"] = round(self.dump_bytes / 1e6 / self.seconds, 2)
        return facts


def build_from_lists(data_dir: Path, out: Path = BUNDLED_KB) -> BuildReport:
    """The bundled artifact: the shared lists and ``kb-more``, merged by QID, duplicate organisations folded."""
    started = time.perf_counter()
    more_dir = data_dir / "kb-more"
    more_entities, measured = read_more(more_dir) if more_dir.exists() else ([], set())
    more = merge_same_id(more_entities)
    entities = merge_same_id(read_lists(data_dir))
    confirm_with(entities, more, measured)
    if more_dir.exists():
        add_titles(entities, more_dir)
    name_teams_by_their_places(entities)
    redirects = merge_duplicate_organisations(entities) | merge_unconfirmed_towns(entities)
    prefer_cities_to_same_named_regions(entities)
    resolve_related(entities, redirects)
    raise_model_developers(entities)
    ordered = sorted(entities.values(), key=lambda e: (e.type, -e.prior, e.id))
    facts = {"source": "lists", "attribution": LIST_ATTRIBUTION, "entities": len(ordered)}
    count = write_artifact(out, ordered, facts)
    return BuildReport(
        artifact=str(out),
        entities=count,
        seconds=time.perf_counter() - started,
        bytes=out.stat().st_size,
        by_type=dict(Counter(e.type for e in ordered)),
        redirects=len(redirects),
    )


@dataclass(frozen=True)
class DumpProgress:
    """How far a dump build has got, for a progress bar or a log line."""

    position: int  # bytes of the dump file (as stored, so compressed) read so far
    size: int  # the dump file's size
    stats: DumpStats
    resumed_from_line: int  # 0 for a build from the start
    skipping: bool  # still passing over lines an earlier run built from


ProgressCallback = Callable[[DumpProgress], None]


class BuildInterrupted(Exception):
    """The build stopped when asked to; ``checkpoint`` lets the same command carry on from ``lines``."""

    def __init__(self, checkpoint: Path, lines: int, position: int, size: int) -> None:
        super().__init__(f"interrupted after {lines:,} dump lines ({position / size:.1%} of the file)")
        self.checkpoint = checkpoint
        self.lines = lines
        self.position = position
        self.size = size


# How often (in dump lines) the loop looks at the clock and the stop flag: cheap, and often enough
# that even a long stretch of items nobody keeps (scholarly articles) shows progress and stops promptly.
_TICK_LINES = 256


def build_from_dump(
    dump: Path,
    out: Path,
    options: DumpOptions | None = None,
    *,
    fresh: bool = False,
    checkpoint_seconds: float = 60.0,
    progress: ProgressCallback | None = None,
    progress_seconds: float = 1.0,
    stop: threading.Event | None = None,
) -> BuildReport:
    """Stream a Wikidata dump into an artifact; memory stays flat whatever the dump's size.

    Entities are staged beside ``out`` as they are found, with a checkpoint
    every ``checkpoint_seconds`` (see ``checkpoint.py``): a build that finds a
    checkpoint of the same dump and options carries on from it (``fresh``
    discards it), and one that sees ``stop`` set writes a checkpoint and
    raises ``BuildInterrupted``. Once the dump is read, a second pass over the
    staged (small) file writes countries as ISO codes, which the dump only
    gives on the country items themselves, wherever they happen to come.
    """
    options = options or DumpOptions()
    started = time.perf_counter()
    files = BuildFiles(out)
    if fresh:
        files.remove()
    identity = dump_identity(dump)
    checkpoint = load_checkpoint(files.checkpoint, identity, options_facts(options))
    resumed_from_line = checkpoint.lines if checkpoint else 0
    if checkpoint is None:
        checkpoint = Checkpoint(dump=identity, options=options_facts(options), lines=0, position=0, staged_bytes=0)
    if not checkpoint.streamed:
        run = _DumpRun(files, checkpoint, checkpoint_seconds, progress, progress_seconds, stop)
        run.stream(dump, options)
    stats = checkpoint.stats
    facts = {
        "source": f"wikidata-dump:{dump.name}",
        "attribution": DUMP_ATTRIBUTION,
        "min_sitelinks": options.min_sitelinks,
        "entities": stats.kept,
    }
    entities = (_with_country_code(e, stats.country_codes) for e in read_artifact(files.staged))
    count = write_artifact(files.unfinished_out, entities, facts)
    os.replace(files.unfinished_out, out)
    files.remove()
    return BuildReport(
        artifact=str(out),
        entities=count,
        seconds=time.perf_counter() - started,
        bytes=out.stat().st_size,
        by_type=dict(stats.by_type),
        dump_lines=stats.lines,
        dump_bytes=stats.bytes_read,
        resumed_from_line=resumed_from_line,
    )


@dataclass
class _DumpRun:
    """One pass of a dump build over the dump, from where its checkpoint says to where it ends or stops."""

    files: BuildFiles
    checkpoint: Checkpoint
    checkpoint_seconds: float
    progress: ProgressCallback | None
    progress_seconds: float
    stop: threading.Event | None
    _last_checkpoint: float = field(default_factory=time.monotonic)
    _last_progress: float = 0.0

    def stream(self, dump: Path, options: DumpOptions) -> None:
        checkpoint = self.checkpoint
        if checkpoint.lines:
            if not self.files.staged.exists():
                raise CheckpointMismatch(f"{self.files.staged} is gone; start over with --fresh")
            writer = ArtifactWriter.appending(self.files.staged, checkpoint.staged_bytes)
        else:
            writer = ArtifactWriter(self.files.staged, {"source": "staging"})
        resumed_from_line = checkpoint.lines
        stats = checkpoint.stats
        with open_dump(dump) as reader, writer:
            for done in range(0, resumed_from_line, _TICK_LINES):
                reader.skip_lines(min(_TICK_LINES, resumed_from_line - done))
                self._report(reader, resumed_from_line, skipping=True)
                if self.stop is not None and self.stop.is_set():
                    # The checkpoint on disk still holds: nothing new was built.
                    raise BuildInterrupted(self.files.checkpoint, resumed_from_line, checkpoint.position, reader.size)
            for raw in reader.lines:
                entity = entity_from_line(raw, options, stats)
                if entity is not None:
                    writer.write(entity)
                if stats.lines % _TICK_LINES:
                    continue
                self._report(reader, resumed_from_line, skipping=False)
                stopping = self.stop is not None and self.stop.is_set()
                if stopping or time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
                    self._save(reader, writer, streamed=False)
                if stopping:
                    self._report(reader, resumed_from_line, skipping=False, final=True)
                    raise BuildInterrupted(self.files.checkpoint, stats.lines, reader.position(), reader.size)
            self._save(reader, writer, streamed=True)
            self._report(reader, resumed_from_line, skipping=False, final=True)

    def _save(self, reader: DumpReader, writer: ArtifactWriter, *, streamed: bool) -> None:
        # The staged file first: a checkpoint must never count entities that are not on disk yet.
        self.checkpoint.staged_bytes = writer.sync()
        self.checkpoint.lines = self.checkpoint.stats.lines
        self.checkpoint.position = reader.position()
        self.checkpoint.streamed = streamed
        save_checkpoint(self.files.checkpoint, self.checkpoint)
        self._last_checkpoint = time.monotonic()

    def _report(self, reader: DumpReader, resumed_from_line: int, *, skipping: bool, final: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (now - self._last_progress < self.progress_seconds and not final):
            return
        self._last_progress = now
        self.progress(DumpProgress(reader.position(), reader.size, self.checkpoint.stats, resumed_from_line, skipping))


def _with_country_code(entity: KBEntity, codes: dict[str, str]) -> KBEntity:
    entity.country = codes.get(entity.country, entity.country)
    return entity
