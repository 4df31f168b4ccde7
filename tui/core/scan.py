"""The validation pass over records: per-example checks and token counts, in one process
or split across forked workers for big JSONL files.

The pass keeps no parsed example: each record is checked, counted and dropped, so memory
stays flat. Dataset-level checks (duplicates, example count) run on the merged result.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import blake2b

from tui.core import formats
from tui.core.checks import check_chat, check_dpo
from tui.core.formats import (
    BOM,
    Record,
    is_dpo,
    jsonl_record,
    scan_json_value,
    to_jsonl_line,
)
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
    if tokens <= model.example_token_limit:
        return None
    return _too_many_tokens(line, tokens, model, exact=exact)


def _too_many_tokens(line: int, tokens: int, model: BaseModel, *, exact: bool) -> Problem:
    limit = model.example_token_limit
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


def _simple_tokens(
    obj: object, counter: TokenCounter, roles: dict[str, tuple[int, int]]
) -> int | None:
    """Tokens of a plain-text example with system, user and assistant messages, which has
    no problem of its own by construction; None if the example needs the full checks.

    roles: role -> (its bit in _ALL_ROLES, tokens of a message of that role besides its
    content). The common case, checked in one tight loop: this is what makes `validate` fast.
    """
    if type(obj) is not dict or len(obj) != 1:
        return None
    messages = obj.get("messages")
    if type(messages) is not list:
        return None
    count, count_uncached = counter.count, counter.count_uncached
    total = EXAMPLE_OVERHEAD
    seen = 0
    for message in messages:
        if type(message) is not dict or len(message) != 2:
            return None
        role = message.get("role")
        content = message.get("content")
        if type(role) is not str or type(content) is not str or not content or content.isspace():
            return None
        known = roles.get(role)
        if known is None:
            return None
        bit, fixed = known
        if bit == 4 and content[-1] == "\n":  # trained in: the full checks warn about it
            return None
        seen |= bit
        # System prompts repeat from example to example; the other turns rarely do.
        total += fixed + (count(content) if bit == 1 else count_uncached(content))
    return total if seen == _ALL_ROLES else None


def _digest(rec: Record, fmt: str) -> bytes:
    key = rec.raw.strip() if fmt in ("chat", "dpo") else to_jsonl_line(rec.obj).encode()
    return blake2b(key, digest_size=16).digest()


class _Scanner:
    """One pass in progress: what both loops below share."""

    def __init__(self, fmt: str, base: BaseModel) -> None:
        self.fmt = fmt
        self.base = base
        self.counter = TokenCounter(base.encoding)
        self.roles = {
            role: (bit, MESSAGE_OVERHEAD + self.counter.count(role))
            for role, bit in _SIMPLE_ROLES.items()
        }
        self.scan = Scan()

    def add(self, rec: Record) -> None:
        """Check and count one record."""
        counter, fmt = self.counter, self.fmt
        simple = None
        if rec.kind == "example" and fmt != "dpo":
            simple = _simple_tokens(rec.obj, counter, self.roles)
        if simple is not None:
            n, n_exact = simple, True
        else:
            self.scan.problems.extend(check_record(rec, fmt))
            if rec.kind != "example":
                return
            n, n_exact = example_tokens(rec.obj, counter, dpo=fmt == "dpo")
        self.counted(rec.line, n, n_exact, _digest(rec, fmt))

    def counted(self, line: int, n: int, n_exact: bool, digest: bytes) -> None:
        scan = self.scan
        if self.counter.inexact:  # a huge string was estimated
            n_exact, self.counter.inexact = False, False
        scan.exact = scan.exact and n_exact
        scan.counts.append(n)
        scan.lines.append(line)
        scan.digests.append(digest)
        if n > self.base.example_token_limit:
            scan.problems.append(_too_many_tokens(line, n, self.base, exact=n_exact))


def scan_records(records: Iterable[Record], fmt: str, base: BaseModel) -> Scan:
    """Check and count every record, in order, keeping no parsed example."""
    scanner = _Scanner(fmt, base)
    for rec in records:
        scanner.add(rec)
    return scanner.scan


def scan_jsonl(
    data: bytes,
    fmt: str,
    base: BaseModel,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
) -> Scan:
    """scan_records(read_jsonl(...)) of the lines in data[start:end], to the same Scan.

    A plain chat example (the common case) is parsed and counted in one tight loop; a line
    the loop is not sure of goes through jsonl_record and the full checks. This is what makes
    `validate` fast. start and end must be line boundaries; first_line numbers the first.
    """
    end = len(data) if end is None else end
    if start == 0 and data.startswith(BOM):
        start = len(BOM)
    chunk = data[start:end]
    lines = chunk.split(b"\n")
    unterminated = not chunk.endswith(b"\n")
    if not unterminated or not chunk:
        lines.pop()  # nothing follows the last newline
    scanner = _Scanner(fmt, base)
    counter, roles, counted = scanner.counter, scanner.roles, scanner.counted
    fast = fmt == "chat"
    max_line = formats.MAX_LINE_BYTES
    last = len(lines) - 1
    for index, raw in enumerate(lines):
        number = first_line + index
        body = raw[:-1] if raw[-1:] == b"\r" else raw
        if fast and len(body) <= max_line:
            try:
                text = body.decode()
                obj, stop = scan_json_value(text, 0)
                n = _simple_tokens(obj, counter, roles) if stop == len(text) else None
            except Exception:  # anything unusual: the full path below reports it
                n = None
            if n is not None:
                counted(number, n, True, blake2b(body, digest_size=16).digest())
                continue
        if unterminated and index == last:
            scanner.add(jsonl_record(number, raw, b""))
        elif body is raw:
            scanner.add(jsonl_record(number, raw, b"\n"))
        else:
            scanner.add(jsonl_record(number, body, b"\r\n"))
    return scanner.scan


def scan_parallel(data: bytes, fmt: str, base: BaseModel, workers: int) -> Scan:
    """scan_jsonl of a JSONL file split at line boundaries: this process scans the first
    part while forked children scan the others (each child's Scan comes back pickled
    through a pipe). Where fork is unavailable, or a child fails, the part is scanned here.
    """
    bounds = _slices(data, workers)
    if len(bounds) < 2 or not hasattr(os, "fork"):
        return scan_jsonl(data, fmt, base)
    TokenCounter(base.encoding)  # load the encoding once, before forking
    parts = [(start, end, data.count(b"\n", 0, start) + 1) for start, end in bounds]
    children = [_fork_scan(data, fmt, base, *part) for part in parts[1:]]
    scan = scan_jsonl(data, fmt, base, *parts[0])
    for child, part in zip(children, parts[1:], strict=True):
        scan.extend(_child_scan(*child) or scan_jsonl(data, fmt, base, *part))
    return scan


def _fork_scan(
    data: bytes, fmt: str, base: BaseModel, start: int, end: int, first_line: int
) -> tuple[int, int]:
    """Start a child scanning one part; (pid, fd to read its pickled Scan from)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_fd)
            payload = pickle.dumps(
                scan_jsonl(data, fmt, base, start, end, first_line), pickle.HIGHEST_PROTOCOL
            )
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def _child_scan(pid: int, read_fd: int) -> Scan | None:
    """The Scan a child sent, or None if it failed."""
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        scan = pickle.loads(payload)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
    return scan if isinstance(scan, Scan) else None


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
