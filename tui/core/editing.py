"""The edit model of an open dataset: entries, undoable edits, incremental checks.

The document is a list of entries, one per line of the JSONL that will be saved. An entry
keeps its line as bytes; an unedited entry keeps the exact source bytes, so a file opened
and saved without edits is byte-identical. Every edit replaces, inserts, deletes or moves
entries and re-checks only the entries it touched; dataset-level figures (counts,
duplicates) are kept as running totals, so the cost of one keystroke does not grow with the
dataset.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections.abc import Callable, Iterable, MutableSequence, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import is_not
from typing import Any

from tui.core.formats import (
    BOM,
    JSONL_FORMATS,
    SYSTEM_PREFIX,
    TABLE_DELIMITERS,
    Record,
    TableLayout,
    is_dpo,
    parse_json_line,
    read_records,
    split_lines,
    table_layout,
    to_jsonl_line,
)
from tui.core.pairs_lines import NEEDS_JSONL, header_system
from tui.core.problems import ERROR, WARNING, Finding, Problem
from tui.core.scan import too_many_tokens
from tui.core.validate import MIN_EXAMPLES, record_findings, too_few_examples

TOO_MANY_TOKENS = "too_many_tokens"

# Typing into one field within this many seconds of the last keystroke is one undo step.
COALESCE_SECONDS = 1.5


@dataclass(slots=True, eq=False)
class Entry:
    """One line of the dataset as it will be saved.

    origin: the index of the source line this entry still holds unchanged, else None (the
    recovery file stores only what differs from the source).
    """

    text: bytes
    eol: bytes = b"\n"
    kind: str = "example"  # "example", "invalid", "blank" or "comment" (pairs #, CSV header)
    findings: tuple[Finding, ...] = ()
    tokens: int | None = None
    origin: int | None = None
    source_error: tuple[str, str] | None = None  # why a pairs/CSV line is no example
    # Pairs and CSV files: the line (or row) as the file holds it, written back on save;
    # None in JSONL files (`text` is the line) and for an edit the format cannot hold.
    source: bytes | None = None
    # Pairs files: the system prompt the line gets from a `# system:` line above it.
    context: str | None = None
    owner: object = None  # the Document whose totals count this entry (None: none does)

    @property
    def saved(self) -> bytes:
        """The bytes Ctrl+S writes for this entry (without the line ending)."""
        return self.source if self.source is not None else self.text

    def parse(self) -> Any:
        """The parsed example, or None when the line is not valid JSON."""
        obj, error = parse_json_line(self.text)
        return None if error is not None else obj


def check_entry(entry: Entry, fmt: str) -> tuple[str, tuple[Finding, ...]]:
    """(kind, findings) of one entry on its own: pure, O(size of the entry)."""
    if entry.kind == "comment":
        return "comment", ()
    if not entry.text.strip():
        return "blank", ()
    if entry.source_error is not None:
        code, message = entry.source_error
        return "invalid", (Finding(code, ERROR, message),)
    obj, error = parse_json_line(entry.text)
    if error is not None:
        rec = Record(0, entry.text, entry.eol, "invalid", error=error)
        kind = "invalid"
    else:
        rec = Record(0, entry.text, entry.eol, "example", obj=obj)
        kind = "example"
    return kind, tuple(record_findings(rec, fmt))


def encode_example(obj: Any) -> bytes:
    """One example exactly as it will be uploaded."""
    return to_jsonl_line(obj).encode("utf-8")


# ---------------------------------------------------------------------------- operations


@dataclass(slots=True)
class Replace:
    index: int
    old: Entry
    new: Entry
    key: object = None  # coalescing key: (index, field) while typing
    at: float = 0.0


@dataclass(slots=True)
class Insert:
    index: int
    entries: list[Entry]


@dataclass(slots=True)
class Delete:
    index: int
    entries: list[Entry]


@dataclass(slots=True)
class Move:
    src: int
    dst: int


@dataclass(slots=True)
class Batch:
    ops: list[Op]
    label: str = ""
    system: tuple[str, str] | None = None  # (old, new) default system prompt


Op = Replace | Insert | Delete | Move | Batch


@dataclass(slots=True)
class Counts:
    examples: int = 0  # entries that are examples, readable or not yet checked
    errors: int = 0  # error findings
    warnings: int = 0  # warning findings
    error_entries: int = 0  # entries with at least one error


# A line with one of these is no example at all: it is not counted as one.
UNREADABLE = frozenset({"invalid_json", "invalid_utf8", "line_too_long"})

# ---------------------------------------------------------------------------- document


@dataclass(repr=False)
class Document:
    """An open dataset. All mutation goes through `apply`, `undo` and `redo`."""

    def __repr__(self) -> str:
        return f"<Document {self.fmt}, {len(self.entries):,} entries>"

    # One entry per line; a big file's document holds a lazy sequence (lazydoc.LazyLines).
    entries: MutableSequence[Entry] = field(default_factory=list)
    fmt: str = "chat"  # "chat" or "dpo": what the entries are checked as
    has_bom: bool = False
    default_system: str = ""
    source_format: str = "chat"  # the format the file was read from
    checked: bool = True  # False until the first full check has run (see check_all)
    tokens_ready: bool = False  # True once every example has been counted once
    sep: str = ";"  # pairs files: the separator between input and output
    top_context: str | None = None  # pairs files: the system prompt before any `# system:`
    table: TableLayout | None = None  # CSV/TSV files: the header and quoting rows are written in

    def __post_init__(self) -> None:
        self._undo: list[Op] = []
        self._redo: list[Op] = []
        # What the file holds (as opened or last saved), and the indices where the entries
        # differ from it (None: to be recomputed, after an insert, delete or move).
        self._baseline: list[Entry] = self._initial_baseline()
        self._differ: set[int] | None = set()
        self._coalesce_ok = True
        self.counts = Counts()
        self._dups: dict[bytes, int] = {}
        self.duplicates = 0
        # (index, duplicate_example) for each example repeating an earlier one, as validate
        # lists them; None: to be listed again (a repeat came or went, or lines moved).
        self._dup_rows: list[tuple[int, Finding]] | None = None
        self._rows: list[tuple[int, Finding]] | None = None
        self._row_index: list[int] = []
        self._checks_applied = 0  # entries of check_all's results applied so far
        self.problems_version = 0  # bumps when any entry's findings change
        self._tokens_total = 0
        self._tokens_known = 0
        self._billed = 0  # sum over examples of min(tokens, token_limit)
        self._multiline = 0  # entries whose saved bytes span several lines (CSV rows)
        self._line_starts: list[int] | None = None
        self.needs_jsonl = 0  # entries the source format cannot hold (see pairs_lines)
        # Edits are counted as they are made once a counter is set (see use_counter).
        self.counter: Any = None
        self.token_limit: int | None = None
        self.token_model = ""  # the model whose limit token_limit is (named in the warning)
        self._count_opened()

    def _initial_baseline(self) -> list[Entry]:
        return list(self.entries)

    def _count_opened(self) -> None:
        """Count the entries the document opened with (unchecked until check_all)."""
        for entry in self.entries:
            self._count(entry, +1)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_bytes(cls, data: bytes, fmt: str, *, sep: str = ";", system: str = "") -> Document:
        """A document from file bytes, unchecked (run `check_all` in a worker).

        JSONL keeps every line verbatim, blank lines included. Pairs and CSV are converted
        to chat examples; their unreadable lines become invalid entries holding the source
        text, blank and comment lines are dropped.
        """
        entries: list[Entry] = []
        if fmt in TABLE_DELIMITERS and data in (b"", BOM):
            # An empty CSV/TSV file: no header yet; the first example brings one (insert).
            delimiter = TABLE_DELIMITERS[fmt]
            header = delimiter.join(("input", "output")).encode()
            return cls(
                [],
                has_bom=bool(data),
                default_system=system,
                source_format=fmt,
                checked=False,
                sep=sep,
                top_context=system or None,
                table=table_layout(header, delimiter),
            )
        if fmt in JSONL_FORMATS:
            # Lines are split, not parsed: parsing and checking run later, in a worker.
            has_bom, lines = split_lines(data)
            for i, (_number, raw, eol) in enumerate(lines):
                entries.append(Entry(raw, eol, "example" if raw.strip() else "blank", origin=i))
            doc = cls(entries, fmt=fmt, has_bom=has_bom, source_format=fmt, checked=False)
        else:
            # Every line (row) is kept, comments and blank lines included, so the file is
            # written back in its own format and entry i is line i + 1 (pairs).
            has_bom, records = read_records(data, fmt, sep=sep, system=system or None)
            context = system or None
            for n, rec in enumerate(records):
                raw = rec.raw
                if rec.kind == "example":
                    text = encode_example(rec.obj)
                    entry = Entry(text, rec.eol, origin=n, source=raw, context=context)
                elif rec.kind == "invalid":
                    entry = Entry(raw, rec.eol, "invalid", origin=n, source_error=rec.error)
                    entry.source, entry.context = raw, context
                else:  # a blank CSV row (`,,`) holds no example text either
                    text = b"" if rec.kind == "blank" else raw
                    entry = Entry(text, rec.eol, rec.kind, origin=n, source=raw, context=context)
                    if rec.kind == "comment" and fmt == "pairs":
                        context = header_system(raw, context)
                entries.append(entry)
            table = None
            if fmt in TABLE_DELIMITERS and entries:
                table = table_layout(entries[0].saved, TABLE_DELIMITERS[fmt])
            doc = cls(
                entries,
                fmt="chat",
                has_bom=has_bom,
                source_format=fmt,
                checked=False,
                sep=sep,
                top_context=system or None,
                table=table,
            )
        doc.default_system = system or doc.guess_default_system()
        return doc

    def guess_default_system(self) -> str:
        """The system prompt of the first example that has one (a cheap, honest guess)."""
        for entry in self.entries[:200]:
            obj = entry.parse()
            system = system_of(obj)
            if system is not None:
                return system
        return ""

    def check_all(
        self, progress: Callable[[list[tuple[Entry, bytes, str, tuple[Finding, ...]]]], None]
    ) -> None:
        """Check every entry, reporting results in chunks through `progress`.

        Runs in a worker thread; `progress` must hand each chunk to the UI thread, which
        applies it with `apply_checks` (entries edited meanwhile are skipped there).
        """
        chunk: list[tuple[Entry, bytes, str, tuple[Finding, ...]]] = []
        fmt = self.fmt
        for entry in list(self.entries):
            text = entry.text
            kind, findings = check_entry(entry, fmt)
            chunk.append((entry, text, kind, findings))
            if len(chunk) >= 5000:
                progress(chunk)
                chunk = []
        progress(chunk)

    def apply_checks(self, chunk: Iterable[tuple[Entry, bytes, str, tuple[Finding, ...]]]) -> None:
        """A chunk of check_all's results (UI thread). Its rows join the problem rows where
        they belong: the rows found so far are not rebuilt for each chunk."""
        entries = self.entries
        at = self._checks_applied  # where the chunk's first entry was when check_all began
        rows: list[tuple[int, Finding]] | None = []
        count = 0
        for count, (entry, text, kind, findings) in enumerate(chunk, 1):
            if entry.text is not text or entry.owner is not self:
                continue  # edited (replaced) or deleted since; the edit checked it
            index = at + count - 1
            if rows is not None and (
                entry.findings or index >= len(entries) or entries[index] is not entry
            ):
                rows = None  # lines moved since check_all began: the rows are listed again
            self._count(entry, -1)
            entry.kind, entry.findings = kind, findings
            self._count(entry, +1)
            if rows is not None:
                rows.extend((index, finding) for finding in findings)
        self._checks_applied = at + count
        if rows is None:
            self._rows = None
        elif rows:
            self._add_rows(rows)
        self.problems_version += 1

    def _add_rows(self, new: list[tuple[int, Finding]]) -> None:
        """Rows of entries that had none, sorted by index, merged into the problem rows."""
        if self._rows is None or not new:
            return  # (None: listed whole when next asked for)
        index = self._row_index
        lo = bisect.bisect_left(index, new[0][0])
        hi = bisect.bisect_right(index, new[-1][0])
        if lo < hi:  # (an edit's rows among them: merge that stretch only)
            new = list(heapq.merge(self._rows[lo:hi], new, key=lambda row: row[0]))
        self._rows[lo:hi] = new
        index[lo:hi] = [i for i, _ in new]

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.entries)

    def to_bytes(self) -> bytes:
        """The dataset file in its own format: unedited lines byte for byte."""
        body = b"".join(e.saved + e.eol for e in self.entries)
        return (b"\xef\xbb\xbf" + body) if self.has_bom else body

    def jsonl_bytes(self) -> bytes:
        """The dataset as a chat (or DPO) JSONL file, every line kept (Save as JSONL):
        pairs comments and blank lines are left out, broken lines are kept as they are."""
        return b"".join(e.text + b"\n" for e in self.entries if e.kind in ("example", "invalid"))

    def is_system_line(self, index: int) -> bool:
        """A pairs `# system:` line: it sets the system prompt of the pairs below it."""
        entry = self.entries[index]
        if entry.kind != "comment" or entry.source is None:
            return False
        body = entry.source.decode("utf-8", "replace").strip()[1:].strip().lower()
        return body.startswith(SYSTEM_PREFIX)

    def export_bytes(self) -> bytes:
        """Chat JSONL as uploaded: examples without errors, `\\n` endings, no BOM."""
        return b"".join(
            e.text + b"\n"
            for e in self.entries
            if e.kind == "example" and not any(f.is_error for f in e.findings)
        )

    @property
    def dirty(self) -> bool:
        """The entries differ from what the file holds (typing a letter and deleting it, or
        undoing back to the file, is not dirty)."""
        if len(self.entries) != len(self._baseline):
            return True
        if self._differ is None:
            self._differ = self._differing()
        return bool(self._differ)

    def _differing(self) -> set[int]:
        entries, base = self.entries, self._baseline
        # Unedited entries are the very objects of the baseline: skipped at C speed.
        suspects = compress(range(len(entries)), map(is_not, entries, base))
        return {i for i in suspects if not _same_line(entries[i], base[i])}

    def mark_saved(self, saved: list[Entry] | None = None) -> None:
        """`saved` (a save_point, default: the entries now) is what the file now holds."""
        self.set_baseline(self.entries if saved is None else saved)
        self._coalesce_ok = False

    def set_baseline(self, entries: Iterable[Entry]) -> None:
        """What the file holds, against which `dirty` is judged."""
        self._baseline = list(entries)
        self._differ = None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def problem_rows(self) -> list[tuple[int, Finding]]:
        """(entry index or -1 for the whole file, finding), in line order."""
        if self._rows is None:
            rows: list[tuple[int, Finding]] = []
            for i, entry in enumerate(self.entries):
                for finding in entry.findings:
                    rows.append((i, finding))
            self._rows = rows
            self._row_index = [i for i, _ in rows]
        dups = self.duplicate_rows()
        if not dups:
            return self.dataset_findings() + self._rows
        # At one line, the example's own findings come first, as validate sorts them.
        merged = heapq.merge(self._rows, dups, key=lambda row: row[0])
        return self.dataset_findings() + list(merged)

    def duplicate_rows(self) -> list[tuple[int, Finding]]:
        """duplicate_example on each example that repeats an earlier one, naming the line
        of the first, as `validate` reports them. O(dataset), only after a repeat came or
        went or lines moved: typing in an example that repeats none costs nothing here."""
        if self._dup_rows is None:
            rows: list[tuple[int, Finding]] = []
            if self.duplicates:
                first: dict[bytes, int] = {}
                repeated = self._dups
                for i, entry in enumerate(self.entries):
                    if entry.kind != "example":
                        continue
                    key = entry.text.strip()
                    if repeated.get(key, 0) < 2:
                        continue
                    seen = first.setdefault(key, i)
                    if seen != i:
                        message = f"the same example as line {self.line_of(seen)}"
                        rows.append((i, Finding("duplicate_example", WARNING, message)))
            self._dup_rows = rows
        return self._dup_rows

    def duplicate_of(self, index: int) -> Finding | None:
        """The duplicate_example finding of entry `index`, if it repeats an earlier one."""
        if not self.duplicates:
            return None
        rows = self.duplicate_rows()
        at = bisect.bisect_left(rows, index, key=lambda row: row[0])
        return rows[at][1] if at < len(rows) and rows[at][0] == index else None

    def dataset_findings(self) -> list[tuple[int, Finding]]:
        """Whole-file findings from running totals: O(1)."""
        out: list[tuple[int, Finding]] = []
        if self.checked and self.counts.examples < MIN_EXAMPLES:
            out.append((-1, too_few_examples(self.counts.examples)))
        return out

    def problems(self) -> list[Problem]:
        """Every problem with its line in the saved file (0: the whole file)."""
        return [finding.at(self.line_of(i) if i >= 0 else 0) for i, finding in self.problem_rows()]

    def line_of(self, index: int) -> int:
        """The 1-based line of the saved file where entry `index` starts (the numbers
        `validate` prints)."""
        if not self._multiline:
            return index + 1
        if self._line_starts is None:
            starts, line = [], 1
            for entry in self.entries:
                starts.append(line)
                line += entry.saved.count(b"\n") + 1
            self._line_starts = starts
        return self._line_starts[index]

    def codes(self) -> dict[str, int]:
        """Problem code -> number of findings, most frequent first."""
        tally: dict[str, int] = {}
        for _, finding in self.problem_rows():
            tally[finding.code] = tally.get(finding.code, 0) + 1
        return dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))

    def matching(self, query: str) -> list[int]:
        """Indices of entries matching a filter: `code:NAME` or text (case-insensitive)."""
        query = query.strip()
        if query.startswith("code:"):
            code = query[5:].strip()
            if code == "duplicate_example":
                return [i for i, _ in self.duplicate_rows()]
            return [
                i for i, e in enumerate(self.entries) if any(f.code == code for f in e.findings)
            ]
        needle = query.lower().encode("utf-8")
        escaped = to_jsonl_line(query.lower())[1:-1].encode("utf-8")
        return [
            i
            for i, e in enumerate(self.entries)
            if needle in e.text.lower() or escaped in e.text.lower()
        ]

    @property
    def tokens_total(self) -> int:
        return self._tokens_total

    @property
    def tokens_known(self) -> int:
        """How many examples have a token count (counting runs in a worker)."""
        return self._tokens_known

    @property
    def billed_tokens_per_epoch(self) -> int:
        """Sum over counted examples of their tokens, each capped at the model's limit."""
        return self._billed

    def use_counter(self, counter: Any, limit: int | None, model_name: str) -> None:
        """Count tokens of every entry an edit makes, as it is made (UI thread), with
        `counter` (a tokens.TokenCounter); over `limit` (of model_name) an entry gets
        too_many_tokens."""
        self.counter = counter
        self.token_limit = limit
        self.token_model = model_name

    def set_tokens(self, entry: Entry, text: bytes, tokens: int, limit: int | None = None) -> None:
        """Record a token count computed in a worker for `text`, if the entry still holds it.

        Over the model's per-example `limit`, the entry gets a too_many_tokens warning.
        """
        if entry.text is not text or entry.tokens == tokens or entry.owner is not self:
            return  # edited, deleted (its undo step keeps it) or in another document since
        self._count(entry, -1)
        entry.tokens = tokens
        findings = entry.findings
        entry.findings = _with_token_finding(findings, tokens, limit, self.token_model)
        self._count(entry, +1)
        if entry.findings != findings:  # (the rows of a token count rarely change)
            self._rows = None
            self.problems_version += 1

    def reset_tokens(self) -> None:
        """Forget every token count (another encoding was chosen)."""
        for entry in self.entries:
            self._count(entry, -1)
            entry.tokens = None
            entry.findings = tuple(f for f in entry.findings if f.code != TOO_MANY_TOKENS)
            self._count(entry, +1)
        self._tokens_total = self._tokens_known = self._billed = 0
        self._rows = None
        self.tokens_ready = False

    def _measure(self, entry: Entry) -> None:
        """Count a new entry's tokens now, if a counter is set (see use_counter)."""
        if self.counter is None or entry.tokens is not None or entry.kind != "example":
            return
        obj = entry.parse()
        if obj is None:
            return
        from tui.core.tokens import example_tokens

        tokens = example_tokens(obj, self.counter, dpo=self.fmt == "dpo")[0]
        entry.tokens = tokens
        entry.findings = _with_token_finding(
            entry.findings, tokens, self.token_limit, self.token_model
        )

    def save_point(self) -> list[Entry]:
        """The entries as they are now: what a save in a worker writes, then `mark_saved`."""
        return list(self.entries)

    # ------------------------------------------------------------------ editing

    def make_entry(
        self,
        text: bytes,
        eol: bytes = b"\n",
        *,
        context: str | None = None,
        source_line: bool = False,
        like: bytes | None = None,
    ) -> Entry:
        """A checked entry for `text`: a chat/DPO JSONL line, or with `source_line` a line in
        the file's own format (a pairs line, a CSV row). In a pairs or CSV file the example
        is written as a line (row) of the file and read back as `validate` reads it; what
        the format cannot hold is marked needs_jsonl. like: the row being replaced (CSV:
        its other cells are kept)."""
        from tui.core.pairs_lines import needs_jsonl, pairs_entry, render_pair

        why = ""
        holder = "a pairs line"
        if self.table is not None:
            from tui.core.table_rows import render_row, table_entry

            holder = f"a {self.source_format.upper()} row"
            if source_line:
                entry = table_entry(text, eol, self.table, context)
            else:
                obj, error = parse_json_line(text)
                row, why = (
                    (None, "it is not valid JSON")
                    if error
                    else render_row(obj, self.table, like, context)
                )
                entry = (
                    table_entry(row, eol, self.table, context)
                    if row is not None
                    else Entry(text, eol, context=context)
                )
        elif self.source_format == "pairs":
            if source_line:
                entry = pairs_entry(text, eol, self.sep, context)
            else:
                obj, error = parse_json_line(text)
                line, why = (
                    (None, "it is not valid JSON") if error else render_pair(obj, self.sep, context)
                )
                entry = (
                    pairs_entry(line, eol, self.sep, context)
                    if line is not None
                    else Entry(text, eol, context=context)
                )
        else:
            entry = Entry(text, eol)
        entry.kind, entry.findings = check_entry(entry, self.fmt)
        if why:
            entry.findings += (needs_jsonl(why, holder),)
        return entry

    def draft_pair(self, entry: Entry) -> Pair | None:
        """A broken line of a pairs or CSV file as a pair to fix in the form, else None."""
        if self.table is not None:
            from tui.core.table_rows import row_draft

            return row_draft(entry, self.table)
        if self.source_format == "pairs":
            from tui.core.pairs_lines import pair_draft

            return pair_draft(entry, self.sep)
        return None

    def context_at(self, index: int) -> str | None:
        """Pairs files: the system prompt a line inserted at `index` gets from the file."""
        if self.source_format != "pairs" or index == 0:
            return self.top_context
        from tui.core.pairs_lines import header_system

        prev = self.entries[index - 1]
        if prev.kind == "comment" and prev.source is not None:
            return header_system(prev.source, prev.context)
        return prev.context

    def new_example_text(self, index: int) -> bytes:
        """An empty example for inserting at `index` (with the system prompt it gets)."""
        if self.source_format == "pairs":
            system = self.context_at(index)
        else:
            system = self.default_system or None
        return encode_example(pair_example(Pair(system, "", "")))

    def replace(
        self, index: int, text: bytes, *, key: object = None, source_line: bool = False
    ) -> Entry:
        """Put `text` at `index` (one keystroke's edit); returns the new entry.

        source_line: `text` is the line in the file's own format (a pairs line).
        """
        old = self.entries[index]
        if text == (old.saved if source_line else old.text):
            return old
        new = self.make_entry(
            text, old.eol, context=old.context, source_line=source_line, like=old.source
        )
        if new.text == old.text and new.source == old.source:
            return old  # e.g. a space typed at the end of a pairs text: the same line
        if self.source_format == "pairs" and self.system_after(old) != self.system_after(new):
            # A `# system:` line changed: the pairs below it (to the next one) get it.
            self._coalesce_ok = False
            self.apply(Batch([Replace(index, old, new), *self._recontext(index + 1, new)]))
            return new
        now = time.monotonic()
        top = self._undo[-1] if self._undo else None
        if (
            key is not None
            and isinstance(top, Replace)
            and top.key == key
            and top.index == index
            and self._coalesce_ok
            and not self._redo
            and now - top.at < COALESCE_SECONDS
        ):
            self._set(index, new)
            top.new, top.at = new, now
            return new
        self._coalesce_ok = True
        self.apply(Replace(index, old, new, key, now))
        return new

    @staticmethod
    def system_after(entry: Entry) -> str | None:
        """The system prompt in effect after a pairs entry."""
        if entry.kind == "comment" and entry.source is not None:
            return header_system(entry.source, entry.context)
        return entry.context

    def _recontext(self, start: int, header: Entry) -> list[Op]:
        """Replace ops re-reading the pairs from `start` to the next `# system:` line with
        the system prompt `header` leaves in effect."""
        context = self.system_after(header)
        ops: list[Op] = []
        for i in range(start, len(self.entries)):
            if self.is_system_line(i):
                break
            old = self.entries[i]
            if old.source is not None:
                new = self.make_entry(old.source, old.eol, context=context, source_line=True)
            else:  # an example the pairs line cannot hold: keep its text
                new = self.make_entry(old.text, old.eol, context=context)
            ops.append(Replace(i, old, new))
        return ops

    def insert(self, index: int, texts: Sequence[bytes]) -> None:
        context = self.context_at(index)
        # New lines end as the file's first line does (a CSV from Excel: CRLF).
        eol = (self.entries[0].eol if self.entries else b"") or b"\n"
        new = [self.make_entry(t, eol, context=context) for t in texts]
        if self.table is not None and not self.entries and new:  # an empty CSV: its header
            header = self.table.header
            new.insert(0, Entry(header, eol, "comment", source=header, context=context))
        last = self.entries[-1] if self.entries else None
        if index == len(self.entries) and last is not None and not last.eol and new:
            # The file ends without a newline: keep it so, after the new last line.
            ended = Entry(last.text, b"\n", last.kind, last.findings, last.tokens, last.origin)
            ended.source_error, ended.source, ended.context = (
                last.source_error,
                last.source,
                last.context,
            )
            new[-1].eol = b""
            self.apply(Batch([Replace(index - 1, last, ended), Insert(index, new)], "insert"))
            return
        self.apply(Insert(index, new))

    def delete(self, index: int, count: int = 1) -> None:
        self.apply(Delete(index, list(self.entries[index : index + count])))

    def move(self, src: int, dst: int) -> None:
        if src != dst and 0 <= dst < len(self.entries):
            self.apply(Move(src, dst))

    def apply(self, op: Op) -> int:
        """Do an operation as a new undo step; returns the entry index it concerns."""
        self._undo.append(op)
        self._redo.clear()
        return self._do(op)

    def undo(self) -> int | None:
        """Undo the last step; returns the entry index to show, or None if nothing to undo."""
        if not self._undo:
            return None
        op = self._undo.pop()
        self._redo.append(op)
        self._coalesce_ok = False
        return self._do(_inverse(op))

    def redo(self) -> int | None:
        if not self._redo:
            return None
        op = self._redo.pop()
        self._undo.append(op)
        self._coalesce_ok = False
        return self._do(op)

    # ------------------------------------------------------------------ internals

    def _do(self, op: Op) -> int:
        if isinstance(op, Batch):
            if op.system is not None:
                self.default_system = op.system[1]
            index = 0
            for sub in op.ops:
                index = self._do(sub)
            return index
        if isinstance(op, Replace):
            self._set(op.index, op.new)
            return op.index
        self.problems_version += 1
        self._rows = None
        self._line_starts = None
        self._dup_rows = None
        self._differ = None
        if isinstance(op, Insert):
            self.entries[op.index : op.index] = op.entries
            for entry in op.entries:
                self._measure(entry)
                self._count(entry, +1)
            return op.index
        if isinstance(op, Delete):
            del self.entries[op.index : op.index + len(op.entries)]
            for entry in op.entries:
                self._count(entry, -1)
            return min(op.index, max(0, len(self.entries) - 1))
        entry = self.entries.pop(op.src)
        self.entries.insert(op.dst, entry)
        return op.dst

    def _set(self, index: int, new: Entry) -> None:
        old = self.entries[index]
        self._measure(new)
        self._count(old, -1)
        self.entries[index] = new
        self._count(new, +1)
        if self._differ is not None and index < len(self._baseline):
            if _same_line(new, self._baseline[index]):
                self._differ.discard(index)
            else:
                self._differ.add(index)
        if old.findings != new.findings:
            self.problems_version += 1
        if self._rows is not None and (old.findings or new.findings):
            lo = bisect.bisect_left(self._row_index, index)
            hi = bisect.bisect_right(self._row_index, index)
            self._rows[lo:hi] = [(index, f) for f in new.findings]
            self._row_index[lo:hi] = [index] * len(new.findings)

    def _count(self, entry: Entry, sign: int) -> None:
        entry.owner = self if sign > 0 else None
        if b"\n" in entry.saved:
            self._multiline += sign
            self._line_starts = None
            self._dup_rows = None  # the lines they name may have moved
        if entry.kind in ("blank", "comment"):
            return
        counts = self.counts
        if entry.kind == "example" and not any(f.code in UNREADABLE for f in entry.findings):
            counts.examples += sign  # as the validator and the API count: lines that parse
        errors = sum(1 for f in entry.findings if f.is_error)
        counts.errors += sign * errors
        counts.warnings += sign * (len(entry.findings) - errors)
        if errors:
            counts.error_entries += sign
        if entry.tokens is not None:
            self._tokens_total += sign * entry.tokens
            self._tokens_known += sign
            limit = self.token_limit
            self._billed += sign * (entry.tokens if limit is None else min(entry.tokens, limit))
        if any(f.code == NEEDS_JSONL for f in entry.findings):
            self.needs_jsonl += sign
        if entry.kind != "example":
            return  # duplicates are of examples, as validate counts them
        self._count_duplicate(entry, sign)

    def _count_duplicate(self, entry: Entry, sign: int) -> None:
        key = entry.text.strip()
        seen = self._dups.get(key, 0)
        if sign > 0:
            self._dups[key] = seen + 1
            if seen:
                self.duplicates += 1
                self._dup_rows = None
                self.problems_version += 1
        else:
            if seen <= 1:
                self._dups.pop(key, None)
            else:
                self._dups[key] = seen - 1
            if seen > 1:
                self.duplicates -= 1
                self._dup_rows = None
                self.problems_version += 1


