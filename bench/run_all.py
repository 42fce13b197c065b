"""``make bench``: every benchmark in bench/, one after another, each in its own process.

The stage benchmarks (``ingest_*.py``, ``enrich_*.py``, ``link_*.py``, ``stories_*.py``, ``index_*.py``,
``alerts_*.py``, and the read API's ``api_*.py``) run first, then
the end-to-end ``pipeline.py``. One that fails or times out is reported and the others still run; the
exit status is 1 when any failed. Helper modules that the benchmarks import (no ``__main__`` block,
e.g. ``enrich_corpus.py``) are not run. A summary goes to ``bench/results/run_all.json``.

    .venv/bin/python bench/run_all.py [--only enrich] [--skip-pipeline] [--articles 10000] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
STAGE_PATTERNS = ("ingest_*.py", "enrich_*.py", "link_*.py", "stories_*.py", "index_*.py", "alerts_*.py", "api_*.py")
END_TO_END = BENCH / "pipeline.py"


def is_runnable(script: Path) -> bool:
    return "__main__" in script.read_text(encoding="utf-8")


def stage_benchmarks(folder: Path = BENCH) -> list[Path]:
    found = {path for pattern in STAGE_PATTERNS for path in folder.glob(pattern)}
    return sorted(path for path in found if is_runnable(path))


def run_script(script: Path, arguments: list[str], timeout_s: float) -> dict[str, Any]:
    print(f"\n=== {script.name} {' '.join(arguments)}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        # Standard output (each benchmark's JSON) and its progress on standard error go to the console.
        completed = subprocess.run([sys.executable, str(script), *arguments], cwd=ROOT, timeout=timeout_s)
        outcome: dict[str, Any] = {"ok": completed.returncode == 0, "returncode": completed.returncode}
    except subprocess.TimeoutExpired:
        outcome = {"ok": False, "error": f"timed out after {timeout_s:.0f} s"}
    return outcome | {"seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the scripts whose name contains this")
    parser.add_argument("--skip-pipeline", action="store_true", help="leave out the end-to-end benchmark")
    parser.add_argument("--articles", type=int, help="N for pipeline.py (default: its own, 10,000)")
    parser.add_argument("--corpus", type=Path, help="real text for pipeline.py (see corpus.py)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed to each script")
    args = parser.parse_args()
    planned: list[tuple[Path, list[str]]] = [(script, []) for script in stage_benchmarks()]
    if not args.skip_pipeline:
        pipeline_args = [*(["--articles", str(args.articles)] if args.articles else [])]
        pipeline_args += ["--corpus", str(args.corpus)] if args.corpus else []
        planned.append((END_TO_END, pipeline_args))
    if args.only:
        planned = [(script, arguments) for script, arguments in planned if args.only in script.name]
    summary = {script.name: run_script(script, arguments, args.timeout) for script, arguments in planned}
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "run_all.json").write_text(json.dumps(summary, indent=2) + "\n")
    for name, outcome in summary.items():
        print(f"{'ok    ' if outcome['ok'] else 'FAILED'} {outcome['seconds']:>7.1f} s  {name}")
    failed = [name for name, outcome in summary.items() if not outcome["ok"]]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
