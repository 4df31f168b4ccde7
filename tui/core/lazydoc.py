"""A big JSONL dataset edited without an object per line.

`LazyDocument` is a `Document` whose entries are a piece table (`LazyLines`): runs of
untouched lines of the file on disk (Python ranges over a `LineIndex`) and short lists of
the entries the user changed. A line of a run becomes an `Entry` only when something asks
for it (a row on screen, the editor), through a small cache.

What the background scan finds about each line of the file (`Checks`: the lines of the
examples, their token counts and duplicate digests, the problems) is kept packed, as
`validate` keeps it, so the running totals of a million untouched lines cost a few arrays.
The document's totals are the scanned lines still present plus its own entries; a line
removed before the scan reaches it is remembered (`_absent`) and skipped when it does.
After a save the document is re-based on the new file: its runs then point into that file.
"""

from __future__ import annotations

import bisect
import sys
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from dataclasses import dataclass
from hashlib import blake2b
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, overload

from tui.core.chunks import CHUNK_BYTES
from tui.core.editing import (
    UNREADABLE,
    Counts,
    Document,
    Entry,
    _with_token_finding,
    check_entry,
)
from tui.core.lineindex import LineIndex
from tui.core.problems import ERROR, WARNING, Finding, Problem
from tui.core.split import split_key, split_sides

if TYPE_CHECKING:
    from tui.core.filestamp import FileStamp
    from tui.core.models import BaseModel
    from tui.core.scan import Scan

ENTRY_CACHE = 2048  # entries made from file lines, kept for the screen's next look
COPY_BYTES = 4 * 1024 * 1024  # a save copies untouched runs this many bytes at a time


def head_of(text: bytes) -> int:
    """The first 8 bytes of an example's digest, as `validate` finds duplicates."""
    from tui.core.scan import DIGEST_BYTES

    digest = blake2b(text.strip(), digest_size=DIGEST_BYTES).digest()
    return int.from_bytes(digest[:8], sys.byteorder)


# ---------------------------------------------------------------------------- scan results


