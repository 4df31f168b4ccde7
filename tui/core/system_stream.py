"""Ctrl+T on a big file: the system prompt set on every example, streamed into the file.

A big file's document (lazydoc.LazyDocument) cannot afford what the in-memory path does
(editing.set_system_for_all: an undoable Replace of two entries per example). Here a save
point of the document (its unsaved edits included) is written through the same per-example
rule (`editing.with_system`), a block of whole lines at a time, into a temporary file that
atomically replaces the dataset: nothing per example is kept, lines the rule leaves alone
(overrides, broken lines, blank lines) are copied byte for byte, and stopping before the end
leaves the file as it was. Blocks are rewritten in worker processes where there are cores.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tui.core.editing import encode_example, with_system
from tui.core.formats import BOM, parse_json_line

if TYPE_CHECKING:
    from concurrent.futures import Future

    from tui.core.lazydoc import LazyDocument, Piece, Rest

BLOCK_BYTES = 4 * 1024 * 1024  # lines rewritten (and handed to a worker) per block
IN_FLIGHT_PER_WORKER = 2


class Stopped(Exception):
    """The user stopped the rewrite; the temporary file is gone, the dataset untouched."""


class _Unchanged(Exception):
    """The rule changed no line: the temporary file goes, the dataset is not replaced."""


def restyle_line(text: bytes, old: str, new: str) -> bytes | None:
    """The line (without its ending) with `new` as its system prompt by `with_system`'s
    rule, or None when the rule leaves it as it is (kept byte for byte)."""
    obj, error = parse_json_line(text)
    if error is not None or not with_system(obj, old, new):
        return None
    return encode_example(obj)


def restyle_block(block: bytes, old: str, new: str) -> tuple[bytes, int]:
    """Whole lines (each with its `\\n` or `\\r\\n`; the last may have none) rewritten line
    by line: (the new bytes, how many lines changed)."""
    out: list[bytes] = []
    changed = 0
    lines = block.split(b"\n")
    last = len(lines) - 1
    for k, line in enumerate(lines):
        eol = b"" if k == last else b"\n"
        if eol and line.endswith(b"\r"):
            text, eol = line[:-1], b"\r\n"
        else:
            text = line
        new_text = restyle_line(text, old, new) if text.strip() else None
        if new_text is None:
            out.append(line + eol)
        else:
            changed += 1
            out.append(new_text + eol)
    return b"".join(out), changed


def point_blocks(doc: LazyDocument, point: Iterable[Piece | Rest]) -> Iterator[bytes]:
    """The bytes a save of `point` writes (without a BOM), as blocks of whole lines of
    about BLOCK_BYTES: runs of the file sliced from its map, changed lines from their
    entries (a worker thread: the lines not indexed yet are indexed here)."""
    from tui.core.lazydoc import Rest

    index = doc.source.index
    pending: list[bytes] = []
    size = 0
    for piece in point:
        if isinstance(piece, list):
            for entry in piece:
                pending.append(entry.saved + entry.eol)
                size += len(pending[-1])
            if size >= BLOCK_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
            continue
        if isinstance(piece, Rest):
            start, end = index.offset_of(piece.start), index.size
        else:
            start, end = index.offset_of(piece.start), index.offset_of(piece.stop)
        if pending:
            yield b"".join(pending)
            pending, size = [], 0
        pos = start
        while pos < end:
            stop = min(end, pos + BLOCK_BYTES)
            if stop < end:  # cut after the last newline (a longer line: to its end)
                data = index.read(pos, stop)
                cut = data.rfind(b"\n") + 1
                if cut:
                    stop = pos + cut
                else:
                    nl = index.read(stop, end).find(b"\n")
                    stop = end if nl < 0 else stop + nl + 1
            yield index.read(pos, stop)
            index.drop_pages(pos, stop)  # read once: the file's pages need not stay resident
            pos = stop
    if pending:
        yield b"".join(pending)


def point_bytes(doc: LazyDocument, point: Iterable[Piece | Rest]) -> int:
    """How many bytes a save of `point` writes (for the share done)."""
    from tui.core.lazydoc import Rest

    index = doc.source.index
    total = 0
    for piece in point:
        if isinstance(piece, list):
            total += sum(len(e.saved) + len(e.eol) for e in piece)
        elif isinstance(piece, Rest):
            total += index.size - index.offset_of(piece.start)
        else:
            total += index.offset_of(piece.stop) - index.offset_of(piece.start)
    return total


def _restyled(
    blocks: Iterator[bytes], old: str, new: str, workers: int
) -> Iterator[tuple[bytes, int, int]]:
    """(new bytes, lines changed, bytes read) of each block, in order; from the second block
    on in `workers` forked processes (at most a few blocks in flight: bounded memory)."""
    first = next(blocks, None)
    if first is None:
        return
    yield (*restyle_block(first, old, new), len(first))
    if workers <= 1:
        for block in blocks:
            yield (*restyle_block(block, old, new), len(block))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tui.core.pool import _start_worker

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    owed: deque[tuple[Future[tuple[bytes, int]], int]] = deque()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:
        for block in blocks:
            owed.append((pool.submit(restyle_block, block, old, new), len(block)))
            while len(owed) > workers * IN_FLIGHT_PER_WORKER:
                future, read = owed.popleft()
                yield (*future.result(), read)
        while owed:
            future, read = owed.popleft()
            yield (*future.result(), read)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def rewrite_system_for_all(
    doc: LazyDocument,
    path: Path,
    point: list[Piece | Rest],
    old: str,
    new: str,
    *,
    progress: Callable[[float], None] = lambda share: None,
    stop: Callable[[], bool] = lambda: False,
    workers: int = 1,
) -> int:
    """Write a save point of `doc` into `path` with `new` as the system prompt of every
    example using `old` (the dataset default) or none, atomically (a worker thread): the file
    holds either all of it or, if stopped or failing, what it held before; if no line changes
    it is left alone. Returns how many lines changed. Raises Stopped when `stop()` turns
    true (checked between blocks), OSError.
    """
    from tui.core.atomic import write_atomic_with

    total = max(1, point_bytes(doc, point))
    changed = 0

    def write(f: BinaryIO) -> None:
        nonlocal changed
        if doc.has_bom:
            f.write(BOM)
        done = 0
        for data, count, read in _restyled(point_blocks(doc, point), old, new, workers):
            if stop():
                raise Stopped
            f.write(data)
            done += read
            changed += count
            progress(min(1.0, done / total))
        if stop():
            raise Stopped
        if not changed:
            raise _Unchanged

    # No example uses the default: the file is left as it is (unsaved edits stay unsaved).
    with contextlib.suppress(_Unchanged):
        write_atomic_with(path, write)
    return changed
