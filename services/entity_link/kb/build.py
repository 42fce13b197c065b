"""Building the knowledge-base artifact, from the shared lists or from a Wikidata dump.

python -m cli.kb build                       # the bundled artifact
python -m cli.kb build --wikidata-dump latest-all.json.bz2 --out kb-full.tsv.gz
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

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
from services.entity_link.kb.wikidata_dump import DumpOptions, DumpStats, open_dump, stream_dump

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


def build_from_dump(dump: Path, out: Path, options: DumpOptions | None = None) -> BuildReport:
    """Stream a Wikidata dump into an artifact; memory stays flat whatever the dump's size.

    Entities go to a temporary artifact as they are found; a second pass over
    that (small) file writes countries as ISO codes, which the dump only
    gives on the country items themselves, wherever they happen to come.
    """
    options = options or DumpOptions()
    started = time.perf_counter()
    stats = DumpStats()
    with TemporaryDirectory() as scratch:
        staged = Path(scratch) / "staged.tsv.gz"  # fast to write, read once
        with open_dump(dump) as lines, ArtifactWriter(staged, {"source": "staging"}) as writer:
            for entity in stream_dump(lines, options, stats):
                writer.write(entity)
        facts = {
            "source": f"wikidata-dump:{dump.name}",
            "attribution": DUMP_ATTRIBUTION,
            "min_sitelinks": options.min_sitelinks,
            "entities": stats.kept,
        }
        count = write_artifact(out, (_with_country_code(e, stats.country_codes) for e in read_artifact(staged)), facts)
    return BuildReport(
        artifact=str(out),
        entities=count,
        seconds=time.perf_counter() - started,
        bytes=out.stat().st_size,
        by_type=dict(stats.by_type),
        dump_lines=stats.lines,
        dump_bytes=stats.bytes_read,
    )


def _with_country_code(entity: KBEntity, codes: dict[str, str]) -> KBEntity:
    entity.country = codes.get(entity.country, entity.country)
    return entity
