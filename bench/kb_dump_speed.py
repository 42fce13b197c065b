"""How long ``newsflow kb build --wikidata-dump`` takes on a full dump here, and how much memory it needs.

No real dump is available offline, so the script writes a synthetic one in the
real ``latest-all.json`` shape: one item per line inside a JSON array, labels,
descriptions and aliases in many languages, claims with the hashes, statement
ids, qualifiers and references that make real lines 3-20 KB and make them
compress about as well as the real file, and sitelinks, which most items lack
(scholarly articles, genes, streets): only a few percent reach the default
threshold of 5. It is compressed as .bz2 and .gz and each is built with the
CLI's defaults, in a child process so its peak RSS is its own.

What is measured, per compression, in CPU seconds less the CLI's start-up
(wall time on this shared machine varies with other work): items/s, MB/s of
JSON and of compressed input (the figure the build's own ETA is based on),
decompression alone (the floor); then the peak RSS of the build at three dump
sizes (the slope is what grows with the dump), and what each entity costs the
linker that loads the KB. The extrapolation to a full dump takes the full dump's
compressed size and item count as assumptions (``--full-bz2-gb``,
``--full-gz-gb``, ``--full-items``): plug in the real figures of the dump you
downloaded; the build's own ETA, after its first minutes, is the better
estimate.

    .venv/bin/python bench/kb_dump_speed.py [--items 6000] [--sizes 2000,4000,6000]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.entity_link.kb.wikidata_dump import CLASSES, DumpOptions, open_dump  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# The languages real items carry labels in, most common first (an item has the first k of them, k skewed low).
_LANGUAGES = [
    "en",
    "mul",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pl",
    "pt",
    "ru",
    "ja",
    "zh",
    "ar",
    "sv",
    "uk",
    "ca",
    "cs",
    "fa",
    "fi",
    "he",
    "hu",
    "id",
    "ko",
    "no",
    "ro",
    "sr",
    "tr",
    "vi",
    "da",
    "el",
    "eo",
    "eu",
    "gl",
    "hy",
    "ka",
    "lt",
    "lv",
    "ms",
    "sk",
    "sl",
    "th",
]
# Classes common in the dump that the KB does not keep: scholarly article, gene, protein, street, painting.
_UNKEPT_CLASSES = ("Q13442814", "Q7187", "Q8054", "Q79007", "Q3305213")
_WORDS = [
    "river",
    "north",
    "saint",
    "new",
    "lake",
    "valley",
    "union",
    "national",
    "general",
    "royal",
    "central",
    "institute",
    "company",
    "party",
    "county",
    "district",
    "station",
    "school",
    "church",
    "bridge",
    "island",
    "mountain",
    "park",
    "museum",
    "records",
    "society",
    "journal",
    "research",
    "study",
    "analysis",
    "protein",
    "human",
    "cell",
    "effect",
    "clinical",
    "data",
    "model",
    "network",
]


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(count)).title()


def _snak(prop: str, value: Any, rng: random.Random) -> dict[str, Any]:
    if isinstance(value, str) and value.startswith("Q"):
        datavalue = {
            "value": {"entity-type": "item", "numeric-id": int(value[1:]), "id": value},
            "type": "wikibase-entityid",
        }
        datatype = "wikibase-item"
    elif isinstance(value, float):
        datavalue = {"value": {"amount": f"+{value:.2f}", "unit": "1"}, "type": "quantity"}
        datatype = "quantity"
    else:
        datavalue = {"value": str(value), "type": "string"}
        datatype = "string"
    return {
        "snaktype": "value",
        "property": prop,
        # As in the real dump, a snak's hash follows from its content: the same claim repeats it.
        "hash": hashlib.sha1(f"{prop}={value}".encode()).hexdigest(),
        "datavalue": datavalue,
        "datatype": datatype,
    }


def _statement(item_id: str, prop: str, value: Any, rng: random.Random) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "mainsnak": _snak(prop, value, rng),
        "type": "statement",
        "id": f"{item_id}${uuid.UUID(int=rng.getrandbits(128))}",
        "rank": "normal",
    }
    if rng.random() < 0.6:
        source = f"Q{rng.randint(1, 2000)}"
        statement["references"] = [
            {
                "hash": hashlib.sha1(source.encode()).hexdigest(),
                "snaks": {"P248": [_snak("P248", source, rng)]},
                "snaks-order": ["P248"],
            }
        ]
    return statement


def synthetic_item(number: int, rng: random.Random, famous_share: float = 0.06) -> dict[str, Any]:
    item_id = f"Q{number}"
    famous = rng.random() < famous_share
    # Most items have no sitelink; a few percent have 5 or more (the default threshold).
    sitelinks = min(len(_LANGUAGES) * 4, int(rng.paretovariate(1.1) * 4)) if famous else (rng.random() < 0.3)
    kept_class = famous and rng.random() < 0.7
    instance = rng.choice(list(CLASSES)) if kept_class else rng.choice(_UNKEPT_CLASSES)
    languages = _LANGUAGES[: max(1, min(len(_LANGUAGES), int(rng.paretovariate(0.8) * (8 if famous else 2))))]
    label = _words(rng, rng.randint(1, 4))
    claims: dict[str, list[dict[str, Any]]] = {"P31": [_statement(item_id, "P31", instance, rng)]}
    claims["P17"] = [_statement(item_id, "P17", f"Q{rng.randint(1, 300)}", rng)]
    for k in range(rng.randint(3, 40 if famous else 25)):
        prop = f"P{rng.randint(18, 9000)}"
        value: Any = rng.choice([f"Q{rng.randint(1, 5000)}", rng.random() * 1000, _words(rng, 3), f"id-{k}"])
        claims.setdefault(prop, []).append(_statement(item_id, prop, value, rng))
    return {
        "type": "item",
        "id": item_id,
        "labels": {lang: {"language": lang, "value": label} for lang in languages},
        "descriptions": {lang: {"language": lang, "value": _words(rng, rng.randint(2, 7))} for lang in languages},
        "aliases": {
            lang: [{"language": lang, "value": _words(rng, 2)} for _ in range(rng.randint(1, 3))]
            for lang in languages[: rng.randint(0, len(languages))]
        },
        "claims": claims,
        "sitelinks": {
            f"{lang}wiki{k}": {"site": f"{lang}wiki{k}", "title": label, "badges": []}
            for k in range(sitelinks // len(_LANGUAGES) + 1)
            for lang in _LANGUAGES[: sitelinks - k * len(_LANGUAGES)]
        },
        "lastrevid": rng.randint(10**8, 2 * 10**9),
        "modified": "2026-11-02T10:15:00Z",
    }


def write_dump(path: Path, items: int, seed: int = 11, famous_share: float = 0.06) -> int:
    """A plain synthetic dump of ``items`` items, ``famous_share`` of them with many sitelinks; returns its size."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for number in range(1, items + 1):
            out.write(json.dumps(synthetic_item(number, rng, famous_share), separators=(",", ":"), ensure_ascii=False))
            out.write(",\n" if number < items else "\n")
        out.write("]\n")
    return path.stat().st_size


