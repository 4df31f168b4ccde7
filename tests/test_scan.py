"""The fast JSONL pass gives exactly what the record-by-record pass gives, in one piece or
streamed in chunks, in this process or in a pool of workers."""

from __future__ import annotations

import io
import json
import os

import pytest
from emulator_support import chat_line
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core import pool
from tui.core.chunks import Chunk, read_chunks
from tui.core.formats import BOM, read_jsonl
from tui.core.models import resolve_model
from tui.core.pool import scan_chunks
from tui.core.problems import Problem
from tui.core.scan import Scan, scan_jsonl, scan_records

BASE = resolve_model("gpt-4o-mini")


def example(user: str, assistant: str, system: str = "Popraw gramatykę zdania.") -> str:
    return chat_line(user, assistant, system)


# Lines the fast loop takes, and lines it must hand to the full checks.
LINES = [
    example("Ala ma kot.", "Ala ma kota."),
    example("Pies, lubić, kość", "Pies lubi kość!"),
    example("What is it?", "It's a cat."),
    example("x", "y" * 300),
    example("A  double space", "tab\there"),
    example("ends with space ", "…and unicode: żółć, 中文, 😀."),
    example("q", "a", system=""),
    example("trailing line break", "trained in\n"),
    example("a line break inside", "one\ntwo"),
    example("user ends with a line break\n", "fine"),
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": "no system"},
                {"role": "assistant", "content": "ok"},
            ]
        }
    ),
    json.dumps(
        {
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "u"},
                {"role": "assistant", "content": "a", "weight": 0},
            ]
        }
    ),
    json.dumps(
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}
    ),
    json.dumps({"input": {"messages": []}, "preferred_output": []}),
    '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a\\ud800b"}, '
    '{"role": "assistant", "content": "b"}]}',
    '  {"messages": []}  ',
    '{"messages": [',
    '{"a": NaN}',
    "[1, 2]",
    "",
    "   ",
    '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, '
    '{"role": "assistant", "content": "a"}]} trailing',
    BOM.decode() + example("bom inside", "a line"),
]
LINES_BYTES = [line.encode() for line in LINES] + [b"\xff\xfe not utf-8", b'{"m": "\x00"}']


def same(a: Scan, b: Scan) -> None:
    assert a.problems == b.problems
    assert a.counts == b.counts
    assert a.lines == b.lines
    assert a.digests == b.digests
    assert a.exact == b.exact


def reference(data: bytes, fmt: str = "chat") -> Scan:
    _, records = read_jsonl(data)
    return scan_records(records, fmt, BASE)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(LINES_BYTES), max_size=30),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
    st.booleans(),
)
def test_the_fast_pass_equals_the_record_pass(
    lines: list[bytes], eol: bytes, bom: bool, final_eol: bool
) -> None:
    data = (BOM if bom else b"") + eol.join(lines) + (eol if final_eol and lines else b"")
    same(scan_jsonl(data, "chat", BASE), reference(data))
    same(scan_jsonl(data, "dpo", BASE), reference(data, "dpo"))


def test_an_example_over_the_token_limit_is_flagged_on_its_line() -> None:
    big = example("long", "słowo " * 70_000)
    data = "\n".join([LINES[0], big]).encode()
    result = scan_jsonl(data, "chat", BASE)
    assert [(p.line, p.code) for p in result.problems] == [(2, "too_many_tokens")]
    same(result, reference(data))


def streamed(data: bytes, chunk_bytes: int, workers: int = 1) -> Scan:
    """The Scans of data read in chunks, merged (data starts with no BOM)."""
    merged = Scan()
    for item in scan_chunks(
        read_chunks(io.BytesIO(data), chunk_bytes=chunk_bytes), "chat", BASE, workers
    ):
        if isinstance(item, Problem):
            merged.problems.append(item)
        else:
            merged.extend(item)
    return merged


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(LINES_BYTES[:-3] + LINES_BYTES[-2:]), max_size=30),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
    st.integers(1, 400),
)
def test_chunks_of_a_stream_join_into_the_one_piece_result(
    lines: list[bytes], eol: bytes, final_eol: bool, chunk_bytes: int
) -> None:
    data = eol.join(lines) + (eol if final_eol and lines else b"")
    same(streamed(data, chunk_bytes), scan_jsonl(data, "chat", BASE))


