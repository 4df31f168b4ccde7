"""The lazy line index gives the same lines as reading the whole file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.chunks import Chunk, read_chunks
from tui.core.formats import BOM, split_lines
from tui.core.lineindex import LineIndex
from tui.core.models import resolve_model
from tui.core.scan import Scanner

line_texts = st.lists(
    st.one_of(
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.sampled_from([b"", b" ", b"\r", b'{"messages": []}', "zdanie ł".encode()]),
    ),
    max_size=30,
)
endings = st.sampled_from([b"\n", b"\r\n"])


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(line_texts)
    body = b"".join(text + draw(endings) for text in lines)
    if draw(st.booleans()) and body:
        body = body[: -draw(st.integers(1, 2))] if body.endswith(b"\r\n") else body[:-1]
    return (BOM if draw(st.booleans()) else b"") + body


@settings(max_examples=300, deadline=None)
@given(data=files(), step=st.integers(1, 64))
def test_the_index_reads_what_a_full_read_reads(data: bytes, step: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.jsonl"
        path.write_bytes(data)
        index = LineIndex(path)
        seen = 0
        while not index.complete:  # lines indexed so far are readable as the scan goes on
            index.index_more(step)
            assert len(index) >= seen
            seen = len(index)
        has_bom, lines = split_lines(data)
        expected = [(raw, eol) for _number, raw, eol in lines]
        assert index.has_bom == has_bom
        assert [index.line(i) for i in range(len(index))] == expected
        # Whole lines copied by offset put the file back together, byte for byte.
        copied = index.read(0, index.offset_of(len(index)))
        assert copied == data


@settings(max_examples=200, deadline=None)
@given(data=files(), first=st.integers(0, 64), chunk_bytes=st.integers(1, 64), skips=st.data())
def test_line_ends_found_by_the_scan_index_the_file_as_index_more_does(
    data: bytes, first: int, chunk_bytes: int, skips: st.DataObject
) -> None:
    """The app's index is filled from the check's chunks (the file is walked once): the same
    lines as reading it whole, whatever the first screen indexed before, and with chunks the
    scan never saw (lines too long to hold) indexed in between."""
    scanner = Scanner("chat", resolve_model(None))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.jsonl"
        path.write_bytes(data)
        index = LineIndex(path)
        index.index_more(first)  # the first screen's lines
        with open(path, "rb") as f:
            f.seek(index.start)
            for chunk in read_chunks(f, chunk_bytes=chunk_bytes, offset=index.start):
                assert isinstance(chunk, Chunk)
                if skips.draw(st.integers(0, 4)) == 0:
                    continue  # a chunk whose lines the scan did not report
                scan = scanner.scan_lines(chunk.data, chunk.first_line, chunk.offset)
                seen = len(index)
                index.add_found(chunk.offset, scan.ends)
                assert len(index) >= seen
        index.index_all()
        _has_bom, lines = split_lines(data)
        assert [index.line(i) for i in range(len(index))] == [(r, e) for _n, r, e in lines]
        assert index.read(0, index.offset_of(len(index))) == data


def test_the_hash_is_of_the_mapped_bytes(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "data.jsonl"
    data = b"x" * (5 << 20) + b"\n"
    path.write_bytes(data)
    assert LineIndex(path).sha256() == hashlib.sha256(data).hexdigest()


def test_a_large_generated_file_is_indexed_line_for_line(tmp_path: Path) -> None:
    lines = [f'{{"messages": [{{"role": "user", "content": "{i}"}}]}}' for i in range(200_000)]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    index = LineIndex(path)
    index.index_all()
    assert len(index) == len(lines)
    for i in (0, 1, 99_999, 199_999):
        assert index.line(i) == (lines[i].encode(), b"\n")


def test_an_empty_file_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    index = LineIndex(path)
    assert index.complete and len(index) == 0
