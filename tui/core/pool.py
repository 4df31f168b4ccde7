"""Scanning the chunks of a stream, in this process or in a pool of worker processes.

A small stream (one chunk) is scanned here: starting workers would cost more than it saves.
From the second chunk on, chunks go to a `concurrent.futures.ProcessPoolExecutor`; at most
a few chunks per worker are in flight, so memory stays bounded however big the stream is,
and results come back in stream order. Each worker keeps one Scanner (and its token caches)
for all the chunks it gets. If the pool breaks (a worker killed), the chunks still owed are
scanned here. A file mapped in this process is sent as Spans (offsets): forked workers read
the lines from the map they inherit. A worker ends with the process that started it (see
`_start_worker`).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from tui.core.chunks import Chunk, Span
from tui.core.models import BaseModel
from tui.core.problems import Problem
from tui.core.scan import Scan, Scanner

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.process import BaseProcess

IN_FLIGHT_PER_WORKER = 2

_worker_scanners: dict[tuple[str, str], Scanner] = {}
_worker_maps: dict[int, Callable[[int, int], bytes]] = {}  # how Spans are read, by id

Item = Chunk | Span | Problem | Scan  # a Problem or a ready Scan is passed through
Read = Callable[[int, int], bytes]  # the bytes [start, end) of the mapped file Spans are of


def _start_worker() -> None:
    """In each worker: leave Ctrl+C to the parent, which stops the pool; and end with the
    parent. A forked worker holds copies of the pool's pipes, so after the parent is killed
    (kill -9, SIGTERM) nothing would ever wake it: it would sleep on, reparented to pid 1."""
    import multiprocessing
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(target=_exit_with, args=(parent,), daemon=True)
        watch.start()


def _exit_with(parent: BaseProcess) -> None:
    """Runs in a worker's thread: end the worker as soon as its parent has ended, whatever
    the worker is doing (a chunk half scanned is of no use to anyone any more)."""
    parent.join()  # returns once the parent process is gone
    os._exit(1)


def _scan(scanner: Scanner, chunk: Chunk | Span, line_ends: bool, read: Read | None) -> Scan:
    if isinstance(chunk, Span):
        assert read is not None
        data = read(chunk.start, chunk.end)
        return scanner.scan_lines(data, 1, chunk.start if line_ends else None)
    return scanner.scan_lines(chunk.data, chunk.first_line, chunk.offset if line_ends else None)


def _scan_in_worker(
    fmt: str, base: BaseModel, chunk: Chunk | Span, line_ends: bool, read_id: int
) -> Scan:
    """Runs in a worker: the chunk's Scan, by the worker's Scanner for (fmt, model)."""
    scanner = _worker_scanners.get((fmt, base.name))
    if scanner is None:
        scanner = _worker_scanners[fmt, base.name] = Scanner(fmt, base)
    return _scan(scanner, chunk, line_ends, _worker_maps.get(read_id))


def scan_chunks(
    items: Iterable[Item],
    fmt: str,
    base: BaseModel,
    workers: int = 1,
    *,
    line_ends: bool = False,
    read: Read | None = None,
) -> Iterator[Scan | Problem]:
    """The Scan of each chunk or Span (and each Problem or Scan passed through), in order;
    line_ends: each Scan says where its lines end (Scan.ends); read: how Spans are read.

    The first chunk is scanned here, so workers forked after it start with its token caches
    (the common words of the file) instead of each learning them again.
    """
    local = Scanner(fmt, base)
    iterator = iter(items)
    for item in iterator:
        if isinstance(item, Problem | Scan):
            yield item
            continue
        yield _scan(local, item, line_ends, read)
        if workers > 1:
            yield from _scan_in_pool(iterator, fmt, base, workers, local, line_ends, read)
            return


def _scan_in_pool(
    rest: Iterator[Item],
    fmt: str,
    base: BaseModel,
    workers: int,
    local: Scanner,
    line_ends: bool,
    read: Read | None,
) -> Iterator[Scan | Problem]:
    following = next(rest, None)
    if following is None:  # nothing more: no pool
        return
    # Imported here: the app imports this module, and needs no pool to start.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    forked = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forked else None)
    _worker_scanners[fmt, base.name] = local  # inherited by forked workers, warm
    read_id = id(read)
    if read is not None:
        _worker_maps[read_id] = read  # inherited too: workers read Spans from the map
    owed: deque[tuple[Item, Future[Scan] | None]] = deque()
    broken = False
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:

        def submit(item: Item) -> None:
            future = None
            if isinstance(item, Chunk | Span) and not broken:
                if isinstance(item, Span) and not forked:  # no map in the worker: the bytes
                    assert read is not None
                    item = Chunk(1, read(item.start, item.end), item.start)
                with contextlib.suppress(BrokenProcessPool):  # then scanned here
                    future = pool.submit(_scan_in_worker, fmt, base, item, line_ends, read_id)
            owed.append((item, future))

        submit(following)
        for item in rest:
            submit(item)
            while len(owed) > workers * IN_FLIGHT_PER_WORKER:
                result, broken = _settle(owed.popleft(), local, broken, line_ends, read)
                yield result
        while owed:
            result, broken = _settle(owed.popleft(), local, broken, line_ends, read)
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        del _worker_scanners[fmt, base.name]
        _worker_maps.pop(read_id, None)


def _settle(
    entry: tuple[Item, Future[Scan] | None],
    local: Scanner,
    broken: bool,
    line_ends: bool,
    read: Read | None,
) -> tuple[Scan | Problem, bool]:
    """The result of one owed item, and whether the pool is now known broken."""
    from concurrent.futures.process import BrokenProcessPool

    item, future = entry
    if isinstance(item, Problem | Scan):
        return item, broken
    if future is not None and not broken:
        try:
            return future.result(), False
        except BrokenProcessPool:
            broken = True
    return _scan(local, item, line_ends, read), broken
