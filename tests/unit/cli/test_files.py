import json
from pathlib import Path

from typer.testing import CliRunner

from cli.files import FileProblem, read_path
from cli.main import app
from shared.messages import DocumentSubmitted


def test_jsonl_yields_one_submission_per_line_and_a_problem_per_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_text('{"title": "A", "body": "a"}\nnot json\n\n[1, 2]\n{"title": "B", "body": "b"}\n')
    items = list(read_path(path))
    assert [type(item) for item in items] == [DocumentSubmitted, FileProblem, FileProblem, DocumentSubmitted]
    assert [item.line for item in items if isinstance(item, FileProblem)] == [2, 4]


def test_unreadable_inputs_give_clear_problems(tmp_path: Path) -> None:
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("caf\xe9".encode("latin-1"))
    odd = tmp_path / "notes.docx"
    odd.write_text("x")
    problems = [next(read_path(p)) for p in (binary, odd, tmp_path / "missing.txt", tmp_path)]
    assert all(isinstance(p, FileProblem) for p in problems)
    errors = [p.error for p in problems if isinstance(p, FileProblem)]
    assert errors[0].startswith("not UTF-8") and "unsupported file type .docx" in errors[1]
    assert errors[2] == "no such file" and errors[3] == "not a regular file"


def test_the_source_option_names_the_outlet_unless_a_record_names_its_own(tmp_path: Path) -> None:
    text = tmp_path / "harbour.txt"
    text.write_text("Harbour ferry returns\nThe ferry across the harbour runs again from Monday, the council said.\n")
    wire = tmp_path / "wire.jsonl"
    wire.write_text('{"title": "A", "body": "Body a.", "source": "Wire Desk"}\n{"title": "B", "body": "Body b."}\n')
    result = CliRunner().invoke(
        app, ["process", "--stage", "ingest", "--source", "Harbour Gazette", str(text), str(wire)]
    )
    assert result.exit_code == 0, result.output
    sources = [json.loads(line)["source"]["name"] for line in result.stdout.splitlines()]
    assert sources == ["Harbour Gazette", "Wire Desk", "Harbour Gazette"]
