"""The problems panel grows with the first check: each chunk's problems join the rows found
so far instead of every row being listed again (on a file where every line has a problem
that was quadratic: 300k lines took minutes of UI time). The rows stay what `validate`
reports, and what a fresh listing gives, whatever edits happen while the check runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_lazy_document import open_lazy, scan
from test_workspace_model import MODEL, chat_line

from tui.core.editing import Document, Finding
from tui.core.validate import validate_bytes

Rows = list[tuple[int, Finding]]


def broken_lines(n: int) -> list[str]:
    """Every line a problem; every third line a good example."""
    return [
        chat_line(f"Kot {i}", f"Kot {i} śpi.") if i % 3 == 0 else f"not json {i}" for i in range(n)
    ]


def fresh(doc: Document) -> Rows:
    """The rows as listed whole from the document."""
    kept = doc._rows, doc._row_index
    doc._rows = None
    rows = doc.problem_rows()
    doc._rows, doc._row_index = kept
    return rows


def as_reported(doc: Document) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in doc.problems()]


def reported(data: bytes) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in validate_bytes(data, MODEL.name, fmt="chat").problems]


def assert_grown_in_place(before: Rows, after: Rows) -> None:
    """Every row shown before the chunk is still the same row object after it."""
    assert len(after) >= len(before)
    kept = {id(row) for row in after}
    assert all(id(row) in kept for row in before), "the rows found so far were listed again"


def test_a_documents_check_adds_each_chunks_rows_to_those_found_so_far() -> None:
    data = ("\n".join(broken_lines(300)) + "\n").encode()
    doc = Document.from_bytes(data, "chat")
    chunks: list[list[Any]] = []
    doc.check_all(chunks.append)
    shown: Rows = doc.problem_rows()
    for chunk in chunks:
        for i in range(0, len(chunk), 40):  # the screen's check applies chunks of 5,000
            doc.apply_checks(chunk[i : i + 40])
            rows = doc.problem_rows()
            assert_grown_in_place(shown, rows)
            assert rows == fresh(doc)
            shown = rows
    doc.checked = True
    assert as_reported(doc) == reported(data)


def test_edits_during_the_check_keep_the_rows_exact() -> None:
    data = ("\n".join(broken_lines(60)) + "\n").encode()
    doc = Document.from_bytes(data, "chat")
    chunks: list[list[Any]] = []
    doc.check_all(chunks.append)
    results = [item for chunk in chunks for item in chunk]
    doc.apply_checks(results[:10])
    doc.problem_rows()
    doc.replace(30, b"still not json")  # ahead of the check: its rows come with the edit
    doc.apply_checks(results[10:20])
    assert doc.problem_rows() == fresh(doc)
    doc.insert(5, [b"{}"])  # lines move: the next chunk's rows are listed whole, once
    doc.apply_checks(results[20:40])
    assert doc.problem_rows() == fresh(doc)
    doc.delete(50)
    doc.apply_checks(results[40:])
    assert doc.problem_rows() == fresh(doc)
    doc.checked = True
    assert as_reported(doc) == reported(doc.to_bytes())
    assert (doc.counts.errors, doc.counts.warnings) == tally(doc.to_bytes())


def tally(data: bytes) -> tuple[int, int]:
    report = validate_bytes(data, MODEL.name, fmt="chat")
    return len(report.errors), len(report.warnings)


def test_a_big_files_scan_adds_each_chunks_rows_to_those_found_so_far(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    data = ("\n".join(broken_lines(400)) + "\n").encode()
    path.write_bytes(data)
    doc = open_lazy(path, step=200)  # the first lines indexed, as on the first screen
    doc.replace(1, b"still not json")  # an edit before the scan gets there
    shown: Rows = doc.problem_rows()
    for result in scan(doc, chunk_bytes=600):
        doc.apply_scan(*result)
        doc.grow()
        rows = doc.problem_rows()
        assert_grown_in_place(shown, rows)
        assert rows == fresh(doc)
        shown = rows
    doc.finish_scan()
    assert as_reported(doc) == reported(doc.to_bytes())
