"""A big file's document (lines read from the file on demand, checked by a background scan)
never lies either: whatever the scan has reached when edits, undo, saves and reopens happen,
once it ends the stats and problem lines are what `tunebench validate` reports for the bytes
on disk after a save, untouched lines are copied byte for byte, and a saved file is what the
document holds."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from test_workspace_model import MODEL, SYSTEM, chat_line, chat_lines, texts

from tui.core.editing import Document, Pair, encode_example, pair_example
from tui.core.lazydoc import LazyDocument, save_lazy, scan_results
from tui.core.lineindex import LineIndex
from tui.core.split import split_bytes
from tui.core.tokens import TokenCounter
from tui.core.validate import validate_bytes
from tui.core.workspace import stats_of

COUNTER = TokenCounter(MODEL.encoding)


def open_lazy(path: Path, step: int = 64) -> LazyDocument:
    """As the app opens a big file: the first lines indexed, the rest found by the scan."""
    index = LineIndex(path)
    index.index_more(step)
    doc = LazyDocument.open(index, "chat")
    doc.grow()
    doc.use_counter(COUNTER, MODEL.example_token_limit, MODEL.name)
    return doc


def scan(doc: LazyDocument, chunk_bytes: int = 80) -> Iterator[tuple[Any, int, float]]:
    return scan_results(doc, MODEL, 1, lambda: False, chunk_bytes=chunk_bytes)


def scan_all(doc: LazyDocument) -> None:
    for result in scan(doc):
        doc.apply_scan(*result)
    doc.grow()
    doc.finish_scan()


def report(data: bytes) -> Any:
    return validate_bytes(data, MODEL.name, fmt="chat")


def assert_shows_what_validate_reports(doc: LazyDocument) -> None:
    rep = report(doc.to_bytes())
    stats = stats_of(doc, MODEL)
    if rep.fatal is not None:
        assert stats.examples == 0
        return
    assert (stats.examples, stats.errors, stats.warnings, stats.tokens) == (
        rep.n_examples,
        len(rep.errors),
        len(rep.warnings),
        rep.tokens.total,
    )

    def rows(problems: list[Any]) -> list[tuple[int, str, str]]:
        """Line and code of each problem; for repeats also the line they repeat."""
        return sorted(
            (p.line, p.code, p.message if p.code == "duplicate_example" else "") for p in problems
        )

    assert rows(doc.problems()) == rows(rep.problems)


class LazyMachine(RuleBasedStateMachine):
    """Random edits on a chat file opened lazily, with the scan advancing between them."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(__import__("tempfile").mkdtemp(prefix="lazydoc-"))

    @initialize(data=st.data())
    def open_file(self, data: st.DataObject) -> None:
        lines = data.draw(st.lists(chat_lines, max_size=16))
        body = "\n".join(lines) + data.draw(st.sampled_from(["\n", ""]))
        self.path = self.folder / "data.jsonl"
        self.path.write_bytes(body.encode())
        self.reopen()

    def reopen(self) -> None:
        self.doc = open_lazy(self.path)
        self.scanning = scan(self.doc)
        self.on_disk = self.path.read_bytes()
        assert self.doc.to_bytes() == self.on_disk  # lines read on demand: the file's bytes

    def _restart_if_needed(self) -> None:
        if not self.doc.checked and self.scanning is None:
            self.scanning = scan(self.doc)

    @rule(steps=st.integers(1, 3))
    def scan_some(self, steps: int) -> None:
        self._restart_if_needed()
        for _ in range(steps):
            if self.scanning is None:
                return
            result = next(self.scanning, None)
            if result is None:
                self.scanning = None
                self.doc.grow()
                self.doc.finish_scan()
                return
            self.doc.apply_scan(*result)
            self.doc.grow()

    @precondition(lambda self: len(self.doc) > 0)
    @rule(data=st.data(), user=texts, assistant=texts)
    def edit_pair(self, data: st.DataObject, user: str, assistant: str) -> None:
        index = data.draw(st.integers(0, len(self.doc) - 1))
        text = encode_example(pair_example(Pair(SYSTEM, user, assistant)))
        self.doc.replace(index, text, key=(index, "user"))

    @precondition(lambda self: len(self.doc) > 0)
    @rule(data=st.data(), line=chat_lines)
    def edit_raw(self, data: st.DataObject, line: str) -> None:
        index = data.draw(st.integers(0, len(self.doc) - 1))
        self.doc.replace(index, line.encode())

    @precondition(lambda self: self.doc.complete)
    @rule(data=st.data())
    def insert_new(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.doc)))
        self.doc.insert(index, [self.doc.new_example_text(index)])

    @precondition(lambda self: len(self.doc) > 0)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        self.doc.delete(data.draw(st.integers(0, len(self.doc) - 1)))

    @precondition(lambda self: len(self.doc) > 1)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        src = data.draw(st.integers(0, len(self.doc) - 2))  # the last line may lack its \n
        self.doc.move(src, src + 1 if src + 2 < len(self.doc) else src)

    @rule()
    def undo(self) -> None:
        self.doc.undo()

    @rule()
    def redo(self) -> None:
        self.doc.redo()

    @rule()
    def save(self) -> None:
        expected = self.doc.to_bytes()
        point = self.doc.save_point()
        _stamp, source = save_lazy(self.doc, self.path, point)
        assert self.path.read_bytes() == expected
        self.doc.rebase(point, source)
        self.on_disk = expected
        if not self.doc.checked:
            self.scanning = None  # the new file is scanned from its start
        assert not self.doc.dirty
        assert self.doc.to_bytes() == expected

    @rule()
    def killed_and_restored(self) -> None:
        """A new instance restores this one's recovery file (written as the app writes it)."""
        expected = self.doc.to_bytes()
        items = json.loads(json.dumps(self.doc.recovery_items(self.doc.save_point())))
        self.doc = open_lazy(self.path).restored(items)
        self.scanning = None
        assert self.doc.to_bytes() == expected

    @precondition(lambda self: not self.doc.dirty)
    @rule()
    def reopen_saved(self) -> None:
        self.reopen()

    @rule(query=st.sampled_from(["kot", "KOT", "x", "ś", "json", '"', "code:invalid_json"]))
    def filter(self, query: str) -> None:
        """The filter finds what a whole-file document finds."""
        whole = Document.from_bytes(self.doc.to_bytes(), "chat")
        if query.startswith("code:"):
            whole.check_all(whole.apply_checks)
            if not self.doc.checked:
                return  # the codes of lines the scan has not reached are not known yet
        known = [i for i in whole.matching(query) if i < len(self.doc)]
        assert self.doc.matching(query) == known

    @rule()
    def export(self) -> None:
        """F8 streams what a whole-file document exports (examples without errors)."""
        out = io.BytesIO()
        written = self.doc.write_export(out, self.doc.save_point())
        whole = Document.from_bytes(self.doc.to_bytes(), "chat")
        whole.check_all(whole.apply_checks)
        assert out.getvalue() == whole.export_bytes()
        assert written == out.getvalue().count(b"\n")

    @rule(seed=st.integers(0, 50), share=st.sampled_from([0.1, 0.3, 0.5]))
    def split(self, seed: int, share: float) -> None:
        """F9 on a big file streams the split a whole-file document makes (same examples on
        each side, in file order; duplicates on one side)."""
        train, valid = io.BytesIO(), io.BytesIO()
        counts = self.doc.write_split(train, valid, self.doc.save_point(), share, seed)
        whole = Document.from_bytes(self.doc.to_bytes(), "chat")
        whole.check_all(whole.apply_checks)
        texts = whole.export_bytes().splitlines()
        expected = split_bytes(texts, share, seed)
        assert (train.getvalue(), valid.getvalue(), *counts) == expected

    @invariant()
    def dirty_means_it_differs_from_the_file(self) -> None:
        if self.doc.complete:
            assert self.doc.dirty == (self.doc.to_bytes() != self.on_disk)

    @invariant()
    def once_scanned_the_stats_are_validates(self) -> None:
        if self.doc.checked:
            assert_shows_what_validate_reports(self.doc)

    @invariant()
    def the_problem_rows_kept_are_a_fresh_listings(self) -> None:
        """Rows are added as the scan finds them and replaced as lines are edited: always
        what listing the document's problems whole gives."""
        from test_problem_rows_grow import fresh

        assert self.doc.problem_rows() == fresh(self.doc)

    @invariant()
    def a_finished_scan_agrees_with_validate(self) -> None:
        """Run the rest of the scan on the side: what it leaves is exact."""
        if self.doc.checked or not self.doc.complete:
            return
        data = self.doc.to_bytes()
        doc = open_lazy(self.path)
        scan_all(doc)
        assert doc.to_bytes() == self.on_disk
        assert_shows_what_validate_reports(doc)
        assert data == self.doc.to_bytes()

    def teardown(self) -> None:
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()


LazyMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lazy_document_never_lies = LazyMachine.TestCase


def test_the_last_edits_finish_a_scan_exactly(tmp_path: Path) -> None:
    """Edits made before the scan reaches a line, and after, both count exactly."""
    lines = [chat_line(f"u{i % 7}", f"a{i % 5}") for i in range(400)]
    lines[10], lines[300] = "not json", ""
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n")
    doc = open_lazy(path, step=1 << 20)
    doc.replace(350, b"broken")  # not scanned yet
    doc.delete(390)
    doc.replace(0, encode_example(pair_example(Pair(SYSTEM, "Kot", "Kot śpi."))))
    scanning = scan(doc, chunk_bytes=4096)
    first = next(scanning)
    doc.apply_scan(*first)
    doc.replace(5, b"{}")  # scanned already
    for result in scanning:
        doc.apply_scan(*result)
    doc.finish_scan()
    assert_shows_what_validate_reports(doc)
    doc.undo()
    doc.undo()
    assert_shows_what_validate_reports(doc)


@pytest.mark.parametrize("workers", [1, 2])
def test_lines_too_long_to_scan_are_reported_as_validate_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The scan sends the workers offsets into the mapped file; a line over the limit is
    reported (or, blank, passed over) without being read, numbered as validate numbers it,
    and the lines after it are indexed and counted all the same."""
    from tui.core import formats

    monkeypatch.setattr(formats, "MAX_LINE_BYTES", 1000)
    ok = [chat_line(f"u{i}", f"a{i}").encode() for i in range(40)]
    long_line = b'{"messages": "' + b"x" * 3000 + b'"}'
    for last in (long_line, long_line + b"\r", ok[0]):  # the last line has no newline
        lines = [*ok[:10], long_line, *ok[10:20], b" " * 3000, long_line + b"\r", *ok[20:], last]
        data = b"\n".join(lines)
        path = tmp_path / "data.jsonl"
        path.write_bytes(data)
        doc = open_lazy(path, step=200)
        for result in scan_results(doc, MODEL, workers, lambda: False, chunk_bytes=300):
            doc.apply_scan(*result)
        doc.grow()
        doc.finish_scan()
        assert doc.complete and len(doc) == len(lines)
        assert doc.to_bytes() == data
        assert_shows_what_validate_reports(doc)
        theirs = [(p.line, p.message) for p in report(data).problems if p.code == "line_too_long"]
        assert [line for line, _ in theirs][:2] == [11, 23]
        assert [(p.line, p.message) for p in doc.problems() if p.code == "line_too_long"] == theirs


def big_file(path: Path, n: int) -> list[bytes]:
    lines = [chat_line(f"zdanie {i}", f"Zdanie {i}.", None).encode() for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\r\n")  # a CRLF last line: kept as it is
    return lines


def test_the_lazy_document_reads_what_a_full_read_reads(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    big_file(path, 50_000)
    doc = open_lazy(path, step=1 << 16)
    doc.source.index.index_all()
    doc.grow()
    from tui.core.editing import Document

    whole = Document.from_bytes(path.read_bytes(), "chat")
    assert len(doc) == len(whole)
    assert [(e.text, e.eol) for e in doc.entries] == [(e.text, e.eol) for e in whole.entries]
    assert doc.to_bytes() == path.read_bytes()


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_save_rewrites_only_the_edited_lines(tmp_path: Path, where: str) -> None:
    path = tmp_path / "big.jsonl"
    lines = big_file(path, 100_000)
    before = path.read_bytes()
    doc = open_lazy(path, step=1 << 20)
    scan_all(doc)
    at = {"start": 0, "middle": 50_000, "end": 99_999}[where]
    edited = encode_example(pair_example(Pair(None, "Kot, spać", "Kot śpi.")))
    doc.replace(at, edited)
    doc.delete(at + 1 if at + 1 < len(doc) else at - 1)
    point = doc.save_point()
    _stamp, source = save_lazy(doc, path, point)
    doc.rebase(point, source)
    after = path.read_bytes().split(b"\n")
    expected = [line for line in before.split(b"\n")]
    gone = at + 1 if at + 1 < len(lines) else at - 1
    expected[at] = edited + (b"\r" if at == len(lines) - 1 else b"")
    del expected[gone]
    assert after == expected
    assert not doc.dirty and len(doc.entries.pieces()) == 1  # the new file, one run
    assert_shows_what_validate_reports(doc)
