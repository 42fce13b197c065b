"""``newsflow kb build --wikidata-dump``: progress, checkpoints, and resuming after Ctrl-C, kill or a crash.

The dumps are generated: the sample dump's eight items (five kept at the
default threshold) repeated under fresh ids, so a build takes a second or
two and every interruption lands mid-way.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.kb import kb_app
from services.entity_link.kb.build import BuildInterrupted, DumpProgress, build_from_dump
from services.entity_link.kb.checkpoint import BuildFiles, CheckpointMismatch
from services.entity_link.kb.entity import read_artifact
from services.entity_link.kb.wikidata_dump import DumpOptions

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_DUMP = ROOT / "tests" / "unit" / "entity_link" / "data" / "wikidata-dump-sample.json"
runner = CliRunner()


def write_dump(path: Path, copies: int) -> Path:
    """The sample's items ``copies`` times over, each copy with its own ids, compressed by the path's suffix."""
    items = [line.strip().rstrip(",") for line in SAMPLE_DUMP.read_text().splitlines() if line.startswith("{")]
    lines = [item.replace('"id":"Q900', f'"id":"Q{copy + 1}00') for copy in range(copies) for item in items]
    raw = ("[\n" + ",\n".join(lines) + "\n]\n").encode()
    if path.suffix == ".gz":
        raw = gzip.compress(raw, compresslevel=1, mtime=0)
    elif path.suffix == ".bz2":
        raw = bz2.compress(raw, compresslevel=1)
    path.write_bytes(raw)
    return path


def interrupt_a_build(dump: Path, out: Path) -> tuple[BuildInterrupted, DumpProgress]:
    """A build asked to stop at its first progress report; the exception and that report."""
    stop = threading.Event()
    reports: list[DumpProgress] = []

    def record(state: DumpProgress) -> None:
        reports.append(state)
        stop.set()

    with pytest.raises(BuildInterrupted) as interrupted:
        build_from_dump(dump, out, progress=record, progress_seconds=0, stop=stop)
    return interrupted.value, reports[-1]


@pytest.mark.parametrize("suffix", [".json", ".json.bz2"])
def test_a_stopped_build_resumes_to_the_same_artifact(tmp_path: Path, suffix: str) -> None:
    dump = write_dump(tmp_path / f"dump{suffix}", copies=300)
    whole = build_from_dump(dump, tmp_path / "whole" / "kb.tsv.gz")
    out = tmp_path / "kb.tsv.gz"
    interrupted, report = interrupt_a_build(dump, out)
    assert 0 < interrupted.lines < whole.dump_lines
    assert not out.exists() and BuildFiles(out).checkpoint.exists()
    assert 0 < report.position <= report.size == dump.stat().st_size
    # As a crash would leave it: entities staged after the last checkpoint, the last one cut short.
    with BuildFiles(out).staged.open("a") as staged:
        staged.write("Q100001\tLOC\t0.700\tcountry\t\tFreedonia\t\t\t\t\t\nQ2000")
    resumed = build_from_dump(dump, out)
    assert resumed.resumed_from_line == interrupted.lines
    assert resumed.entities == whole.entities == 5 * 300
    assert out.read_bytes() == (tmp_path / "whole" / "kb.tsv.gz").read_bytes()
    assert not BuildFiles(out).checkpoint.exists() and not BuildFiles(out).staged.exists()


def test_a_checkpoint_of_other_options_is_refused_and_fresh_discards_it(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.json", copies=200)
    out = tmp_path / "kb.tsv.gz"
    interrupt_a_build(dump, out)
    with pytest.raises(CheckpointMismatch, match="min_sitelinks is 5 there, 10 here"):
        build_from_dump(dump, out, DumpOptions(min_sitelinks=10))
    refused = runner.invoke(kb_app, ["build", "--wikidata-dump", str(dump), "--out", str(out), "--min-sitelinks", "10"])
    assert refused.exit_code == 2
    assert "--fresh" in refused.output
    fresh = build_from_dump(dump, out, DumpOptions(min_sitelinks=10), fresh=True)
    assert fresh.resumed_from_line == 0
    assert fresh.entities == 2 * 200  # two of the sample's items have 10 sitelinks or more


def test_a_checkpoint_of_another_dump_is_refused(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.json", copies=200)
    out = tmp_path / "kb.tsv.gz"
    interrupt_a_build(dump, out)
    other = write_dump(tmp_path / "other.json", copies=201)
    with pytest.raises(CheckpointMismatch, match=r"dump\.name is 'dump\.json' there, 'other\.json' here"):
        build_from_dump(other, out)


def test_progress_log_lines_give_position_counts_and_eta(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.json.gz", copies=100)
    built = runner.invoke(
        kb_app, ["build", "--wikidata-dump", str(dump), "--out", str(tmp_path / "kb.tsv.gz"), "--progress", "log"]
    )
    assert built.exit_code == 0, built.output
    progress = [json.loads(line) for line in built.stderr.splitlines() if "kb_dump_progress" in line]
    assert progress, built.stderr
    last = progress[-1]
    assert last["percent"] == 100.0 and last["dump_mb"] == round(dump.stat().st_size / 1e6, 1)
    assert (last["items"], last["kept"]) == (8 * 100 + 2, 5 * 100)
    assert "eta_seconds" in last
    assert json.loads(built.stdout)["entities"] == 500


def test_the_progress_bar_shows_bytes_items_and_kept(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.json.bz2", copies=50)
    built = runner.invoke(
        kb_app, ["build", "--wikidata-dump", str(dump), "--out", str(tmp_path / "kb.tsv.gz"), "--progress", "bar"]
    )
    assert built.exit_code == 0, built.output
    assert "reading dump" in built.stderr and "100%" in built.stderr
    assert "402 items, 250 kept" in built.stderr


def test_progress_is_quiet_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    dump = write_dump(tmp_path / "dump.json", copies=50)
    built = runner.invoke(kb_app, ["build", "--wikidata-dump", str(dump), "--out", str(tmp_path / "kb.tsv.gz")])
    assert built.exit_code == 0, built.output
    assert built.stderr == ""


def _start_build(dump: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "cli.kb", "build", "--wikidata-dump", str(dump), "--out", str(out)),
            *("--checkpoint-seconds", "0", "--progress", "none"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_a_checkpoint(build: subprocess.Popen[str], checkpoint: Path) -> None:
    deadline = time.monotonic() + 60
    while not checkpoint.exists():
        assert build.poll() is None, "the build ended before its first checkpoint: make the dump bigger"
        assert time.monotonic() < deadline
        time.sleep(0.005)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_killed_or_interrupted_process_resumes_to_the_same_artifact(tmp_path: Path, signum: int) -> None:
    dump = write_dump(tmp_path / "dump.json.gz", copies=1000)
    out = tmp_path / "kb.tsv.gz"
    build = _start_build(dump, out)
    _wait_for_a_checkpoint(build, BuildFiles(out).checkpoint)
    os.kill(build.pid, signum)
    _, stderr = build.communicate(timeout=60)
    if signum == signal.SIGKILL:
        assert build.returncode == -signal.SIGKILL
    else:
        assert build.returncode == 130, stderr
        assert "Run the same command again to resume" in stderr
    checkpoint = json.loads(BuildFiles(out).checkpoint.read_text())
    assert 0 < checkpoint["lines"] < 8 * 1000 + 2
    assert not out.exists()

    resumed = _start_build(dump, out)
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["resumed_from_line"] == checkpoint["lines"]
    whole = build_from_dump(dump, tmp_path / "whole" / "kb.tsv.gz")
    assert report["entities"] == whole.entities == 5 * 1000
    assert out.read_bytes() == (tmp_path / "whole" / "kb.tsv.gz").read_bytes()
    assert [e.id for e in read_artifact(out)][:2] == ["Q100001", "Q100002"]
