"""A JSONL stream read as chunks of whole lines, in bounded memory.

Each chunk holds whole lines (the stream's last line may lack its newline), the number of
its first line and where it starts in the stream. A line longer than MAX_LINE_BYTES is
never held: it is skipped up to its newline and reported as a Problem in its place, so
even endless input without a newline keeps memory flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from tui.core import formats
from tui.core.problems import ERROR, Finding, Problem

CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Chunk:
    first_line: int
    data: bytes
    offset: int = 0  # where data starts in the stream (the head included)


@dataclass(frozen=True, slots=True)
class Span:
    """Whole lines [start, end) of a file mapped in this process, numbered from 1 (whoever
    gets their Scan knows how many lines came before): a worker reads them from its own view
    of the map, so the bytes never go through a pipe (see pool.scan_chunks)."""

    start: int
    end: int


def read_chunks(
    stream: BinaryIO,
    head: bytes = b"",
    *,
    chunk_bytes: int = CHUNK_BYTES,
    first_line: int = 1,
    offset: int = 0,
) -> Iterator[Chunk | Problem]:
    """Chunks of whole lines of `head` followed by the rest of `stream`, in order, with a
    line_too_long Problem in place of each line over MAX_LINE_BYTES. offset: where `head`
    starts in the stream (each Chunk's offset counts from there)."""
    max_line = formats.MAX_LINE_BYTES
    buffer = head
    line = first_line
    at = offset  # where buffer starts
    eof = False
    while True:
        if len(buffer) < chunk_bytes and not eof:
            more = stream.read(chunk_bytes)
            eof = not more
            buffer += more
            continue
        # Cut after the last newline within chunk_bytes (a big head is cut in several).
        cut = buffer.rfind(b"\n", 0, chunk_bytes) + 1 or buffer.find(b"\n", chunk_bytes) + 1
        if cut:
            yield Chunk(line, buffer[:cut], at)
            line += buffer.count(b"\n", 0, cut)
            at += cut
            buffer = buffer[cut:]
        elif eof:
            if buffer:
                yield Chunk(line, buffer, at)
            return
        elif len(buffer) > max_line + 1:  # too long even without a final \r
            problem, buffer, eof, skipped = _skip_line(stream, buffer, line, chunk_bytes)
            at += skipped
            if problem is not None:
                yield problem
            line += 1
        else:
            more = stream.read(chunk_bytes)
            eof = not more
            buffer += more


def _skip_line(
    stream: BinaryIO, start: bytes, line: int, chunk_bytes: int
) -> tuple[Problem | None, bytes, bool, int]:
    """Read past the rest of a too long line: (its problem, or None if it is blank; what
    follows its newline; end of stream reached; bytes skipped, its newline included)."""
    size = 0
    skipped = 0
    blank = True
    last = b""
    piece = start
    while True:
        nl = piece.find(b"\n")
        body = piece if nl == -1 else piece[:nl]
        size += len(body)
        blank = blank and not body.strip()
        last = body[-1:] or last
        if nl != -1:
            rest = piece[nl + 1 :]
            skipped += nl + 1
            size -= last == b"\r"  # a CRLF line's \r is not part of it
            eof = False
            break
        skipped += len(piece)
        piece = stream.read(chunk_bytes)
        if not piece:
            rest, eof = b"", True
            break
    if blank:
        return None, rest, eof, skipped
    code, message = formats.line_too_long(size)
    return Finding(code, ERROR, message).at(line), rest, eof, skipped
