"""The validation pass over records: per-example checks and token counts, in one process
or split across forked workers for big JSONL files.

The pass keeps no parsed example: each record is checked, counted and dropped, so memory
stays flat. Dataset-level checks (duplicates, example count) run on the merged result.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass, field

from tui.core.checks import check_chat, check_dpo
from tui.core.formats import Record, is_dpo, read_jsonl, to_jsonl_line
from tui.core.models import BaseModel
from tui.core.problems import ERROR, WARNING, Problem
from tui.core.tokens import EXAMPLE_OVERHEAD, MESSAGE_OVERHEAD, TokenCounter, example_tokens

# Below this size forking workers costs more than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


@dataclass
class Scan:
    """What one pass found: problems of single examples, and per example its line, token
    count and a digest (for duplicates)."""

    problems: list[Problem] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    digests: list[bytes] = field(default_factory=list)
    exact: bool = True

    def extend(self, other: Scan) -> None:
        self.problems.extend(other.problems)
        self.counts.extend(other.counts)
        self.lines.extend(other.lines)
        self.digests.extend(other.digests)
        self.exact = self.exact and other.exact


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


def token_problem(
    line: int, tokens: int, model: BaseModel, *, exact: bool = True
) -> Problem | None:
    """too_many_tokens when an example is over the model's per-example limit."""
    limit = model.example_token_limit
    if tokens <= limit:
        return None
    return Problem(
        line,
        "too_many_tokens",
        WARNING,
        f"messages: {'' if exact else 'about '}{tokens:,} tokens; "
        f"{model.name} trains on the first {limit:,}, "
        "the rest is truncated",
    )


_SIMPLE_ROLES = {"system": 1, "user": 2, "assistant": 4}
_ALL_ROLES = 7


def _simple_tokens(obj: object, counter: TokenCounter, role_tokens: dict[str, int]) -> int | None:
    """Tokens of a plain-text example with system, user and assistant messages, which has
    no problem of its own by construction; None if the example needs the full checks.

    The common case, checked in one tight loop: this is what makes `validate` fast.
    """
    if type(obj) is not dict or len(obj) != 1:
        return None
    messages = obj.get("messages")
    if type(messages) is not list:
        return None
    count = counter.count
    total = EXAMPLE_OVERHEAD
    seen = 0
    for message in messages:
        if type(message) is not dict or len(message) != 2:
            return None
        role = message.get("role")
        content = message.get("content")
        if type(role) is not str or type(content) is not str or not content or content.isspace():
            return None
        bit = _SIMPLE_ROLES.get(role)
        if bit is None:
            return None
        seen |= bit
        total += MESSAGE_OVERHEAD + role_tokens[role] + count(content)
    return total if seen == _ALL_ROLES else None


def _digest(rec: Record, fmt: str) -> bytes:
    key = rec.raw.strip() if fmt in ("chat", "dpo") else to_jsonl_line(rec.obj).encode()
    return hashlib.blake2b(key, digest_size=16).digest()


def scan_records(records: Iterable[Record], fmt: str, base: BaseModel) -> Scan:
    """Check and count every record, in order, keeping no parsed example."""
    counter = TokenCounter(base.encoding)
    scan = Scan()
    problems, counts, lines, digests = scan.problems, scan.counts, scan.lines, scan.digests
    exact = True
    dpo = fmt == "dpo"
    role_tokens = {role: counter.count(role) for role in _SIMPLE_ROLES}
    for rec in records:
        simple = None
        if rec.kind == "example" and not dpo:
            simple = _simple_tokens(rec.obj, counter, role_tokens)
        n_exact = True
        if simple is not None:
            n = simple
        else:
            problems.extend(check_record(rec, fmt))
            if rec.kind != "example":
                continue
            n, n_exact = example_tokens(rec.obj, counter, dpo=dpo)
        if counter.inexact:  # a huge string was estimated
            n_exact, counter.inexact = False, False
        exact = exact and n_exact
        counts.append(n)
        lines.append(rec.line)
        digests.append(_digest(rec, fmt))
        too_many = token_problem(rec.line, n, base, exact=n_exact)
        if too_many is not None:
            problems.append(too_many)
    scan.exact = exact
    return scan


# The file's bytes, inherited by forked workers instead of being pickled to them.
_SHARED: bytes = b""


def _scan_slice(start: int, end: int, first_line: int, fmt: str, base: BaseModel) -> Scan:
    _, records = read_jsonl(_SHARED[start:end], first_line=first_line)
    return scan_records(records, fmt, base)


def scan_parallel(data: bytes, fmt: str, base: BaseModel, workers: int) -> Scan:
    """scan_records of a JSONL file split at line boundaries across forked processes.

    Falls back to one process where fork is unavailable.
    """
    global _SHARED
    bounds = _slices(data, workers)
    if len(bounds) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _, records = read_jsonl(data)
        return scan_records(records, fmt, base)
    TokenCounter(base.encoding)  # load the encoding once, before forking
    jobs = [(start, end, data.count(b"\n", 0, start) + 1, fmt, base) for start, end in bounds]
    _SHARED = data
    try:
        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            parts = pool.starmap(_scan_slice, jobs)
    finally:
        _SHARED = b""
    scan = Scan()
    for part in parts:
        scan.extend(part)
    return scan


def _slices(data: bytes, n: int) -> list[tuple[int, int]]:
    """Up to n (start, end) byte ranges covering data, each ending after a newline."""
    bounds = []
    start = 0
    size = len(data)
    for i in range(1, n):
        cut = data.find(b"\n", max(start, size * i // n))
        if cut == -1:
            break
        bounds.append((start, cut + 1))
        start = cut + 1
    if start < size:
        bounds.append((start, size))
    return bounds