def _with_token_finding(
    findings: tuple[Finding, ...], tokens: int, limit: int | None, model_name: str
) -> tuple[Finding, ...]:
    """`findings` with too_many_tokens present exactly when `tokens` is over `limit`, worded
    as validate words it."""
    kept = tuple(f for f in findings if f.code != TOO_MANY_TOKENS)
    if limit is not None and tokens > limit:
        kept += (too_many_tokens(tokens, limit, model_name),)
    return kept


def _same_line(a: Entry, b: Entry) -> bool:
    """The two entries put the same bytes in the file."""
    return a is b or (a.saved == b.saved and a.eol == b.eol)


def _inverse(op: Op) -> Op:
    if isinstance(op, Batch):
        system = (op.system[1], op.system[0]) if op.system else None
        return Batch([_inverse(sub) for sub in reversed(op.ops)], op.label, system)
    if isinstance(op, Replace):
        return Replace(op.index, op.new, op.old)
    if isinstance(op, Insert):
        return Delete(op.index, op.entries)
    if isinstance(op, Delete):
        return Insert(op.index, op.entries)
    return Move(op.dst, op.src)


# ---------------------------------------------------------------------------- chat shapes


def system_of(obj: Any) -> str | None:
    """The system prompt of a chat example (first message), or None."""
    if not isinstance(obj, dict):
        return None
    messages = obj.get("messages")
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, dict) and first.get("role") == "system":
            content = first.get("content")
            return content if isinstance(content, str) else None
    return None


