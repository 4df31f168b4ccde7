"""The fast JSONL pass gives exactly what the record-by-record pass gives, serial or forked."""

from __future__ import annotations

import json

import pytest
from emulator_support import chat_line
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core import scan
from tui.core.formats import BOM, read_jsonl
from tui.core.models import resolve_model
from tui.core.scan import Scan, scan_jsonl, scan_parallel, scan_records

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


@pytest.mark.parametrize("workers", [2, 3, 7])
def test_forked_parts_join_into_the_serial_result(workers: int) -> None:
    body = b"\r\n".join(LINES_BYTES * 5)
    data = BOM + body  # no final newline, a BOM, CRLF: every edge at once
    same(scan_parallel(data, "chat", BASE, workers), scan_jsonl(data, "chat", BASE))


def test_a_part_whose_child_fails_is_scanned_by_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError("the child cannot send its result")

    data = "\n".join(LINES * 4).encode()
    expected = scan_jsonl(data, "chat", BASE)
    monkeypatch.setattr(scan.pickle, "dumps", broken)  # inherited by the forked children
    same(scan_parallel(data, "chat", BASE, 3), expected)
