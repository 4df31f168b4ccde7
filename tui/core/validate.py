"""Validation of a training file: every problem pinned to its line, plus tokens and cost.

`validate_bytes` accepts any bytes and never raises. `check_record` is the per-example check
an editor re-runs on one edited example; dataset-level checks (example count, duplicates)
are in `dataset_problems`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.core.estimate import Estimate, TokenStats, estimate, token_stats
from tui.core.formats import (
    JSONL_FORMATS,
    Record,
    UnusableInput,
    check_usable,
    detect_format,
    read_records,
)
from tui.core.models import DEFAULT_MODEL, BaseModel, find_model, resolve_model
from tui.core.problems import ERROR, WARNING, Problem
from tui.core.scan import (
    PARALLEL_MIN_BYTES,
    Scan,
    check_record,
    scan_jsonl,
    scan_parallel,
    scan_records,
    token_problem,
)

MIN_EXAMPLES = 10

__all__ = [
    "MIN_EXAMPLES",
    "Problem",
    "ValidationReport",
    "check_record",
    "dataset_problems",
    "token_problem",
    "validate_bytes",
    "validate_records",
]


@dataclass
class ValidationReport:
    """What `tunebench validate` prints. `fatal` is set when the bytes are no usable file."""

    format: str
    model: str
    n_examples: int
    problems: list[Problem]
    token_counts: list[int] = field(default_factory=list)  # per example, in file order
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
    return Problem(
        1,
        "byte_order_mark",
        WARNING,
        "the file starts with a UTF-8 byte order mark; the API may reject it (export writes none)",
    )


def dataset_problems(n_examples: int) -> list[Problem]:
    """Whole-file problems (line 0): too few examples."""
    if n_examples >= MIN_EXAMPLES:
        return []
    return [
        Problem(
            0,
            "invalid_n_examples",
            ERROR,
            f"the file has {n_examples} example(s), but must have at least {MIN_EXAMPLES}",
        )
    ]


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
) -> ValidationReport:
    """Validate a training file given as bytes. Never raises for any input bytes.

    model: a base model snapshot, alias or `ft:` name (default gpt-4o-mini); an unknown name
    is reported as a warning and the default model's tokenizer and limits are used.
    fmt: "chat", "dpo", "pairs", "csv" or "tsv"; detected from filename and content if None.
    workers: processes for big JSONL files (forked; use 1 inside a threaded app).
    """
    problems: list[Problem] = []
    base = _model_or_default(model, problems)
    try:
        check_usable(data)
        fmt = fmt or detect_format(data, filename)
        has_bom, records = read_records(data, fmt, sep=sep, system=system)
    except UnusableInput as exc:
        problems.append(Problem(0, "unusable_file", ERROR, str(exc)))
        return ValidationReport(fmt or "unknown", base.name, 0, problems, fatal=str(exc))
    if has_bom:
        problems.append(bom_problem())
    if fmt not in JSONL_FORMATS:
        scan = scan_records(records, fmt, base)
    elif workers > 1 and len(data) >= PARALLEL_MIN_BYTES:
        scan = scan_parallel(data, fmt, base, workers)
    else:
        scan = scan_jsonl(data, fmt, base)
    return _report(scan, fmt, base, epochs, problems)


def _model_or_default(model: str | None, problems: list[Problem]) -> BaseModel:
    base = find_model(model) if model is not None else None
    if base is None:
        base = resolve_model(None)
        if model is not None:
            problems.append(
                Problem(
                    0,
                    "unknown_model",
                    WARNING,
                    f"{model!r} is not a fine-tunable base model; counting as {DEFAULT_MODEL}",
                )
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
    return _report(scan_records(records, fmt, base), fmt, base, epochs, problems)


def _report(
    scan: Scan, fmt: str, base: BaseModel, epochs: int | None, problems: list[Problem]
) -> ValidationReport:
    """Add the dataset-level problems (duplicates, example count) and the estimate."""
    problems.extend(scan.problems)
    if len(set(scan.digests)) != len(scan.digests):  # the loop only when there are any
        first: dict[bytes, int] = {}
        for line, digest in zip(scan.lines, scan.digests, strict=True):
            seen = first.setdefault(digest, line)
            if seen != line:
                problems.append(
                    Problem(line, "duplicate_example", WARNING, f"the same example as line {seen}")
                )
    problems.extend(dataset_problems(len(scan.counts)))
    problems.sort(key=lambda p: p.line)
    return ValidationReport(
        format=fmt,
        model=base.name,
        n_examples=len(scan.counts),
        problems=problems,
        token_counts=scan.counts,
        tokens=token_stats(scan.counts, exact=scan.exact),
        estimate=estimate(scan.counts, base, epochs),
    )
