"""Knowledge-base build rates: from the shared lists, and streaming a Wikidata JSON dump.

The list build is the one that makes the bundled artifact (written to a
temporary file here, so the shipped one is untouched). No real Wikidata dump
is available offline, so the dump build streams a synthetic dump in the
dump's exact format (one entity per line inside a JSON array): items with
labels, descriptions and aliases in several languages, instance-of and
country claims, and sitelinks, sized like ordinary Wikidata items, most of
them with fewer sitelinks than the threshold, as in the real dump. It is
written plain, gzip and bz2, and each is built with the CLI's defaults.

    .venv/bin/python bench/link_kb_build.py [--data ../shared/data] [--items 40000]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import random
import resource
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from services.entity_link.kb.build import build_from_dump, build_from_lists
from services.entity_link.kb.wikidata_dump import CLASSES, DumpOptions

RESULTS = Path(__file__).resolve().parent / "results"
# Synthetic items are smaller than real ones (a few KB against ~10 KB), so the rate per megabyte of
# uncompressed JSON is the figure that carries over to a real dump: hours per terabyte follow from it.
TERABYTE_MB = 1_000_000
_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pl", "pt", "ru", "ja", "zh", "ar")


def synthetic_item(number: int, rng: random.Random) -> dict[str, Any]:
    # Most items have no or few sitelinks (scholarly articles, genes, streets): ~15% reach 5.
    sitelinks = 0 if rng.random() < 0.6 else int(rng.paretovariate(0.9))
    label = f"Entity {number}"
    claims = {
        "P31": [_claim("P31", rng.choice([*CLASSES, "Q13442814", "Q7187", "Q79007"]))],
        "P17": [_claim("P17", f"Q{rng.randint(1, 300)}")],
        "P571": [_claim("P571", "+1999-01-01T00:00:00Z")],
    }
    languages = rng.sample(_LANGUAGES, k=rng.randint(1, len(_LANGUAGES)))
    return {
        "type": "item",
        "id": f"Q{number}",
        "labels": {lang: {"language": lang, "value": f"{label} {lang}"} for lang in [*languages, "en"]},
        "descriptions": {
            lang: {"language": lang, "value": f"a synthetic item described in {lang}"} for lang in languages
        },
        "aliases": {"en": [{"language": "en", "value": f"{label} alias {k}"} for k in range(rng.randint(0, 4))]},
        "claims": claims,
        "sitelinks": {
            f"{lang}wiki": {"site": f"{lang}wiki", "title": label, "badges": []} for lang in _LANGUAGES[:sitelinks]
        }
        | {f"x{k}wiki": {"site": f"x{k}wiki", "title": label, "badges": []} for k in range(max(0, sitelinks - 12))},
    }


def _claim(prop: str, value: str) -> dict[str, Any]:
    datavalue: dict[str, Any] = (
        {"value": {"entity-type": "item", "numeric-id": int(value[1:]), "id": value}, "type": "wikibase-entityid"}
        if value.startswith("Q")
        else {"value": {"time": value, "precision": 11}, "type": "time"}
    )
    return {
        "mainsnak": {"snaktype": "value", "property": prop, "datavalue": datavalue},
        "type": "statement",
        "rank": "normal",
    }


def write_dump(path: Path, items: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    lines = ["["]
    for number in range(1, items + 1):
        lines.append(json.dumps(synthetic_item(number, rng), separators=(",", ":")) + ("," if number < items else ""))
    lines.append("]")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    return len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--items", type=int, default=40_000)
    args = parser.parse_args()
    options = DumpOptions()
    with TemporaryDirectory() as scratch:
        folder = Path(scratch)
        lists = build_from_lists(args.data, folder / "kb-lists.tsv.xz").as_dict()
        plain = folder / "dump.json"
        size = write_dump(plain, args.items)
        raw = plain.read_bytes()
        (folder / "dump.json.gz").write_bytes(gzip.compress(raw, compresslevel=6))
        (folder / "dump.json.bz2").write_bytes(bz2.compress(raw))
        dumps = {}
        for name in ("dump.json", "dump.json.gz", "dump.json.bz2"):
            report = build_from_dump(folder / name, folder / "kb-dump.tsv.gz", options).as_dict()
            lines_per_second = report["dump_lines_per_second"]
            dumps[name] = {
                **{k: report[k] for k in ("entities", "seconds", "dump_lines", "dump_mb_per_second", "by_type")},
                "dump_items_per_second": lines_per_second,
                "kept_entities_per_second": report["entities_per_second"],
                "hours_per_terabyte_of_json": round(TERABYTE_MB / report["dump_mb_per_second"] / 3600, 1),
            }
    result = {
        "lists": {k: lists[k] for k in ("entities", "seconds", "entities_per_second", "bytes", "by_type", "redirects")},
        "synthetic_dump": {
            "items": args.items,
            "uncompressed_bytes": size,
            "min_sitelinks": options.min_sitelinks,
            "builds": dumps,
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_kb_build.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
