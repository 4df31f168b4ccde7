"""Validation of a training file: every problem pinned to its line, plus tokens and cost.

`validate_bytes` accepts any bytes and never raises. `check_record` is the per-example check
an editor re-runs on one edited example; dataset-level checks (example count, duplicates)
are in `dataset_problems`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.core.checks import check_chat, check_dpo
from tui.core.estimate import Estimate, TokenStats, estimate, token_stats
from tui.core.formats import (
    Record,
    UnusableInput,
    check_usable,
    detect_format,
    is_dpo,
    read_records,
    to_jsonl_line,
)
from tui.core.models import DEFAULT_MODEL, BaseModel, find_model, resolve_model
from tui.core.problems import ERROR, WARNING, Problem
from tui.core.tokens import TokenCounter, example_tokens

MIN_EXAMPLES = 10

__all__ = [
    "MIN_EXAMPLES",
    "Problem",
    "ValidationReport",
    "check_record",
    "dataset_problems",
    "validate_bytes",
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


def check_record(rec: Record, fmt: str) -> list[Problem]:
    """Problems of one record alone (no token or dataset checks): pure, cheap."""
    if rec.kind == "invalid":
        code, message = rec.error or ("invalid_line", "cannot be read")
        return [Problem(rec.line, code, ERROR, message)]
    if rec.kind != "example":
        return []
    if fmt == "dpo":
        findings = check_dpo(rec.obj)
    elif fmt == "chat" and is_dpo(rec.obj):
        findings = [
            (
                "mixed_formats",
                ERROR,
                "a DPO example (input / preferred_output) in a chat file; "
                "a file holds one kind of example",
            )
        ]
    else:
        findings = check_chat(rec.obj)
    return [Problem(rec.line, code, severity, message) for code, severity, message in findings]


def token_problem(line: int, tokens: int, model: BaseModel) -> Problem | None:
    """too_many_tokens when an example is over the model's per-example limit."""
    limit = model.example_token_limit
    if tokens <= limit:
        return None
    return Problem(
        line,
        "too_many_tokens",
        WARNING,
        f"messages: {tokens:,} tokens; {model.name} trains on the first {limit:,}, "
        "the rest is truncated",
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


class DuplicateFinder:
    """Remembers a digest of each example; reports exact repeats naming the first line."""

    def __init__(self) -> None:
        self._first: dict[bytes, int] = {}

    def check(self, rec: Record, fmt: str) -> Problem | None:
        key = rec.raw.strip() if fmt in ("chat", "dpo") else to_jsonl_line(rec.obj).encode()
        digest = hashlib.blake2b(key, digest_size=16).digest()
        first = self._first.setdefault(digest, rec.line)
        if first == rec.line:
            return None
        return Problem(rec.line, "duplicate_example", WARNING, f"the same example as line {first}")


def validate_bytes(
    data: bytes,
    model: str | None = None,
    *,
    filename: str | None = None,
    fmt: str | None = None,
    sep: str = ";",
    system: str | None = None,
    epochs: int | None = None,
) -> ValidationReport:
    """Validate a training file given as bytes. Never raises for any input bytes.

    model: a base model snapshot, alias or `ft:` name (default gpt-4o-mini); an unknown name
    is reported as a warning and the default model's tokenizer and limits are used.
    fmt: "chat", "dpo", "pairs", "csv" or "tsv"; detected from filename and content if None.
    """
    problems: list[Problem] = []
    base = find_model(model) if model is not None else resolve_model(None)
    if base is None:
        base = resolve_model(None)
        problems.append(
            Problem(
                0,
                "unknown_model",
                WARNING,
                f"{model!r} is not a fine-tunable base model; counting as {DEFAULT_MODEL}",
            )
        )
    try:
        check_usable(data)
        fmt = fmt or detect_format(data, filename)
        has_bom, records = read_records(data, fmt, sep=sep, system=system)
    except UnusableInput as exc:
        problems.append(Problem(0, "unusable_file", ERROR, str(exc)))
        return ValidationReport(fmt or "unknown", base.name, 0, problems, fatal=str(exc))
    if has_bom:
        problems.append(
            Problem(
                1,
                "byte_order_mark",
                WARNING,
                "the file starts with a UTF-8 byte order mark; the API may reject it "
                "(export writes none)",
            )
        )
    return _validate_records(records, fmt, base, problems, epochs)


def _validate_records(
    records: Iterable[Record],
    fmt: str,
    base: BaseModel,
    problems: list[Problem],
    epochs: int | None,
) -> ValidationReport:
    counter = TokenCounter(base.encoding)
    duplicates = DuplicateFinder()
    counts: list[int] = []
    exact = True
    dpo = fmt == "dpo"
    for rec in records:
        found = check_record(rec, fmt)
        problems.extend(found)
        if rec.kind != "example":
            continue
        n, n_exact = example_tokens(rec.obj, counter, dpo=dpo)
        counts.append(n)
        exact = exact and n_exact
        too_many = token_problem(rec.line, n, base)
        if too_many is not None:
            problems.append(too_many)
        duplicate = duplicates.check(rec, fmt)
        if duplicate is not None:
            problems.append(duplicate)
    problems.extend(dataset_problems(len(counts)))
    problems.sort(key=lambda p: p.line)
    stats = token_stats(counts, exact=exact and not counter.inexact)
    return ValidationReport(
        format=fmt,
        model=base.name,
        n_examples=len(counts),
        problems=problems,
        token_counts=counts,
        tokens=stats,
        estimate=estimate(counts, base, epochs),
    )
