"""The validation pass over records: per-example checks and token counts.

The pass keeps no parsed example: each record is checked, counted and dropped, so memory
stays flat. A Scanner keeps its token caches from chunk to chunk of one stream; the chunks
of a big stream are scanned in worker processes by `tui.core.pool`. Dataset-level checks
(duplicates, example count) run on the merged result.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from itertools import accumulate, islice

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
from tui.core.problems import ERROR, WARNING, Finding, Problem
from tui.core.tokens import EXAMPLE_OVERHEAD, MESSAGE_OVERHEAD, TokenCounter, example_tokens

DIGEST_BYTES = 16  # blake2b digest of an example, for duplicates


def _ints() -> array[int]:
    return array("q")


@dataclass
class Scan:
    """What one pass found: problems of single examples, and per example its line, token
    count and a digest (for duplicates), packed (arrays and DIGEST_BYTES a digest): 1.5M
    examples take 36 MB, and a worker's Scan pickles fast."""

    problems: list[Problem] = field(default_factory=list)
    counts: array[int] = field(default_factory=_ints)
    lines: array[int] = field(default_factory=_ints)
    digests: bytearray = field(default_factory=bytearray)
    exact: bool = True
    # Where each line of the chunk ends in the file (after its newline), when asked for:
    # the app's line index is filled from these, not by a pass of its own.
    ends: array[int] = field(default_factory=_ints)
    # Every digest's head (its first 8 bytes), in sorted runs (one a chunk), made in the
    # workers: duplicates are found by sorting all heads, and sorting the runs of all the
    # chunks one after the other takes timsort well under half the time of the heads in
    # file order, in the process that waits for the last chunk.
    head_runs: array[int] = field(default_factory=lambda: array("Q"))

    def digest(self, index: int) -> bytes:
        return bytes(self.digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES])

    def extend(self, other: Scan) -> None:
        self.problems.extend(other.problems)
        self.counts.extend(other.counts)
        self.lines.extend(other.lines)
        self.digests.extend(other.digests)
        self.exact = self.exact and other.exact
        self.ends.extend(other.ends)
        self.head_runs.extend(other.head_runs)

    def renumber(self, first_line: int) -> None:
        """Number the lines of a Scan made from line 1 (of a Span) from first_line."""
        shift = first_line - 1
        if shift:
            self.lines = array("q", [line + shift for line in self.lines])
            self.problems = [replace(p, line=p.line + shift) for p in self.problems]

    def sort_heads(self) -> Scan:
        """Make head_runs: this Scan's digest heads, sorted."""
        with memoryview(self.digests) as view, view.cast("Q") as words:
            self.head_runs = array("Q", sorted(words[:: DIGEST_BYTES // 8]))
        return self


def record_findings(rec: Record, fmt: str) -> list[Finding]:
    """Findings of one record alone (no token or dataset checks): pure, cheap."""
    if rec.kind == "invalid":
        code, message = rec.error or ("invalid_line", "cannot be read")
        return [Finding(code, ERROR, message)]
    if rec.kind != "example":
        return []
    if fmt == "dpo":
        return check_dpo(rec.obj)
    if fmt == "chat" and is_dpo(rec.obj):
        return [
            Finding(
                "mixed_formats",
                ERROR,
                "a DPO example (input / preferred_output) in a chat file; "
                "a file holds one kind of example",
            )
        ]
    return check_chat(rec.obj)


def check_record(rec: Record, fmt: str) -> list[Problem]:
    """Problems of one record alone, pinned to its line."""
    return [finding.at(rec.line) for finding in record_findings(rec, fmt)]


def token_problem(
    line: int, tokens: int, model: BaseModel, *, exact: bool = True
) -> Problem | None:
    """too_many_tokens when an example is over the model's per-example limit."""
    if tokens <= model.example_token_limit:
        return None
    return _too_many_tokens(line, tokens, model, exact=exact)


def _too_many_tokens(line: int, tokens: int, model: BaseModel, *, exact: bool) -> Problem:
    return too_many_tokens(tokens, model.example_token_limit, model.name, exact=exact).at(line)


def too_many_tokens(tokens: int, limit: int, model_name: str, *, exact: bool = True) -> Finding:
    """The warning for an example over the model's limit: validate and the editor both say it."""
    return Finding(
        "too_many_tokens",
        WARNING,
        f"messages: {'' if exact else 'about '}{tokens:,} tokens; "
        f"{model_name} trains on the first {limit:,}, "
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


def line_digest(line: bytes) -> bytes:
    """The duplicate key of a JSONL example, for the fast loop and the record path alike:
    its line without surrounding whitespace (as the editor keys it too)."""
    return blake2b(line.strip(), digest_size=DIGEST_BYTES).digest()


def _digest(rec: Record, fmt: str) -> bytes:
    if fmt in ("chat", "dpo"):
        return line_digest(rec.raw)
    return blake2b(to_jsonl_line(rec.obj).encode(), digest_size=DIGEST_BYTES).digest()


class Scanner:
    """Scans of one format and model in progress; the token caches outlive each chunk."""

    def __init__(self, fmt: str, base: BaseModel) -> None:
        self.fmt = fmt
        self.base = base
        self.counter = TokenCounter(base.encoding)
        self.roles = {
            role: (bit, MESSAGE_OVERHEAD + self.counter.count(role))
            for role, bit in _SIMPLE_ROLES.items()
        }
        self.scan = Scan()

    def scan_lines(self, chunk: bytes, first_line: int = 1, offset: int | None = None) -> Scan:
        """The Scan of whole JSONL lines (the last may lack its newline), numbered from
        first_line; equal to scan_records of their records. Starts a new Scan. offset:
        where the chunk starts in its file, if the Scan is to say where each line ends
        (a last line without a newline is said to end one byte after the chunk).

        A plain chat example (the common case) is parsed and counted in one tight loop; a
        line the loop is not sure of goes through jsonl_record and the full checks. This is
        what makes `validate` fast.
        """
        self.scan = Scan()
        lines = chunk.split(b"\n")
        unterminated = not chunk.endswith(b"\n")
        if not unterminated or not chunk:
            lines.pop()  # nothing follows the last newline
        if offset is not None:  # each line's end: the previous one's plus its length and \n
            ends = accumulate(map((1).__add__, map(len, lines)), initial=offset)
            self.scan.ends.extend(islice(ends, 1, None))
        counter, roles, counted = self.counter, self.roles, self.counted
        fast = self.fmt == "chat"
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
                    counted(number, n, True, line_digest(body))
                    continue
            if unterminated and index == last:
                self.add(jsonl_record(number, raw, b""))
            elif body is raw:
                self.add(jsonl_record(number, raw, b"\n"))
            else:
                self.add(jsonl_record(number, body, b"\r\n"))
        return self.scan.sort_heads()

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
        scan.digests += digest
        if n > self.base.example_token_limit:
            scan.problems.append(_too_many_tokens(line, n, self.base, exact=n_exact))


def scan_records(records: Iterable[Record], fmt: str, base: BaseModel) -> Scan:
    """Check and count every record, in order, keeping no parsed example."""
    scanner = Scanner(fmt, base)
    for rec in records:
        scanner.add(rec)
    return scanner.scan.sort_heads()


def scan_jsonl(data: bytes, fmt: str, base: BaseModel) -> Scan:
    """scan_records(read_jsonl(data)) by the fast loop: a whole JSONL file in one chunk."""
    start = len(BOM) if data.startswith(BOM) else 0
    return Scanner(fmt, base).scan_lines(data[start:])
