"""The edit model never lies: after any sequence of edits, undo, redo, inserts, deletes,
saves and reopens, what the Dataset screen shows (stats, problem lines) is what
`tunebench validate` reports for the bytes Ctrl+S would write, in pairs, CSV and chat files."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tui.core.editing import Document, Pair, encode_example, pair_example
from tui.core.models import resolve_model
from tui.core.tokens import TokenCounter
from tui.core.validate import validate_bytes
from tui.core.workspace import stats_of

MODEL = resolve_model("gpt-4.1-mini-2025-04-14")
COUNTER = TokenCounter(MODEL.encoding)
SYSTEM = "Popraw gramatykę zdania."

words = st.sampled_from(["Kot", "spać", "kanapa", "Mama", "ja", "chcieć", "ciastko", "", " "])
texts = st.lists(words, min_size=0, max_size=4).map(" ".join)
pairs_lines = st.one_of(
    st.just("# system: Inna rola."),
    st.tuples(texts, texts).map(lambda p: f"{p[0]}; {p[1]}"),
    texts,  # no separator: a broken line
    st.just("# a comment"),
    st.just(""),
)


def csv_row(cells: tuple[str, ...], quote_all: bool) -> str:
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(out, quoting=quoting, lineterminator="").writerow(cells)
    return out.getvalue()


csv_rows = st.one_of(
    st.tuples(st.sampled_from(["1", "x"]), texts, texts, st.booleans()).map(
        lambda r: csv_row(r[:3], r[3])
    ),
    st.tuples(texts, st.sampled_from(['a "b", c', "d,e"])).map(lambda r: csv_row(("7", *r), False)),
    texts,  # one cell: the wrong number of fields
    st.just(""),
)


def chat_line(user: str, assistant: str, system: str | None = SYSTEM) -> str:
    return json.dumps(
        pair_example(Pair(system, user, assistant)), ensure_ascii=False
    )  # not encode_example: a different spacing than the editor writes


chat_lines = st.one_of(
    st.tuples(texts, texts).map(lambda p: chat_line(*p)),
    st.tuples(texts, texts).map(lambda p: chat_line(*p, system=None)),
    st.just('{"messages": [{"role": "user", "content": "x"}]}'),
    st.just("not json"),
    st.just(""),
)


def open_counted(data: bytes, fmt: str) -> Document:
    """A document as the Dataset screen holds it once the first check and count ran."""
    doc = Document.from_bytes(data, fmt, sep=";", system="")
    doc.check_all(doc.apply_checks)
    doc.checked = True
    doc.use_counter(COUNTER, MODEL.example_token_limit, MODEL.name)
    for entry in list(doc.entries):
        obj = entry.parse() if entry.kind == "example" else None
        if obj is not None:
            from tui.core.tokens import example_tokens

            tokens = example_tokens(obj, COUNTER, dpo=doc.fmt == "dpo")[0]
            doc.set_tokens(entry, entry.text, tokens, MODEL.example_token_limit)
    doc.tokens_ready = True
    return doc


def validate(doc: Document) -> Any:
    fmt = doc.source_format
    return validate_bytes(doc.to_bytes(), MODEL.name, fmt=fmt, sep=";", system=None)


class WorkspaceMachine(RuleBasedStateMachine):
    """Random edits on a random pairs, CSV or chat file."""

    @initialize(
        fmt=st.sampled_from(["pairs", "chat", "csv"]),
        header=st.booleans(),
        data=st.data(),
    )
    def open_file(self, fmt: str, header: bool, data: st.DataObject) -> None:
        kinds = {"pairs": pairs_lines, "chat": chat_lines, "csv": csv_rows}
        lines = data.draw(st.lists(kinds[fmt], max_size=14))
        if fmt == "pairs" and header:
            lines.insert(0, f"# system: {SYSTEM}")
        if fmt == "csv":  # header: a file that quotes every cell, or only where needed
            lines.insert(0, csv_row(("id", "input", "output"), header))
        body = "\n".join(lines) + data.draw(st.sampled_from(["\n", ""]))
        self.fmt = fmt
        self.original = body.encode("utf-8")
        self.doc = open_counted(self.original, fmt)
        assert self.doc.to_bytes() == self.original  # opened: byte for byte
        self.saved = self.opened = self.original

    def _editable(self) -> list[int]:
        return [
            i
            for i, e in enumerate(self.doc.entries)
            if e.kind != "comment"
            or (self.fmt == "pairs" and not e.saved.lower().startswith(b"# system"))
        ]

    @precondition(lambda self: bool(self.doc.entries))
    @rule(data=st.data(), user=texts, assistant=texts)
    def edit_pair(self, data: st.DataObject, user: str, assistant: str) -> None:
        """What the pair form posts: the example with the system prompt the line gets (in
        a CSV file without a system column, sometimes one it cannot hold)."""
        choices = self._editable()
        if not choices:
            return
        index = data.draw(st.sampled_from(choices))
        system = {"pairs": self.doc.entries[index].context, "chat": SYSTEM}.get(
            self.fmt, data.draw(st.sampled_from([None, None, SYSTEM]))
        )
        text = encode_example(pair_example(Pair(system, user, assistant)))
        self.doc.replace(index, text, key=(index, "user"))

    @precondition(lambda self: bool(self.doc.entries))
    @rule(data=st.data(), line=st.one_of(pairs_lines, chat_lines, csv_rows))
    def edit_raw(self, data: st.DataObject, line: str) -> None:
        """The raw editor: a pairs line in a pairs file, a row in a CSV file, a JSONL line
        in a chat file."""
        choices = self._editable()
        if not choices:
            return
        index = data.draw(st.sampled_from(choices))
        self.doc.replace(index, line.encode(), source_line=self.fmt != "chat")

    @rule(data=st.data())
    def insert_new(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(self.fmt == "csv", len(self.doc.entries)))
        self.doc.insert(index, [self.doc.new_example_text(index)])

    @precondition(lambda self: bool(self.doc.entries))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        choices = self._editable()
        if choices:
            self.doc.delete(data.draw(st.sampled_from(choices)))

    @rule()
    def undo(self) -> None:
        self.doc.undo()

    @rule()
    def redo(self) -> None:
        self.doc.redo()

    @precondition(lambda self: self.doc.needs_jsonl == 0)
    @rule()
    def save(self) -> None:
        self.saved = self.doc.to_bytes()
        self.doc.mark_saved()
        assert not self.doc.dirty

    @precondition(lambda self: not self.doc.dirty)
    @rule()
    def reopen(self) -> None:
        data = self.doc.to_bytes()
        self.doc = open_counted(data, self.fmt)
        assert self.doc.to_bytes() == data
        self.opened = data

    @invariant()
    def stats_are_what_validate_reports(self) -> None:
        if self.doc.needs_jsonl:
            return  # nothing to compare: Ctrl+S offers Save as JSONL instead
        report = validate(self.doc)
        if report.fatal is not None:  # an empty file: no dataset for validate at all
            assert stats_of(self.doc, MODEL).examples == 0
            return
        stats = stats_of(self.doc, MODEL)
        assert stats.examples == report.n_examples
        assert stats.errors == len(report.errors)
        assert stats.warnings == len(report.warnings)
        assert stats.tokens == report.tokens.total
        est = report.estimate
        assert est is not None
        assert (stats.epochs, stats.billed_tokens, stats.cost_usd) == (
            est.n_epochs,
            est.billed_tokens,
            est.estimated_cost_usd,
        )

    @invariant()
    def problem_lines_are_validates(self) -> None:
        if self.doc.needs_jsonl or validate(self.doc).fatal is not None:
            return
        shown = [(p.line, p.code, p.message) for p in self.doc.problems()]
        reported = [(p.line, p.code, p.message) for p in validate(self.doc).problems]
        assert shown == reported  # each repeated example on its own line, in validate's order

    @invariant()
    def not_dirty_means_the_file_holds_it(self) -> None:
        if not self.doc.dirty:
            assert self.doc.to_bytes() == self.saved

    @invariant()
    def untouched_lines_are_byte_identical(self) -> None:
        source = self.opened.split(b"\n")
        for entry in self.doc.entries:
            if entry.origin is not None and entry.source is not None:
                assert entry.saved == source[entry.origin].rstrip(b"\r")


WorkspaceMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_workspace_never_lies = WorkspaceMachine.TestCase


def test_undo_to_the_start_is_not_dirty() -> None:
    data = f"# system: {SYSTEM}\nKot, spać; Kot śpi.\nMama; Mamo!\n".encode()
    doc = open_counted(data, "pairs")
    doc.replace(1, encode_example(pair_example(Pair(SYSTEM, "Kot", "Kot śpi."))))
    doc.insert(3, [doc.new_example_text(3)])
    assert doc.dirty
    doc.undo()
    doc.undo()
    assert not doc.dirty and doc.to_bytes() == data


def test_an_example_over_the_token_limit_is_worded_as_validate_words_it() -> None:
    """The editor's too_many_tokens warning, after an edit and on open, equals validate's."""
    long_answer = "word " * (MODEL.example_token_limit + 100)
    lines = [chat_line(f"q{i}", f"a{i}") for i in range(11)] + [chat_line("q", long_answer)]
    doc = open_counted(("\n".join(lines) + "\n").encode(), "chat")
    doc.replace(0, chat_line("edited", long_answer).encode())  # counted as it is made

    def rows(problems: Any) -> set[tuple[int, str]]:
        return {(p.line, p.message) for p in problems if p.code == "too_many_tokens"}

    expected = rows(validate(doc).problems)
    assert len(expected) == 2
    assert rows(doc.problems()) == expected
