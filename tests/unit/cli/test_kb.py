import json
from pathlib import Path

from typer.testing import CliRunner

from cli.kb import kb_app

SAMPLE_DUMP = Path(__file__).resolve().parents[1] / "entity_link" / "data" / "wikidata-dump-sample.json"
runner = CliRunner()


def test_build_from_a_dump_then_look_a_name_up(tmp_path: Path) -> None:
    artifact = tmp_path / "kb.tsv.gz"
    built = runner.invoke(kb_app, ["build", "--wikidata-dump", str(SAMPLE_DUMP), "--out", str(artifact)])
    assert built.exit_code == 0, built.output
    assert json.loads(built.output)["entities"] == 5
    found = runner.invoke(kb_app, ["lookup", "Marxco", "--kb", str(artifact), "--overlay", str(tmp_path / "none")])
    assert found.exit_code == 0, found.output
    (candidate,) = json.loads(found.output)["candidates"]
    assert (candidate["id"], candidate["type"]) == ("Q900004", "ORG")
    assert 0 < candidate["score"] <= 1


def test_lookup_of_an_unknown_name_fails(tmp_path: Path) -> None:
    artifact = tmp_path / "kb.tsv.gz"
    runner.invoke(kb_app, ["build", "--wikidata-dump", str(SAMPLE_DUMP), "--out", str(artifact)])
    missing = runner.invoke(kb_app, ["lookup", "Nobody Here", "--kb", str(artifact), "--overlay", str(tmp_path / "x")])
    assert missing.exit_code == 1
    assert json.loads(missing.output)["candidates"] == []


def test_lookup_uses_the_bundled_kb_and_overlay_by_default() -> None:
    result = runner.invoke(kb_app, ["lookup", "Alibaba Group Holding"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["candidates"][0]["id"] == "Q1359568"
