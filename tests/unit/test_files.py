from pathlib import Path

from services.ingest.files import FileProblem, read_path
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