@pytest.mark.parametrize("workers", [2, 3])
def test_a_pool_of_workers_gives_the_serial_result(workers: int) -> None:
    body = b"\r\n".join(LINES_BYTES * 5)  # CRLF, no final newline
    same(streamed(body, 300, workers), scan_jsonl(body, "chat", BASE))


def _crash(*args: object) -> Scan:
    os._exit(1)


def test_chunks_owed_by_a_dead_worker_are_scanned_here(monkeypatch: pytest.MonkeyPatch) -> None:
    data = "\n".join(LINES * 4).encode()
    expected = scan_jsonl(data, "chat", BASE)
    monkeypatch.setattr(pool, "_scan_in_worker", _crash)  # forked workers inherit it
    same(streamed(data, 200, 2), expected)


def test_a_line_over_the_limit_is_reported_without_being_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.core import formats

    monkeypatch.setattr(formats, "MAX_LINE_BYTES", 1000)
    long_line = b'{"messages": "' + b"x" * 5000 + b'"}'
    blank_long = b" " * 3000
    data = b"\n".join([LINES_BYTES[0], long_line, blank_long, LINES_BYTES[1], long_line + b"\r"])
    result = streamed(data, 100)
    assert [(p.line, p.code) for p in result.problems] == [
        (2, "line_too_long"),
        (5, "line_too_long"),
    ]
    same(result, reference(data))
    # Each chunk says where it is in the stream, past the skipped lines too (the app's line
    # index is filled from the chunks' line ends).
    for head in (b"", data[:150]):
        stream = io.BytesIO(data[len(head) :])
        chunks = [c for c in read_chunks(stream, head, chunk_bytes=100) if isinstance(c, Chunk)]
        assert [data[c.offset : c.offset + len(c.data)] for c in chunks] == [c.data for c in chunks]
        assert chunks[-1].data.endswith(LINES_BYTES[1] + b"\n")


def _chat(user: str, assistant: str, system: str = "S") -> dict[str, object]:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    }


# A few examples, so that lines repeat: the same example, spaced or padded differently.
_SAME_OR_NOT = [
    _chat("a", "b"),
    _chat("a", "b "),
    _chat(" a", "b"),
    _chat("a", "b\n"),
    {"messages": [1]},
]
_PADDING = st.text(alphabet=" \t\x0b\x0c\r\xa0\u2028", max_size=3)


@st.composite
def _padded_line(draw: st.DrawFn) -> bytes:
    """One of _SAME_OR_NOT as JSON, spaced one of three ways, in whitespace (or not)."""
    obj = draw(st.sampled_from(_SAME_OR_NOT))
    separators = draw(st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]))
    text = json.dumps(obj, separators=separators, ensure_ascii=draw(st.booleans()))
    return (draw(_PADDING) + text + draw(_PADDING)).encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(_padded_line(), min_size=1, max_size=25), st.sampled_from([b"\n", b"\r\n"]))
def test_the_fast_and_the_record_path_find_the_same_duplicates(
    lines: list[bytes], eol: bytes
) -> None:
    """validate's fast loop and its record-by-record path key a duplicate the same way
    (the line without surrounding whitespace), so the same bytes give the same report."""
    from tui.core.validate import validate_bytes, validate_records

    data = eol.join(lines) + eol
    fast = validate_bytes(data, "gpt-4o-mini", filename="t.jsonl")
    _, records = read_jsonl(data)
    slow = validate_records(records, "chat", model="gpt-4o-mini")
    assert fast.problems == slow.problems
    assert list(fast.token_counts) == list(slow.token_counts)
