"""Validation of a training file: every problem pinned to its line, plus tokens and cost.

`validate_stream` reads a file as a stream in bounded memory (JSONL in chunks, parsed
examples dropped as soon as they are counted) and `validate_bytes` does the same on bytes;
both accept any input and never raise. `check_record` is the per-example check an editor
re-runs on one edited example; dataset-level checks (example count, duplicates) are in
`dataset_problems` and `Tally`.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import BinaryIO

from tui.core.chunks import CHUNK_BYTES, read_chunks
from tui.core.estimate import Estimate, TokenStats, estimate, token_stats
from tui.core.formats import (
    BOM,
    EMPTY_BYTES,
    JSONL_FORMATS,
    Record,
    UnusableInput,
    check_head,
    detect_format,
    read_records,
)
from tui.core.models import DEFAULT_MODEL, BaseModel, find_model, resolve_model
from tui.core.pool import scan_chunks
from tui.core.problems import ERROR, WARNING, Finding, Problem
from tui.core.scan import (
    DIGEST_BYTES,
    Scan,
    check_record,
    record_findings,
    scan_records,
    token_problem,
)

# The head read before anything else: binary input is refused from it, and the format is
# told from it (a file longer than this is not tried as one JSON value).
HEAD_BYTES = 8 * 1024 * 1024

MIN_EXAMPLES = 10

__all__ = [
    "MIN_EXAMPLES",
    "Problem",
    "ValidationReport",
    "check_record",
    "dataset_problems",
    "record_findings",
    "token_problem",
    "too_few_examples",
    "validate_bytes",
    "validate_records",
    "validate_stream",
]


@dataclass
class ValidationReport:
    """What `tunebench validate` prints. `fatal` is set when the bytes are no usable file."""

    format: str
    model: str
    n_examples: int
    problems: list[Problem]
    token_counts: Sequence[int] = field(default_factory=list)  # per example, in file order
    tokens: TokenStats = field(default_factory=lambda: token_stats([]))
    estimate: Estimate | None = None
    fatal: str | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return self.fatal is None and not self.errors


def bom_problem() -> Problem:
    return Finding(
        "byte_order_mark",
        WARNING,
        "the file starts with a UTF-8 byte order mark; the API may reject it (export writes none)",
    ).at(1)


def too_few_examples(n_examples: int) -> Finding:
    return Finding(
        "invalid_n_examples",
        ERROR,
        f"the file has {n_examples} example(s), but must have at least {MIN_EXAMPLES}",
    )


def dataset_problems(n_examples: int) -> list[Problem]:
    """Whole-file problems (line 0): too few examples."""
    if n_examples >= MIN_EXAMPLES:
        return []
    return [too_few_examples(n_examples).at(0)]


def validate_bytes(
    data: bytes,
    model: str | None = None,
    *,
    filename: str | None = None,
    fmt: str | None = None,
    sep: str = ";",
    system: str | None = None,
    epochs: int | None = None,
    workers: int = 1,
    chunk_bytes: int = CHUNK_BYTES,
) -> ValidationReport:
    """validate_stream of bytes in memory. Never raises for any input bytes."""
    return validate_stream(
        io.BytesIO(data),
        model,
        filename=filename,
        fmt=fmt,
        sep=sep,
        system=system,
        epochs=epochs,
        workers=workers,
        chunk_bytes=chunk_bytes,
    )


def validate_stream(
    stream: BinaryIO,
    model: str | None = None,
    *,
    filename: str | None = None,
    fmt: str | None = None,
    sep: str = ";",
    system: str | None = None,
    epochs: int | None = None,
    workers: int = 1,
    chunk_bytes: int = CHUNK_BYTES,
) -> ValidationReport:
    """Validate a training file read from a binary stream. Never raises for any input.

    JSONL is read chunk by chunk and no parsed example is kept: memory stays bounded by the
    per-example token counts and duplicate digests. Pairs text and CSV/TSV are read whole.
    model: a base model snapshot, alias or tuned model name (default gpt-4o-mini); an unknown name
    is reported as a warning and the default model's tokenizer and limits are used.
    fmt: "chat", "dpo", "pairs", "csv" or "tsv"; detected from filename and content if None.
    workers: from the second chunk on, scan chunks in this many processes (forked; use 1
    inside a threaded app).
    """
    problems: list[Problem] = []
    base = _model_or_default(model, problems)
    head = _read_up_to(stream, HEAD_BYTES)
    complete = len(head) < HEAD_BYTES
    try:
        check_head(head)  # an empty file is no error here: it has 0 examples, as the app shows
        fmt = fmt or detect_format(head, filename, complete=complete)
        if fmt not in JSONL_FORMATS:
            data = head if complete else head + stream.read()
            if data.strip(EMPTY_BYTES):
                has_bom, records = read_records(data, fmt, sep=sep, system=system)
            else:
                has_bom, records = data.startswith(BOM), iter(())
    except UnusableInput as exc:
        problems.append(Finding("unusable_file", ERROR, str(exc)).at(0))
        return ValidationReport(fmt or "unknown", base.name, 0, problems, fatal=str(exc))
    if fmt not in JSONL_FORMATS:
        if has_bom:
            problems.append(bom_problem())
        tally = Tally(problems)
        tally.add(scan_records(records, fmt, base))
        return tally.report(fmt, base, epochs)
    has_bom = head.startswith(BOM)
    tally = Tally([bom_problem()] if has_bom else [])
    chunks = read_chunks(stream, head[len(BOM) :] if has_bom else head, chunk_bytes=chunk_bytes)
    del head
    for item in scan_chunks(chunks, fmt, base, workers):
        if isinstance(item, Problem):
            tally.problems.append(item)
        else:
            tally.add(item)
    tally.problems[:0] = problems
    return tally.report(fmt, base, epochs)


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Up to size bytes: fewer only at the end of the stream."""
    parts = []
    wanted = size
    while wanted > 0:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _model_or_default(model: str | None, problems: list[Problem]) -> BaseModel:
    base = find_model(model) if model is not None else None
    if base is None:
        base = resolve_model(None)
        if model is not None:
            problems.append(
                Finding(
                    "unknown_model",
                    WARNING,
                    f"{model!r} is not a fine-tunable base model; counting as {DEFAULT_MODEL}",
                ).at(0)
            )
    return base


