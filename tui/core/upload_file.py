"""The exact JSONL to upload, written to a temporary file in blocks: a 512 MB dataset is
never held in memory as one `bytes`, nor as parsed examples.

Each example is exported as `formats.to_jsonl_line` of its parsed object plus `\\n` (what
`Dataset.export_jsonl` gives, byte for byte); the SHA-256 used for upload dedupe is computed
while writing, and the source line of each exported line is kept in an array.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from tui.core.chunks import Chunk, read_chunks
from tui.core.formats import BOM, JSONL_FORMATS, jsonl_record, read_records, to_jsonl_line
from tui.core.split import split_key, split_sides

BLOCK_BYTES = 1024 * 1024
Progress = Callable[[int], None]
"""Called with the number of source bytes read so far."""


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class UploadFile:
    """A finished upload file: its path, size, SHA-256 and per line its source line. The
    file is removed with `remove()` or when this object is garbage collected."""

    def __init__(self, path: str, size: int, sha256: str, lines: array[int]) -> None:
        self.path = Path(path)
        self.size = size
        self.sha256 = sha256
        self.lines = lines
        self._finalizer = weakref.finalize(self, _remove, path)

    def __len__(self) -> int:
        """The number of examples (lines)."""
        return len(self.lines)

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def read_bytes(self) -> bytes:
        """The whole upload in memory: for tests and small files only."""
        return self.path.read_bytes()

    def iter_lines(self) -> Iterator[bytes]:
        """Each line without its `\\n`, read in blocks."""
        with self.open() as f:
            for line in f:
                yield line.rstrip(b"\n")

    def remove(self) -> None:
        self._finalizer()


class UploadWriter:
    """Lines written to a temp file through a block buffer, hashed as they go."""

    def __init__(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="tunebench-upload-", suffix=".jsonl")
        self._file = os.fdopen(fd, "wb", buffering=BLOCK_BYTES)
        self._hash = hashlib.sha256()
        self._size = 0
        self.lines: array[int] = array("q")

    def write(self, line: bytes, source_line: int) -> None:
        """One exported line, `\\n` included."""
        self._file.write(line)
        self._hash.update(line)
        self._size += len(line)
        self.lines.append(source_line)

    def finish(self) -> UploadFile:
        self._file.close()
        return UploadFile(self._path, self._size, self._hash.hexdigest(), self.lines)

    def discard(self) -> None:
        self._file.close()
        _remove(self._path)


class _CountingReader:
    """A binary file that reports how many bytes were read from it."""

    def __init__(self, raw: BinaryIO, progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.done += len(data)
        if self._progress is not None:
            self._progress(self.done)
        return data


@contextlib.contextmanager
def open_counted(path: Path, progress: Progress | None) -> Iterator[BinaryIO]:
    """`path` opened for reading, `progress` called with the bytes read so far."""
    with open(path, "rb") as f:
        yield cast(BinaryIO, _CountingReader(f, progress))


def exported_lines(
    path: Path, fmt: str, *, sep: str, system: str | None, progress: Progress | None = None
) -> Iterator[tuple[int, bytes]]:
    """(source line, exported line with `\\n`) of each example of the file, in order.
    JSONL is read in chunks; pairs and CSV/TSV are read whole (as `validate` reads them)."""
    if fmt not in JSONL_FORMATS:
        data = path.read_bytes()
        if progress is not None:
            progress(len(data))
        _bom, records = read_records(data, fmt, sep=sep, system=system)
        for rec in records:
            if rec.kind == "example":
                yield rec.line, (to_jsonl_line(rec.obj) + "\n").encode("utf-8")
        return
    with open_counted(path, progress) as stream:
        head = stream.read(len(BOM))
        if head == BOM:
            head = b""
        for chunk in read_chunks(stream, head):
            if isinstance(chunk, Chunk):
                yield from _chunk_examples(chunk)


def _chunk_examples(chunk: Chunk) -> Iterator[tuple[int, bytes]]:
    lines = chunk.data.split(b"\n")
    if chunk.data.endswith(b"\n"):
        lines.pop()  # nothing follows the last newline
    for number, raw in enumerate(lines, chunk.first_line):
        body = raw[:-1] if raw[-1:] == b"\r" else raw
        rec = jsonl_record(number, body, b"\n")
        if rec.kind == "example":
            yield number, (to_jsonl_line(rec.obj) + "\n").encode("utf-8")


def write_upload(lines: Iterable[tuple[int, bytes]]) -> UploadFile:
    """The lines written to a new UploadFile."""
    writer = UploadWriter()
    try:
        for number, line in lines:
            writer.write(line, number)
    except BaseException:
        writer.discard()
        raise
    return writer.finish()


def _lines_of(stream: BinaryIO) -> Iterator[bytes]:
    """The lines of a stream, `\n` included, read a block at a time."""
    rest = b""
    while block := stream.read(BLOCK_BYTES):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line + b"\n"
    if rest:
        yield rest


def split_upload(
    whole: UploadFile, validation_fraction: float, seed: int, progress: Progress | None = None
) -> tuple[UploadFile, UploadFile, bytearray]:
    """(training, validation, per example 1 if held out) of an upload file, split by
    core.split in two passes over it (a 16-byte key per example, then each line written to
    its side): the same split as `split_indices` of the exported lines. `progress`: bytes of
    `whole` written to a side so far."""
    sides = split_sides((split_key(line) for line in whole.iter_lines()), validation_fraction, seed)
    train, valid = UploadWriter(), UploadWriter()
    try:
        with open_counted(whole.path, progress) as f:
            for index, line in enumerate(_lines_of(f)):
                (valid if sides[index] else train).write(line, whole.lines[index])
    except BaseException:
        train.discard()
        valid.discard()
        raise
    return train.finish(), valid.finish(), sides