@dataclass(slots=True)
class Pair:
    """The simple shape the pair editor edits: [system], user, assistant (+ weight)."""

    system: str | None
    user: str
    assistant: str
    weight: int | None = None


def as_pair(obj: Any) -> Pair | None:
    """A Pair if the example has the simple shape (and nothing else), else None."""
    if not isinstance(obj, dict) or set(obj) != {"messages"} or is_dpo(obj):
        return None
    messages = obj["messages"]
    if not isinstance(messages, list):
        return None
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles not in (["system", "user", "assistant"], ["user", "assistant"]):
        return None
    for m in messages:
        allowed = {"role", "content", "weight"} if m["role"] == "assistant" else {"role", "content"}
        if set(m) - allowed or not isinstance(m.get("content"), str):
            return None
    assistant = messages[-1]
    weight = assistant.get("weight")
    if "weight" in assistant and weight not in (0, 1):
        return None
    system = messages[0]["content"] if roles[0] == "system" else None
    return Pair(system, messages[-2]["content"], assistant["content"], weight)


ROLES_CYCLE = ("system", "user", "assistant")


@dataclass(slots=True)
class PlainMessage:
    """A message of plain text, as the message-list editor edits it."""

    role: str
    content: str
    weight: int | None = None


def as_messages(obj: Any) -> list[PlainMessage] | None:
    """The messages of a chat example made only of plain text messages, else None."""
    if not isinstance(obj, dict) or set(obj) != {"messages"}:
        return None
    messages = obj["messages"]
    if not isinstance(messages, list) or not messages:
        return None
    out: list[PlainMessage] = []
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ROLES_CYCLE:
            return None
        allowed = {"role", "content", "weight"} if m["role"] == "assistant" else {"role", "content"}
        if set(m) - allowed or not isinstance(m.get("content"), str):
            return None
        weight = m.get("weight")
        if "weight" in m and (weight not in (0, 1) or isinstance(weight, bool)):
            return None
        out.append(PlainMessage(m["role"], m["content"], weight))
    return out