def compress(plain: Path) -> dict[str, Path]:
    raw = plain.read_bytes()
    gz = plain.with_name(plain.name + ".gz")
    gz.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0))
    bz = plain.with_name(plain.name + ".bz2")
    bz.write_bytes(bz2.compress(raw, compresslevel=9))
    return {"gz": gz, "bz2": bz}


def decompression_cpu_seconds(dump: Path) -> float:
    started = time.process_time()
    with open_dump(dump) as reader:
        for _ in reader.lines:
            pass
    return time.process_time() - started


# Runs the CLI and then writes its own peak RSS (KiB) and CPU seconds to stderr's last line, whatever the exit.
# The peak is VmHWM: ru_maxrss survives fork and exec, so a child would report its parent's peak if larger.
_MEASURED_CLI = (
    "import re, resource, runpy, sys\n"
    "try:\n    runpy.run_module('cli.kb', run_name='__main__')\n"
    "finally:\n    use = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "    print(peak, use.ru_utime + use.ru_stime, file=sys.stderr)\n"
)


def _measured_cli(*argv: str) -> tuple[str, float, float]:
    """The CLI's stdout, CPU seconds and peak RSS (MB), in a process of its own."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURED_CLI, *argv], cwd=ROOT, capture_output=True, text=True, check=True
    )
    peak_kib, cpu_seconds = completed.stderr.strip().splitlines()[-1].split()
    return completed.stdout, float(cpu_seconds), round(int(peak_kib) / 1024, 1)


def build_in_child(dump: Path, out: Path) -> dict[str, Any]:
    """``newsflow kb build`` in a process of its own: its report, its CPU seconds and its peak RSS.

    CPU time, not wall time, is what carries to an idle machine: the build is one thread, and on
    this shared machine other work stretches its wall time by a varying factor.
    """
    stdout, cpu_seconds, peak_rss_mb = _measured_cli(
        "build", "--wikidata-dump", str(dump), "--out", str(out), "--fresh", "--progress", "none"
    )
    return {"report": json.loads(stdout), "cpu_seconds": cpu_seconds, "peak_rss_mb": peak_rss_mb}


def startup_cpu_seconds(repeats: int) -> float:
    """What starting the CLI costs (imports), subtracted from each build: a full dump pays it once."""
    return min(_measured_cli("build", "--help")[1] for _ in range(repeats))


_KB_LOAD = (
    "import json, re\n"
    "from pathlib import Path\n"
    "from services.entity_link.linker import load_knowledge_base\n"
    "from services.entity_link.settings import DEFAULT_KB\n"
    "def rss_kib():\n"
    "    return int(re.search(r'VmRSS:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
    "before = rss_kib()\n"
    "kb = load_knowledge_base(DEFAULT_KB, None)\n"
    "print(json.dumps([before, rss_kib(), len(kb.entities)]))\n"
)


def kb_load_bytes_per_entity() -> dict[str, Any]:
    """What each entity of a KB costs the linker that loads it, measured on the bundled (real) KB."""
    completed = subprocess.run([sys.executable, "-c", _KB_LOAD], cwd=ROOT, capture_output=True, text=True, check=True)
    before_kib, after_kib, entities = json.loads(completed.stdout)
    return {
        "entities": entities,
        "rss_before_load_mb": round(before_kib / 1024),
        "rss_after_load_mb": round(after_kib / 1024),
        "bytes_per_entity": round((after_kib - before_kib) * 1024 / entities),
    }


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def _cpu(run: dict[str, Any]) -> float:
    return float(run["cpu_seconds"])


def time_builds(
    folder: Path, items: int, repeats: int, full: dict[str, float], full_items: float, full_json_tb: float
) -> dict[str, Any]:
    plain = folder / "dump.json"
    plain_bytes = write_dump(plain, items)
    startup = startup_cpu_seconds(repeats)
    timings: dict[str, Any] = {
        "items": items,
        "plain_bytes": plain_bytes,
        "mean_line_bytes": round(plain_bytes / items),
        "startup_cpu_seconds": round(startup, 2),
    }
    for kind, dump in compress(plain).items():
        size = dump.stat().st_size
        # Best of the repeats: the machine is shared, and other work only ever makes a run slower.
        best = min((build_in_child(dump, folder / f"kb-{kind}.tsv.gz") for _ in range(repeats)), key=_cpu)
        seconds = best["cpu_seconds"] - startup
        decompress = min(decompression_cpu_seconds(dump) for _ in range(repeats))
        mb_per_second = size / 1e6 / seconds
        items_per_second = items / seconds
        timings[kind] = {
            "compressed_bytes": size,
            "compression_ratio": round(plain_bytes / size, 1),
            "build_cpu_seconds_best_less_startup": round(seconds, 2),
            "build_wall_seconds_of_that_run": round(best["report"]["seconds"], 2),
            "kept": best["report"]["entities"],
            "items_per_second": round(items_per_second),
            "json_mb_per_second": round(plain_bytes / 1e6 / seconds, 1),
            "compressed_mb_per_second": round(mb_per_second, 2),
            "decompress_only_cpu_seconds_best": round(decompress, 2),
            "decompression_share": round(decompress / seconds, 2),
            "full_dump_hours_by_compressed_size": round(full[kind] * 1e3 / mb_per_second / 3600, 1),
            "full_dump_hours_by_items": round(full_items / items_per_second / 3600, 1),
            "full_dump_hours_by_json_size": round(full_json_tb * 1e6 / (plain_bytes / 1e6 / seconds) / 3600, 1),
        }
    return timings


def measure_memory(folder: Path, sizes: list[int], famous_share: float) -> dict[str, Any]:
    runs = []
    for items in sizes:
        dump = folder / f"mem-{items}.json"
        write_dump(dump, items, seed=items, famous_share=famous_share)
        built = build_in_child(dump, folder / f"mem-{items}.tsv.gz")
        runs.append({"items": items, "kept": built["report"]["entities"], "peak_rss_mb": built["peak_rss_mb"]})
    xz = build_in_child(folder / f"mem-{sizes[-1]}.json", folder / f"mem-{sizes[-1]}.tsv.xz")
    return {
        "famous_share": famous_share,
        "runs_out_tsv_gz": runs,
        "rss_bytes_per_kept_entity": round(_slope([(r["kept"], r["peak_rss_mb"] * 1e6) for r in runs])),
        "largest_run_out_tsv_xz_peak_rss_mb": xz["peak_rss_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=6000, help="items of the dump timed per compression")
    parser.add_argument("--repeats", type=int, default=3, help="builds per compression; the best is kept")
    parser.add_argument("--sizes", default="3000,9000,18000", help="dump sizes (items) for the memory slope")
    parser.add_argument("--memory-famous-share", type=float, default=0.5, help="items with many sitelinks there")
    parser.add_argument("--full-items", type=float, default=115e6, help="assumed items in a full dump")
    parser.add_argument("--full-bz2-gb", type=float, default=95.0, help="assumed size of latest-all.json.bz2")
    parser.add_argument("--full-gz-gb", type=float, default=140.0, help="assumed size of latest-all.json.gz")
    parser.add_argument("--full-json-tb", type=float, default=1.5, help="assumed size of the dump uncompressed")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with TemporaryDirectory() as scratch:
        folder = Path(scratch)
        full = {"bz2": args.full_bz2_gb, "gz": args.full_gz_gb}
        timings = time_builds(folder, args.items, args.repeats, full, args.full_items, args.full_json_tb)
        sizes = sorted(int(s) for s in args.sizes.split(","))
        memory = measure_memory(folder, sizes, args.memory_famous_share)
    result = {
        "command": " ".join(["bench/kb_dump_speed.py", *sys.argv[1:]]),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "min_sitelinks": DumpOptions().min_sitelinks,
        "assumed_full_dump": {
            "items": args.full_items,
            "bz2_gb": args.full_bz2_gb,
            "gz_gb": args.full_gz_gb,
            "json_tb": args.full_json_tb,
        },
        "timings": timings,
        "memory": memory,
        "linker_memory_per_entity": kb_load_bytes_per_entity(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_dump_speed.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
