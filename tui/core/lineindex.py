"""The lines of a big file without reading it into memory (the way toolong opens huge logs).

The file is mapped (`mmap`), not read: the operating system pages in what is touched and
can drop it again. Where each line ends is found a chunk at a time into a packed array
(8 bytes a line): by `index_more`, or taken from the background check's scan of the same
chunks (`add_found`: the check splits every line anyway, so the file is walked once);
`line(i)` then reads line i from the map on demand. Until then the index knows the lines
found so far, so a screen can show the first lines of a 512 MB file at once.
"""

from __future__ import annotations

import bisect
import mmap
import os
import re
import threading
from array import array
from collections.abc import Sequence
from itertools import accumulate, islice
from pathlib import Path

from tui.core.formats import BOM

INDEX_STEP = 4 * 1024 * 1024  # bytes looked at per index_more call
_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")


class LineIndex:
    """Line offsets of one file version, found incrementally; lines read on demand.

    `index_more` and `add_found` take a lock (the scan's thread indexes; a restore may need
    every line at once); any thread may read lines already indexed (the array only grows,
    and appending to it is atomic under the GIL).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            # A mapping outlives its file descriptor; an empty file cannot be mapped.
            self._data: mmap.mmap | bytes = (
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
        self.size = size
        self.has_bom = self._data[: len(BOM)] == BOM
        self.start = len(BOM) if self.has_bom else 0
        self._ends: array[int] = array("q")  # end offset (after its newline) of each line
        self._scanned = self.start  # every newline before this offset is indexed
        self.complete = self._scanned >= size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Lines found so far (all of them once `complete`)."""
        return len(self._ends)

    @property
    def scanned_bytes(self) -> int:
        return self._scanned

    def index_more(self, step: int = INDEX_STEP) -> int:
        """Find the lines in the next `step` bytes (at least one whole line); returns how
        many were found. At the end of the file a last line without a newline counts too."""
        with self._lock:
            return self._index_more(step)

    def _index_more(self, step: int) -> int:
        if self.complete:
            return 0
        data, pos, size = self._data, self._scanned, self.size
        cut = self.cut(pos, step)
        before = len(self._ends)
        parts = data[pos:cut].split(b"\n")
        if parts[-1] == b"":
            parts.pop()  # nothing after the last newline of the chunk
        # A line's end is the previous end plus its length plus its newline.
        ends = accumulate((len(p) + 1 for p in parts), initial=pos)
        self._ends.extend(islice(ends, 1, None))
        if cut >= size and self._ends and self._ends[-1] > size:
            self._ends[-1] = size  # the last line has no newline
        self._scanned = cut
        self.complete = cut >= size
        return len(self._ends) - before

    def add_found(self, start: int, ends: Sequence[int]) -> int:
        """Take in the line ends a scan found in the bytes from `start` on (a line boundary),
        each the offset after its newline (a last line without one may say one byte past the
        end of the file); lines before `start` not indexed yet are indexed first, ends
        already indexed are skipped. Returns how many lines were added."""
        with self._lock:
            before = len(self._ends)
            if self._scanned < start:  # lines the scan skipped (too long to hold)
                self._index_more(start - self._scanned)
            if self.complete or not ends or ends[-1] <= self._scanned:
                return len(self._ends) - before
            self._ends.extend(ends[bisect.bisect_right(ends, self._scanned) :])
            if self._ends[-1] > self.size:
                self._ends[-1] = self.size  # the last line has no newline
            self._scanned = self._ends[-1]
            self.complete = self._scanned >= self.size
            return len(self._ends) - before

    def cut(self, pos: int, step: int) -> int:
        """Where the whole lines in the `step` bytes from `pos` (a line's start) end: after
        the last newline there, or, if a line is longer, after its newline (or at the end
        of the file)."""
        data, size = self._data, self.size
        cut = data.rfind(b"\n", pos, min(size, pos + step)) + 1
        if not cut:
            cut = data.find(b"\n", pos + step) + 1 or size
        return cut

    def blank(self, start: int, end: int) -> bool:
        """Bytes [start, end) are ASCII whitespace only (as bytes.strip() sees it), read
        without copying them."""
        return _NOT_BLANK.search(self._data, start, end) is None

    def index_all(self) -> None:
        while not self.complete:
            self.index_more()

    def span(self, index: int) -> tuple[int, int]:
        """(start, end) offsets of line `index`, its line ending included."""
        start = self._ends[index - 1] if index else self.start
        return start, self._ends[index]

    def line(self, index: int) -> tuple[bytes, bytes]:
        """(text without its line ending, the ending: b"\\n", b"\\r\\n" or b"") of a line."""
        start, end = self.span(index)
        raw = self._data[start:end]
        if raw.endswith(b"\r\n"):
            return raw[:-2], b"\r\n"
        if raw.endswith(b"\n"):
            return raw[:-1], b"\n"
        return raw, b""

    def sha256(self) -> str:
        """The SHA-256 of the file's bytes as mapped (the version this index reads)."""
        import hashlib

        digest = hashlib.sha256()
        step = 1 << 22
        with memoryview(self._data) as view:
            for at in range(0, self.size, step):
                digest.update(view[at : at + step])  # no copy; the GIL is released
        return digest.hexdigest()

    def read(self, start: int, end: int) -> bytes:
        """Bytes of the file between two offsets (a streamed save copies lines this way)."""
        return self._data[start:end]

    def drop_pages(self, start: int, end: int) -> None:
        """Let the pages of [start, end) go from this process's memory (a pass over the
        whole file, such as Ctrl+T's rewrite, would otherwise keep all of them resident);
        a later read pages them in again from the page cache."""
        if not isinstance(self._data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
            return
        start -= start % mmap.PAGESIZE
        if end > start:
            self._data.madvise(mmap.MADV_DONTNEED, start, min(end, self.size) - start)

    def same_lines(self, first: int, other: int, count: int) -> bool:
        """Lines [first, first + count) hold the same bytes as [other, other + count)."""
        a, a_end = self.offset_of(first), self.offset_of(first + count)
        b, b_end = self.offset_of(other), self.offset_of(other + count)
        if a_end - a != b_end - b:
            return False
        step = 1 << 20  # compared a block at a time: a difference is usually found at once
        size = a_end - a
        return all(
            self._data[a + at : a + min(size, at + step)]
            == self._data[b + at : b + min(size, at + step)]
            for at in range(0, size, step)
        )

    def matching_lines(self, pattern: re.Pattern[bytes], lines: range) -> list[int]:
        """The lines among `lines` (indexed ones) in which `pattern` matches (no pattern
        spans a newline: a query is one line)."""
        out: list[int] = []
        ends = self._ends
        start, end = self.offset_of(lines.start), self.offset_of(lines.stop)
        for match in pattern.finditer(self._data, start, end):
            line = bisect.bisect_right(ends, match.start())  # the first line ending after it
            if not out or out[-1] != line:
                out.append(line)
        return out

    def offset_of(self, index: int) -> int:
        """Where line `index` starts (the end of the file for index == len(self))."""
        return self._ends[index - 1] if index else self.start