def validate_records(
    records: Iterable[Record],
    fmt: str,
    *,
    model: str | None = None,
    epochs: int | None = None,
    problems: list[Problem] | None = None,
) -> ValidationReport:
    """Check records (streamed: parsed objects are not kept), count tokens, estimate cost."""
    problems = [] if problems is None else problems
    base = _model_or_default(model, problems)
    tally = Tally(problems)
    tally.add(scan_records(records, fmt, base))
    return tally.report(fmt, base, epochs)


class Tally:
    """Scans of one file merged in order: problems, token counts, and per example its line
    and digest, all packed in arrays (1.5M examples: about 50 MB). Duplicates are looked for
    once at the end by sorting the digests' first 8 bytes, not through a dict holding every
    example (which took about 200 MB at 1.5M)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.counts: array[int] = array("q")
        self.exact = True
        self._lines: array[int] = array("q")
        self._digests = bytearray()
        self._head_runs: array[int] = array("Q")

    def add(self, scan: Scan) -> None:
        self.problems.extend(scan.problems)
        self.counts.extend(scan.counts)
        self._lines.extend(scan.lines)
        self._digests += scan.digests
        self._head_runs += scan.head_runs
        self.exact = self.exact and scan.exact

    def _duplicates(self) -> list[Problem]:
        """duplicate_example on each example seen before, naming the line it repeats."""
        ordered = sorted(self._head_runs)  # the scans' sorted runs, merged
        self._head_runs = array("Q")
        repeated = {a for a, b in pairwise(ordered) if a == b}
        del ordered
        found: list[Problem] = []
        if not repeated:
            return found
        with memoryview(self._digests) as view, view.cast("Q") as words:
            heads = words[:: DIGEST_BYTES // 8].tolist()  # first 8 bytes of each digest
        first_line: dict[bytes, int] = {}  # only the examples whose head repeats
        for index, head in enumerate(heads):
            if head not in repeated:
                continue
            start = index * DIGEST_BYTES
            line = self._lines[index]
            seen = first_line.setdefault(bytes(self._digests[start : start + DIGEST_BYTES]), line)
            if seen != line:
                message = f"the same example as line {seen}"
                found.append(Finding("duplicate_example", WARNING, message).at(line))
        return found

    def report(self, fmt: str, base: BaseModel, epochs: int | None) -> ValidationReport:
        """The report, with the dataset-level problems and the estimate."""
        problems = self.problems
        problems.extend(self._duplicates())
        problems.extend(dataset_problems(len(self.counts)))
        problems.sort(key=lambda p: p.line)
        return ValidationReport(
            format=fmt,
            model=base.name,
            n_examples=len(self.counts),
            problems=problems,
            token_counts=self.counts,
            tokens=token_stats(self.counts, exact=self.exact),
            estimate=estimate(self.counts, base, epochs),
        )