def messages_example(messages: list[PlainMessage]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for m in messages:
        message: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.weight is not None and m.role == "assistant":
            message["weight"] = m.weight
        out.append(message)
    return {"messages": out}


def pair_example(pair: Pair) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if pair.system is not None:
        messages.append({"role": "system", "content": pair.system})
    messages.append({"role": "user", "content": pair.user})
    assistant: dict[str, Any] = {"role": "assistant", "content": pair.assistant}
    if pair.weight is not None:
        assistant["weight"] = pair.weight
    messages.append(assistant)
    return {"messages": messages}


def first_words(entry: Entry, width: int = 60) -> str:
    """A short label for the examples list: the first user turn, or the raw text."""
    if entry.kind == "blank":
        return "(blank line)"
    obj = entry.parse()
    text: Any = None
    if isinstance(obj, dict):
        messages = obj.get("messages")
        if messages is None and isinstance(obj.get("input"), dict):
            messages = obj["input"].get("messages")
        if isinstance(messages, list):
            for m in messages:
                if isinstance(m, dict) and m.get("role") == "user":
                    text = m.get("content")
                    break
    if not isinstance(text, str):
        text = entry.text[: width * 4].decode("utf-8", "replace")
    return " ".join(text[: width * 2].split())[:width] or "(empty)"


def with_system(obj: Any, old: str, new: str) -> bool:
    """Give a chat example `new` as its system prompt if it uses the default `old` (its
    system prompt is `old`, or it has none); an override (another system prompt) stays.
    Changes `obj` in place; returns whether it changed. The one rule of Ctrl+T, for the
    in-memory path (set_system_for_all) and a big file's streamed one (system_stream)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
        return False
    messages = obj["messages"]
    current = system_of(obj)
    if current is not None and current != old:
        return False
    if current is not None:
        if new:
            if current == new:
                return False
            messages[0] = {**messages[0], "content": new}
        else:
            del messages[0]
    elif new:
        messages.insert(0, {"role": "system", "content": new})
    else:
        return False
    return True


def set_system_for_all(doc: Document, new: str) -> Batch:
    """Replace ops setting `new` on every example using the default system prompt
    (`with_system`). O(dataset): run it in a worker and `apply` the batch on the UI thread.
    """
    old = doc.default_system
    ops: list[Op] = []
    for i, entry in enumerate(list(doc.entries)):
        obj = entry.parse()
        if not with_system(obj, old, new):
            continue
        replacement = Entry(encode_example(obj), entry.eol)
        replacement.kind, replacement.findings = check_entry(replacement, doc.fmt)
        ops.append(Replace(i, entry, replacement))
    return Batch(ops, "system prompt")


def apply_system_batch(doc: Document, batch: Batch, new: str) -> None:
    """Apply a batch from `set_system_for_all` (skipping entries edited meanwhile)."""
    ops: list[Op] = [
        op for op in batch.ops if isinstance(op, Replace) and doc.entries[op.index] is op.old
    ]
    doc.apply(Batch(ops, "system prompt", (doc.default_system, new)))