class Checks:
    """What the scan found about the lines of one file, packed: per example its line (0-based),
    token count and digest head; every problem with its line. Lines [0, upto) are checked."""

    def __init__(self) -> None:
        self.ex_lines: array[int] = array("q")
        self.tokens: array[int] = array("q")
        self.heads: array[int] = array("Q")
        self.head_runs: array[int] = array("Q")  # the scans' heads, in sorted runs (see Scan)
        self.problem_lines: array[int] = array("q")
        self.findings: list[Finding] = []
        self.upto = 0
        self.sorted_heads: array[int] | None = None  # once complete: for duplicate counts
        self.repeated: set[int] = set()  # once complete: heads of more than one example

    @property
    def complete(self) -> bool:
        return self.sorted_heads is not None

    def add_scan(self, scan: Scan, end: int) -> None:
        """A chunk's Scan (lines numbered from 1), covering the lines up to `end`."""
        from tui.core.scan import DIGEST_BYTES

        self.ex_lines.extend(line - 1 for line in scan.lines)
        self.tokens.extend(scan.counts)
        with memoryview(scan.digests) as view, view.cast("Q") as words:
            self.heads.extend(words[:: DIGEST_BYTES // 8])
        self.head_runs.extend(scan.head_runs)
        for problem in scan.problems:
            self.add_problem(problem)
        self.upto = max(self.upto, end)

    def add_problem(self, problem: Problem) -> None:
        self.problem_lines.append(problem.line - 1)
        self.findings.append(problem)  # a Problem is a Finding (its line kept apart, above)

    def finish(self) -> None:
        # The scans' runs hold every head unless the heads were put in some other way.
        runs = self.head_runs if len(self.head_runs) == len(self.heads) else self.heads
        heads = array("Q", sorted(runs))
        self.head_runs = array("Q")
        self.repeated = {a for a, b in pairwise(heads) if a == b}
        self.sorted_heads = heads

    def example_at(self, line: int) -> int | None:
        """The index of line's example in the arrays, or None (no example, or unscanned)."""
        k = bisect.bisect_left(self.ex_lines, line)
        return k if k < len(self.ex_lines) and self.ex_lines[k] == line else None

    def findings_at(self, line: int) -> tuple[Finding, ...]:
        lo = bisect.bisect_left(self.problem_lines, line)
        hi = bisect.bisect_right(self.problem_lines, line)
        return tuple(self.findings[lo:hi])

    def base_count(self, head: int) -> int:
        """How many examples of the file have this digest head (once complete)."""
        heads = self.sorted_heads
        assert heads is not None
        return bisect.bisect_right(heads, head) - bisect.bisect_left(heads, head)

    def duplicates(self) -> int:
        """Examples of the file that repeat an earlier one (once complete)."""
        heads = self.sorted_heads
        assert heads is not None
        return sum(1 for a, b in pairwise(heads) if a == b)


@dataclass(slots=True, eq=False)
class SourceEntry(Entry):
    """An untouched line of a Source, made on demand (see Source.entry)."""

    file: Source | None = None  # the file version it is a line of


class Source:
    """One version of the dataset file: its lines, what the scan found, a cache of entries."""

    def __init__(self, index: LineIndex, fmt: str, checks: Checks | None = None) -> None:
        self.index = index
        self.fmt = fmt
        self.checks = checks if checks is not None else Checks()
        self.counter: Any = None  # a tokens.TokenCounter: unscanned lines are counted on demand
        self.limit: int | None = None
        self.model_name = ""
        self._cache: OrderedDict[int, SourceEntry] = OrderedDict()

    def entry(self, line: int, *, keep: bool = True) -> SourceEntry:
        """Line `line` as an entry, with what the scan found (or, before the scan reaches
        it, checked here)."""
        cached = self._cache.get(line)
        if cached is not None:
            self._cache.move_to_end(line)
            return cached
        text, eol = self.index.line(line)
        entry = SourceEntry(text, eol, origin=line, file=self)
        checks = self.checks
        if line < checks.upto:
            k = checks.example_at(line)
            entry.findings = checks.findings_at(line)
            if k is not None:
                entry.tokens = checks.tokens[k]
            elif not text.strip():
                entry.kind = "blank"
            else:
                entry.kind = "invalid"
        else:
            entry.kind, entry.findings = check_entry(entry, self.fmt)
            self._measure(entry)
        if keep:
            self._cache[line] = entry
            if len(self._cache) > ENTRY_CACHE:
                self._cache.popitem(last=False)
        return entry

    def _measure(self, entry: Entry) -> None:
        if self.counter is None or entry.kind != "example":
            return
        obj = entry.parse()
        if obj is None:
            return
        from tui.core.tokens import example_tokens

        entry.tokens = example_tokens(obj, self.counter, dpo=self.fmt == "dpo")[0]
        entry.findings = _with_token_finding(
            entry.findings, entry.tokens, self.limit, self.model_name
        )

    def forget(self) -> None:
        """Drop cached entries (the scan has since found more about their lines)."""
        self._cache.clear()


# ---------------------------------------------------------------------------- the pieces

Piece = range | list[Entry]


@dataclass(frozen=True, slots=True)
class Rest:
    """In a save point taken before the index reached the end of the file: every line of
    the file from `start` on (they follow the document's last piece)."""

    start: int


class LazyLines(MutableSequence[Entry]):
    """The entries of a LazyDocument: pieces that are runs of source lines or entry lists.

    Supports what Document does to its list: index, slice, assign one item, insert and
    delete slices, pop and insert. Every change is a splice costing O(number of pieces).
    """

    def __init__(self, source: Source, pieces: list[Piece] | None = None) -> None:
        self.source = source
        self._known = 0  # source lines the pieces know of (the index may have found more)
        self._pieces: list[Piece] = []
        self._starts: list[int] = []
        self._len = 0
        if pieces is None:
            self.grow()
        else:
            self._known = len(source.index)
            self._set_pieces(pieces)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        piece, offset = self._locate(index)
        if isinstance(piece, range):
            return self.source.entry(piece[offset])
        return piece[offset]

    def __iter__(self) -> Iterator[Entry]:
        source = self.source
        for piece in list(self._pieces):
            if isinstance(piece, range):
                for line in piece:
                    yield source.entry(line, keep=False)
            else:
                yield from piece

    def pieces(self) -> list[Piece]:
        """A copy of the pieces (what a save writes; entries are never changed in place)."""
        return [p if isinstance(p, range) else list(p) for p in self._pieces]

    def _locate(self, index: int) -> tuple[Piece, int]:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("entry index out of range")
        p = bisect.bisect_right(self._starts, index) - 1
        return self._pieces[p], index - self._starts[p]

    # ------------------------------------------------------------------ changing

    def __setitem__(self, index: int | slice, value: Any) -> None:  # type: ignore[override]
        if isinstance(index, slice):
            start, stop, _ = index.indices(self._len)
            self.splice(start, max(start, stop), list(value))
        else:
            if index < 0:
                index += self._len
            self._locate(index)
            self.splice(index, index + 1, [value])

    def __delitem__(self, index: int | slice) -> None:  # type: ignore[override]
        if isinstance(index, slice):
            start, stop, _ = index.indices(self._len)
            self.splice(start, max(start, stop), [])
        else:
            self.pop(index)

    def pop(self, index: int = -1) -> Entry:
        entry = self[index]
        if index < 0:
            index += self._len
        self.splice(index, index + 1, [])
        return entry

    def insert(self, index: int, entry: Entry) -> None:
        index = max(0, min(self._len, index + self._len if index < 0 else index))
        self.splice(index, index, [entry])

    def splice(self, start: int, stop: int, entries: list[Entry]) -> None:
        """Put `entries` in place of the entries [start, stop)."""
        left: list[Piece] = []
        right: list[Piece] = []
        pos = 0
        for piece in self._pieces:
            n = len(piece)
            if pos + n <= start:
                left.append(piece)
            elif pos >= stop:
                right.append(piece)
            else:
                if pos < start:
                    left.append(piece[: start - pos])
                if pos + n > stop:
                    right.append(piece[stop - pos :])
            pos += n
        self._set_pieces([*left, *self._pieces_of(entries), *right])

    def grow(self) -> int:
        """Take in the lines the index found since; they go at the end. Returns how many."""
        known, found = self._known, len(self.source.index)
        if found <= known:
            return 0
        last = self._pieces[-1] if self._pieces else None
        if isinstance(last, range) and last.stop == known:
            self._pieces[-1] = range(last.start, found)
        else:
            self._pieces.append(range(known, found))
        self._known = found
        self._set_pieces(self._pieces)
        return found - known

    def _pieces_of(self, entries: list[Entry]) -> list[Piece]:
        """Source entries of this source become runs again; the others stay entries."""
        out: list[Piece] = []
        for entry in entries:
            last = out[-1] if out else None
            if isinstance(entry, SourceEntry) and entry.file is self.source:
                line = entry.origin
                assert line is not None
                if isinstance(last, range) and last.stop == line:
                    out[-1] = range(last.start, line + 1)
                else:
                    out.append(range(line, line + 1))
            elif isinstance(last, list):
                last.append(entry)
            else:
                out.append([entry])
        return out

    def _set_pieces(self, pieces: list[Piece]) -> None:
        """Merge neighbours (adjacent runs, adjacent lists), drop empty pieces, re-index."""
        merged: list[Piece] = []
        for piece in pieces:
            if not len(piece):
                continue
            last = merged[-1] if merged else None
            if isinstance(piece, range) and isinstance(last, range) and last.stop == piece.start:
                merged[-1] = range(last.start, piece.stop)
            elif isinstance(piece, list) and isinstance(last, list):
                merged[-1] = last + piece
            else:
                merged.append(piece if isinstance(piece, range) else list(piece))
        starts, pos = [], 0
        for piece in merged:
            starts.append(pos)
            pos += len(piece)
        self._pieces, self._starts, self._len = merged, starts, pos

    # ------------------------------------------------------------------ comparing

    def differs(self) -> bool:
        """The entries differ from the source file's lines (as far as it is indexed)."""
        index = self.source.index
        pos = 0
        for piece in self._pieces:
            if isinstance(piece, range):
                n = len(piece)
                if piece.start != pos and (
                    pos + n > self._known or not index.same_lines(piece.start, pos, n)
                ):
                    return True
            else:
                for k, entry in enumerate(piece):
                    line = pos + k
                    if line >= self._known:  # past the file's end: only if it writes nothing
                        if entry.saved or entry.eol:
                            return True
                    elif (entry.saved, entry.eol) != index.line(line):
                        return True
            pos += len(piece)
        return pos < self._known


# ---------------------------------------------------------------------------- the document


class LazyDocument(Document):
    """A Document over a Source (see the module's docstring). JSONL (chat or DPO) only."""

    entries: LazyLines  # type: ignore[assignment]

    @classmethod
    def open(cls, index: LineIndex, fmt: str) -> LazyDocument:
        source = Source(index, fmt)
        return cls(LazyLines(source), fmt=fmt, has_bom=index.has_bom, source_format=fmt,
                   checked=False)  # fmt: skip

    def guess_default_system(self) -> str:
        """As Document's, from the first lines parsed (not checked: that waits for the scan)."""
        from tui.core.editing import system_of
        from tui.core.formats import parse_json_line

        index = self.source.index
        for line in range(min(200, len(index))):
            obj, error = parse_json_line(index.line(line)[0])
            system = None if error else system_of(obj)
            if system is not None:
                return system
        return ""

    def __repr__(self) -> str:
        return f"<LazyDocument {self.fmt}, {len(self.entries):,} entries>"

    def _initial_baseline(self) -> list[Entry]:
        return []  # the source file is the baseline

    def _count_opened(self) -> None:
        self._absent: set[int] = set()  # unscanned source lines no longer in the document
        self._delta: dict[int, int] = {}  # digest head -> examples added minus file's removed
        self.scan_progress = 0.0

    @property
    def source(self) -> Source:
        return self.entries.source

    @property
    def complete(self) -> bool:
        """Every line of the file has been indexed."""
        return self.source.index.complete and len(self.source.index) == self.entries._known

    def grow(self) -> int:
        """Take in the lines the index found since (UI thread)."""
        known = self.entries._known
        added = self.entries.grow()
        if added:
            self._line_starts = None
            # The scan may have got past the index's end as the document knew it.
            lines, findings = self.source.checks.problem_lines, self.source.checks.findings
            lo = bisect.bisect_left(lines, known)
            hi = bisect.bisect_left(lines, known + added, lo)
            shift = len(self.entries) - added - known
            self._add_rows(
                [(line + shift, f) for line, f in zip(lines[lo:hi], findings[lo:hi], strict=True)]
            )
        return added

    # ------------------------------------------------------------------ state

    @property
    def dirty(self) -> bool:
        return self.entries.differs()

    def set_baseline(self, entries: Iterable[Entry]) -> None:
        """The source file is the baseline (a restored recovery is compared with it)."""

    def mark_saved(self, saved: list[Entry] | None = None) -> None:
        raise NotImplementedError("a LazyDocument is saved with save_lazy and rebase")

    def to_bytes(self) -> bytes:
        """What a save writes now, the lines the index has not reached included."""
        import io

        out = io.BytesIO()
        self.write_point(out, self.save_point())
        return out.getvalue()

    def save_point(self) -> list[Piece | Rest]:  # type: ignore[override]  # pieces, not entries
        """The pieces (a copy), and the lines not indexed yet, if any."""
        point: list[Piece | Rest] = [*self.entries.pieces()]
        if not self.complete:
            point.append(Rest(self.entries._known))
        return point

    def use_counter(self, counter: Any, limit: int | None, model_name: str) -> None:
        """As Document's; entries made before (edits of the first moments) are counted now."""
        super().use_counter(counter, limit, model_name)
        self.source.counter, self.source.limit = counter, limit
        self.source.model_name = model_name
        self.source.forget()
        for piece in self.entries._pieces:
            for entry in piece if isinstance(piece, list) else ():
                if entry.tokens is None and entry.kind == "example":
                    self._count(entry, -1)
                    self._measure(entry)
                    self._count(entry, +1)

    def reset_tokens(self) -> None:
        """Another encoding: every count is redone by a new scan (see restart_scan)."""
        self.restart_scan()

    def restart_scan(self) -> None:
        """Forget what the scan found; the document's own entries are counted again."""
        self.source.checks = Checks()
        self.source.forget()
        self.counts = Counts()
        self._tokens_total = self._tokens_known = self._billed = 0
        self.duplicates = 0
        self._dup_rows = None
        self._delta = {}
        self._absent = set()
        self.needs_jsonl = 0
        pos = 0
        for piece in self.entries._pieces:
            if isinstance(piece, range):
                pos += len(piece)
                continue
            for entry in piece:
                self._measure(entry)
                self._count(entry, +1)
        self._absent = self._uncovered(self.entries._pieces, len(self.source.index))
        self.checked = self.tokens_ready = False
        self.scan_progress = 0.0
        self._rows = None
        self.problems_version += 1

    @staticmethod
    def _uncovered(pieces: list[Piece], n: int) -> set[int]:
        """Source lines [0, n) that no run of `pieces` holds."""
        covered = sorted((p.start, p.stop) for p in pieces if isinstance(p, range))
        out: set[int] = set()
        pos = 0
        for start, stop in covered:
            out.update(range(pos, start))
            pos = max(pos, stop)
        out.update(range(pos, n))
        return out

    # ------------------------------------------------------------------ counting

    def _count(self, entry: Entry, sign: int) -> None:
        if isinstance(entry, SourceEntry) and entry.file is self.source:
            entry.owner = self if sign > 0 else None
            assert entry.origin is not None
            self._count_line(entry.origin, sign, entry.findings)
            return
        super()._count(entry, sign)

    def _measure(self, entry: Entry) -> None:
        if isinstance(entry, SourceEntry) and entry.file is self.source:
            return  # counted from the scan
        super()._measure(entry)

    def _count_line(self, line: int, sign: int, shown: tuple[Finding, ...] = ()) -> None:
        """A line of the source file enters (+1) or leaves (-1) the document. Its problem
        rows are the caller's (Document._set replaces the rows of one index with `shown`,
        the entry's findings) unless they are not the scan's: then all are listed again."""
        self.problems_version += 1
        checks = self.source.checks
        if line >= checks.upto:  # the scan counts it when it gets there, if it is here
            self._rows = None  # (the rows list no line the scan has not reached)
            if sign < 0:
                self._absent.add(line)
            else:
                self._absent.discard(line)
            return
        findings = checks.findings_at(line)
        if shown != findings:  # (an entry made before the scan got to its line)
            self._rows = None
        k = checks.example_at(line)
        self._add_totals(findings, None if k is None else checks.tokens[k], sign)
        if k is not None:
            self._count_head(checks.heads[k], sign)

    def _add_totals(self, findings: tuple[Finding, ...], tokens: int | None, sign: int) -> None:
        counts = self.counts
        if tokens is not None:  # an example (as validate counts them)
            counts.examples += sign
            self._tokens_total += sign * tokens
            self._tokens_known += sign
            limit = self.token_limit
            self._billed += sign * (tokens if limit is None else min(tokens, limit))
        errors = sum(1 for f in findings if f.is_error)
        counts.errors += sign * errors
        counts.warnings += sign * (len(findings) - errors)
        if errors:
            counts.error_entries += sign

    def _count_duplicate(self, entry: Entry, sign: int) -> None:
        if any(f.code in UNREADABLE for f in entry.findings):
            return
        self._count_head(head_of(entry.text), sign)

    def _count_head(self, head: int, sign: int) -> None:
        """An example with this digest head enters or leaves; duplicates follow once the
        file's own heads are known (until then only the difference is kept)."""
        delta = self._delta.get(head, 0)
        checks = self.source.checks
        if checks.complete:
            before = checks.base_count(head) + delta
            if (sign > 0 and before >= 1) or (sign < 0 and before >= 2):  # a repeat comes or goes
                self.duplicates += sign
                self._dup_rows = None
                self.problems_version += 1
        if delta + sign:
            self._delta[head] = delta + sign
        else:
            self._delta.pop(head, None)

    # ------------------------------------------------------------------ the scan

    def apply_scan(self, scan: Scan | Problem, end: int, progress: float) -> None:
        """A scanned chunk (or a line_too_long problem) of the source, up to line `end`
        (UI thread): its lines still in the document join the totals."""
        checks = self.source.checks
        first_ex, first_problem, start = len(checks.ex_lines), len(checks.findings), checks.upto
        if isinstance(scan, Problem):
            checks.add_problem(scan)
            checks.upto = max(checks.upto, end)
        else:
            checks.add_scan(scan, end)
        absent = [line for line in self._absent if start <= line < checks.upto]
        limit = self.token_limit
        tokens = checks.tokens[first_ex:]
        counts = self.counts
        counts.examples += len(tokens)
        self._tokens_total += sum(tokens)
        self._tokens_known += len(tokens)
        self._billed += sum(tokens) if limit is None else sum(min(t, limit) for t in tokens)
        erred = set()
        for line, finding in zip(
            checks.problem_lines[first_problem:], checks.findings[first_problem:], strict=True
        ):
            if finding.is_error:
                counts.errors += 1
                erred.add(line)
            else:
                counts.warnings += 1
        counts.error_entries += len(erred)
        for line in absent:  # removed before the scan got here: out of the totals again
            self._absent.discard(line)
            k = checks.example_at(line)
            self._add_totals(checks.findings_at(line), None if k is None else checks.tokens[k], -1)
            if k is not None:
                self._count_head(checks.heads[k], -1)
        self.source.forget()
        self.scan_progress = progress
        if len(checks.findings) > first_problem:
            self._add_rows(self._scanned_rows(first_problem))
        self.problems_version += 1

    def _scanned_rows(self, first: int) -> list[tuple[int, Finding]]:
        """The problem rows of the scan's problems from `first` on (lines the scan has just
        reached, so none has rows yet), at the document's indexes, in order."""
        checks = self.source.checks
        lines, findings = checks.problem_lines, checks.findings
        low, high = lines[first], lines[-1] + 1
        rows: list[tuple[int, Finding]] = []
        pos = 0
        for piece in self.entries._pieces:
            if isinstance(piece, range) and piece.start < high and piece.stop > low:
                lo = bisect.bisect_left(lines, piece.start, first)
                hi = bisect.bisect_left(lines, piece.stop, lo)
                shift = pos - piece.start
                rows.extend(
                    (line + shift, finding)
                    for line, finding in zip(lines[lo:hi], findings[lo:hi], strict=True)
                )
            pos += len(piece)
        return rows

    def finish_scan(self) -> None:
        """Every line scanned (UI thread): duplicates and the token total are now known.
        (checks.finish, which sorts a million heads, ran in the scan's thread.)"""
        checks = self.source.checks
        dups = checks.duplicates()
        for head, delta in self._delta.items():
            base = checks.base_count(head)
            dups += max(0, base + delta - 1) - max(0, base - 1)
        self.duplicates = dups
        self._dup_rows = None
        self.checked = self.tokens_ready = True
        self.scan_progress = 1.0
        self.problems_version += 1  # (the rows of lines stay; the repeats join them)

    # ------------------------------------------------------------------ problems

    def problem_rows(self) -> list[tuple[int, Finding]]:
        if self._rows is None:
            checks = self.source.checks
            rows: list[tuple[int, Finding]] = []
            pos = 0
            for piece in self.entries._pieces:
                if isinstance(piece, range):
                    lo = bisect.bisect_left(checks.problem_lines, piece.start)
                    hi = bisect.bisect_left(checks.problem_lines, piece.stop)
                    shift = pos - piece.start
                    rows.extend(
                        (line + shift, finding)
                        for line, finding in zip(
                            checks.problem_lines[lo:hi], checks.findings[lo:hi], strict=True
                        )
                    )
                else:
                    for k, entry in enumerate(piece):
                        rows.extend((pos + k, finding) for finding in entry.findings)
                pos += len(piece)
            self._rows = rows
            self._row_index = [i for i, _ in rows]
        return super().problem_rows()  # with the repeats merged in

    def duplicate_rows(self) -> list[tuple[int, Finding]]:
        """As Document's, from the scan's digest heads: the document is walked in order
        (runs read from the packed arrays) only after a repeat came or went or lines moved."""
        if self._dup_rows is None:
            rows: list[tuple[int, Finding]] = []
            checks = self.source.checks
            if self.duplicates and checks.complete:
                repeated = self._repeated_heads()
                first: dict[int, int] = {}

                def seen(head: int, index: int) -> None:
                    earlier = first.setdefault(head, index)
                    if earlier != index:
                        message = f"the same example as line {self.line_of(earlier)}"
                        rows.append((index, Finding("duplicate_example", WARNING, message)))

                pos = 0
                for piece in self.entries._pieces:
                    if isinstance(piece, range):
                        lo = bisect.bisect_left(checks.ex_lines, piece.start)
                        hi = bisect.bisect_left(checks.ex_lines, piece.stop)
                        shift = pos - piece.start
                        for k in range(lo, hi):
                            if checks.heads[k] in repeated:
                                seen(checks.heads[k], checks.ex_lines[k] + shift)
                    else:
                        for k, entry in enumerate(piece):
                            if entry.kind != "example" or any(
                                f.code in UNREADABLE for f in entry.findings
                            ):
                                continue
                            head = head_of(entry.text)
                            if head in repeated:
                                seen(head, pos + k)
                    pos += len(piece)
            self._dup_rows = rows
        return self._dup_rows

    def _repeated_heads(self) -> set[int]:
        """Digest heads of more than one example of the document (scan complete)."""
        checks = self.source.checks
        delta = self._delta
        heads = {h for h in checks.repeated if checks.base_count(h) + delta.get(h, 0) >= 2}
        heads.update(h for h, d in delta.items() if checks.base_count(h) + d >= 2)
        return heads

    def matching(self, query: str) -> list[int]:
        """As Document's: a code from the problem rows; text searched in the file's bytes
        (a regular expression over the mapped file, not an entry made per line)."""
        import re

        from tui.core.formats import to_jsonl_line

        query = query.strip()
        if query.startswith("code:"):
            code = query[5:].strip()
            if code == "duplicate_example":
                return super().matching(query)
            return sorted({i for i, f in self.problem_rows() if i >= 0 and f.code == code})
        needle = query.lower().encode("utf-8")
        escaped = to_jsonl_line(query.lower())[1:-1].encode("utf-8")
        # bytes.lower() (Document's test) folds ASCII only; so does IGNORECASE on bytes.
        pattern = re.compile(re.escape(needle) + b"|" + re.escape(escaped), re.IGNORECASE)
        index = self.source.index
        out: list[int] = []
        pos = 0
        for piece in self.entries._pieces:
            if isinstance(piece, range):
                shift = pos - piece.start
                out.extend(line + shift for line in index.matching_lines(pattern, piece))
            else:
                out.extend(
                    pos + k
                    for k, e in enumerate(piece)
                    if needle in e.text.lower() or escaped in e.text.lower()
                )
            pos += len(piece)
        return out

    # ------------------------------------------------------------------ saving

    def write_point(self, f: BinaryIO, point: list[Piece | Rest]) -> None:
        """Write the file a save point holds: runs copied from the source file in blocks,
        changed lines from their entries; nothing is held whole."""
        index = self.source.index
        if self.has_bom:
            from tui.core.formats import BOM

            f.write(BOM)
        for piece in point:
            if isinstance(piece, list):
                f.write(b"".join(e.saved + e.eol for e in piece))
                continue
            if isinstance(piece, Rest):  # the lines not indexed yet: to the end of the file
                start, end = index.offset_of(piece.start), index.size
            else:
                start, end = index.offset_of(piece.start), index.offset_of(piece.stop)
            for at in range(start, end, COPY_BYTES):
                f.write(index.read(at, min(end, at + COPY_BYTES)))

    def point_entries(self, point: list[Piece | Rest]) -> Iterator[Entry]:
        """Every entry of a save point, made one at a time (a worker: F8, F9)."""
        source = self.source
        for piece in point:
            if isinstance(piece, list):
                yield from piece
                continue
            if isinstance(piece, Rest):
                source.index.index_all()
                piece = range(piece.start, len(source.index))
            for line in piece:
                yield source.entry(line, keep=False)

    def exported_texts(self, point: list[Piece | Rest]) -> Iterator[bytes]:
        """The examples Document.export_bytes keeps (no errors), of a save point, one at a
        time (a worker: F8, F9)."""
        for entry in self.point_entries(point):
            if entry.kind == "example" and not any(f.is_error for f in entry.findings):
                yield entry.text

    def write_export(self, f: BinaryIO, point: list[Piece | Rest]) -> int:
        """Document.export_bytes of a save point, written to `f` as it goes (a worker);
        returns how many examples it wrote."""
        return _write_lines({0: f}, ((0, text) for text in self.exported_texts(point)))[0]

    def write_split(
        self, train: BinaryIO, valid: BinaryIO, point: list[Piece | Rest], share: float, seed: int
    ) -> tuple[int, int]:
        """The F9 split of a save point (the exported examples, as `split_bytes` splits
        them), streamed in two passes: one for the groups' keys, one writing each example
        to its side. No text is held past its block. Returns (n_train, n_valid)."""
        sides = split_sides(map(split_key, self.exported_texts(point)), share, seed)
        texts = self.exported_texts(point)
        written = _write_lines({0: train, 1: valid}, zip(sides, texts, strict=True))
        return written[0], written[1]

    def rebased_source(self, point: list[Piece | Rest], index: LineIndex) -> Source:
        """The Source of the file a save of `point` wrote (a worker): its lines indexed, and
        what the scan found carried over line by line, if the scan had finished."""
        index.index_all()
        old = self.source.checks
        if not old.complete or any(isinstance(piece, Rest) for piece in point):
            return Source(index, self.fmt)
        new = Checks()
        pos = 0
        for piece in point:
            if isinstance(piece, Rest):
                continue
            if isinstance(piece, range):
                lo = bisect.bisect_left(old.ex_lines, piece.start)
                hi = bisect.bisect_left(old.ex_lines, piece.stop)
                shift = pos - piece.start
                new.ex_lines.extend(line + shift for line in old.ex_lines[lo:hi])
                new.tokens.extend(old.tokens[lo:hi])
                new.heads.extend(old.heads[lo:hi])
                lo = bisect.bisect_left(old.problem_lines, piece.start)
                hi = bisect.bisect_left(old.problem_lines, piece.stop)
                new.problem_lines.extend(line + shift for line in old.problem_lines[lo:hi])
                new.findings.extend(old.findings[lo:hi])
            else:
                for k, entry in enumerate(piece):
                    for finding in entry.findings:
                        new.problem_lines.append(pos + k)
                        new.findings.append(finding)
                    if entry.kind == "example" and not any(
                        f.code in UNREADABLE for f in entry.findings
                    ):
                        new.ex_lines.append(pos + k)
                        new.tokens.append(entry.tokens or 0)
                        new.heads.append(head_of(entry.text))
            pos += len(piece)
        new.upto = pos
        new.finish()
        return Source(index, self.fmt, new)

    def rebase(self, point: list[Piece | Rest], source: Source) -> None:
        """The file now holds `point`, and `source` reads it (UI thread): the runs and
        entries are re-expressed over the new file; edits made since the save stay edits."""
        old = self.source
        # Where each old source line, and each entry, of the save point is in the new file.
        runs: list[tuple[int, int, int]] = []  # (old start, old stop, new start)
        placed: dict[int, int] = {}  # id(entry) -> new line
        pos = 0
        rest: tuple[int, int] | None = None  # (old line, new line) where unindexed lines began
        for piece in point:
            if isinstance(piece, Rest):
                runs.append((piece.start, sys.maxsize, pos))
                rest = (piece.start, pos)
                continue
            if isinstance(piece, range):
                runs.append((piece.start, piece.stop, pos))
            else:
                for k, entry in enumerate(piece):
                    placed[id(entry)] = pos + k
            pos += len(piece)
        runs.sort()
        starts = [r[0] for r in runs]
        source.counter, source.limit, source.model_name = old.counter, old.limit, old.model_name
        new_pieces: list[Piece] = []
        for piece in self.entries._pieces:
            if isinstance(piece, list):
                for entry in piece:
                    at = placed.get(id(entry))
                    if at is None or at >= len(source.index):  # (an empty last line is none)
                        new_pieces.append([entry])
                    else:
                        new_pieces.append(range(at, at + 1))
                continue
            line = piece.start
            while line < piece.stop:
                r = bisect.bisect_right(starts, line) - 1
                if r >= 0 and runs[r][0] <= line < runs[r][1]:
                    stop = min(piece.stop, runs[r][1])
                    begin = runs[r][2] + line - runs[r][0]
                    new_pieces.append(range(begin, min(begin + stop - line, len(source.index))))
                else:  # a line the save point did not hold (undone since): an entry now
                    nxt = starts[r + 1] if r + 1 < len(starts) else piece.stop
                    stop = min(piece.stop, max(nxt, line + 1))
                    new_pieces.append([old.entry(i, keep=False) for i in range(line, stop)])
                line = stop
        if rest is not None:
            # The lines the document had not taken in by now follow, in the new file too.
            new_pieces.append(range(rest[1] + self.entries._known - rest[0], len(source.index)))
        lines = LazyLines(source, [])
        lines._set_pieces(new_pieces)
        lines._known = len(source.index)
        self.entries = lines
        self._rows = self._dup_rows = None
        self._line_starts = None
        self.problems_version += 1
        self._coalesce_ok = False
        if source.checks.complete:
            # The content is unchanged, so are the totals; only the digest differences are
            # re-expressed against the new file.
            self._delta = {}
            self._absent = set()
            own = [e for p in lines._pieces if isinstance(p, list) for e in p]
            for entry in own:
                if entry.kind == "example" and not any(
                    f.code in UNREADABLE for f in entry.findings
                ):
                    self._bump(head_of(entry.text), +1)
            checks = source.checks
            for gone in self._uncovered(lines._pieces, len(source.index)):
                found = checks.example_at(gone)
                if found is not None:
                    self._bump(checks.heads[found], -1)
        else:
            self.restart_scan()

    def _bump(self, head: int, sign: int) -> None:
        value = self._delta.get(head, 0) + sign
        if value:
            self._delta[head] = value
        else:
            self._delta.pop(head, None)

    # ------------------------------------------------------------------ recovery

    def recovery_items(self, point: list[Piece | Rest]) -> list[Any]:
        """The recovery file's entries for a save point: runs of file lines as [start, end]
        (end -1: to the end of the file), changed lines as text."""
        items: list[Any] = []
        for piece in point:
            if isinstance(piece, Rest):
                items.append([piece.start, -1])
            elif isinstance(piece, range):
                items.append([piece.start, piece.stop])
            else:
                items.extend(
                    {"t": e.saved.decode("utf-8", "surrogateescape"), "e": e.eol.decode()}
                    for e in piece
                )
        return items

    def restored(self, items: list[Any]) -> LazyDocument:
        """A new document over the same file holding a recovery's entries (UI thread)."""
        index = self.source.index
        index.index_all()  # a recovery may name any line of the file
        source = Source(index, self.fmt)
        source.counter, source.limit = self.source.counter, self.source.limit
        source.model_name = self.source.model_name
        pieces: list[Piece] = []
        for item in items:
            if isinstance(item, list):
                pieces.append(range(item[0], len(index) if item[1] == -1 else item[1]))
            else:
                text = item["t"].encode("utf-8", "surrogateescape")
                pieces.append([self.make_entry(text, item["e"].encode())])
        doc = LazyDocument(LazyLines(source, []), fmt=self.fmt, has_bom=self.has_bom,
                           source_format=self.fmt, checked=False)  # fmt: skip
        doc.entries._set_pieces(pieces)
        doc.entries._known = len(index)
        doc.use_counter(self.counter, self.token_limit, self.token_model)
        doc.restart_scan()
        return doc


# ---------------------------------------------------------------------------- file work


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks (never the whole file in memory)."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _HashingWriter:
    """A binary file that hashes what is written through it."""

    def __init__(self, f: BinaryIO) -> None:
        import hashlib

        self.f = f
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.f.write(data)


def save_lazy(doc: LazyDocument, path: Path, point: list[Piece | Rest]) -> tuple[FileStamp, Source]:
    """Write a save point to `path` atomically, streamed (a worker): the new file's stamp,
    and its Source for `LazyDocument.rebase` on the UI thread. Raises OSError."""
    import os

    from tui.core.atomic import write_atomic_with
    from tui.core.filestamp import FileStamp

    hashed: list[str] = []

    def write(f: BinaryIO) -> None:
        writer = _HashingWriter(f)
        doc.write_point(writer, point)  # type: ignore[arg-type]
        hashed.append(writer.hash.hexdigest())

    write_atomic_with(path, write)
    st = os.stat(path)
    stamp = FileStamp(st.st_size, st.st_mtime_ns, hashed[0])
    return stamp, doc.rebased_source(point, LineIndex(path))


def scan_results(
    doc: LazyDocument,
    base: BaseModel,
    workers: int,
    stop: Callable[[], bool],
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[Scan | Problem, int, float]]:
    """Check and count every line of the document's source file as `validate` does (in a
    worker thread, chunks in `workers` forked processes): (each chunk's result, the line it
    covers up to, the share of the file's bytes done), in order, for
    `LazyDocument.apply_scan`.

    The chunks are cut from the mapped file and go to the workers as offsets (`Span`): each
    reads its lines from the map it inherited, so no byte is read here or sent through a
    pipe, and the lines scanned are those of the version the index reads. The source's line
    index is filled from the same chunks as they come (`LineIndex.add_found`): the file is
    walked once. The checks are finished (`Checks.finish`) when every line is done, not if
    `stop()` ends it.
    """
    from tui.core.chunks import Span
    from tui.core.pool import scan_chunks

    source = doc.source
    index = source.index
    size = max(1, index.size)
    stopped = False

    def chunks() -> Iterator[Span | Scan]:
        nonlocal stopped
        pos = index.start
        while pos < index.size:
            if stop():
                stopped = True
                return
            cut = index.cut(pos, chunk_bytes)
            yield _too_long(index, pos, cut) or Span(pos, cut)
            pos = cut

    lines, offset = 0, index.start  # where the next result's lines start
    for result in scan_chunks(chunks(), doc.fmt, base, workers, line_ends=True, read=index.read):
        assert not isinstance(result, Problem)  # (a line too long to scan comes as a Scan)
        result.renumber(lines + 1)
        index.add_found(offset, result.ends)
        lines, offset = lines + len(result.ends), result.ends[-1]
        yield result, lines, min(1.0, offset / size)
    if not stopped and not stop():
        source.checks.finish()


def _too_long(index: LineIndex, start: int, end: int) -> Scan | None:
    """The Scan of bytes [start, end) if they are one line too long to scan (over
    MAX_LINE_BYTES: what a worker would report of it, found without reading it), else None."""
    from tui.core import formats
    from tui.core.scan import Scan

    if end - start <= formats.MAX_LINE_BYTES or index.cut(start, 0) != end:
        return None
    body = end
    if index.read(end - 1, end) == b"\n":
        body -= 1 + (index.read(end - 2, end - 1) == b"\r")  # a CRLF line's \r is not part of it
    scan = Scan()
    scan.ends.append(end if body < end else end + 1)  # (said one byte past: no newline)
    if body - start > formats.MAX_LINE_BYTES and not index.blank(start, body):
        code, message = formats.line_too_long(body - start)
        scan.problems.append(Problem(code, ERROR, message, 1))
    return scan if body - start > formats.MAX_LINE_BYTES else None


def _write_lines(
    files: dict[int, BinaryIO], lines: Iterable[tuple[int, bytes]], block: int = 4096
) -> dict[int, int]:
    """Write each (file key, text) as a line to its file, in blocks; counts per file key."""
    pending: dict[int, list[bytes]] = {key: [] for key in files}
    counts = dict.fromkeys(files, 0)
    for key, text in lines:
        pending[key].append(text + b"\n")
        counts[key] += 1
        if len(pending[key]) >= block:
            files[key].write(b"".join(pending[key]))
            pending[key].clear()
    for key, texts in pending.items():
        files[key].write(b"".join(texts))
    return counts
