"""Reading and writing files: lossless JSONL, pairs text, CSV/TSV, the upload layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seed_data import SEED_JSONL, SEED_PAIRS, SEED_SYSTEM

from tui.core.dataset import Dataset
from tui.core.formats import UnusableInput, detect_format, export_jsonl, read_pairs

LINE = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}'


@pytest.mark.parametrize(
    "data",
    [
        (LINE + "\n") * 3,
        "\ufeff" + LINE + "\r\n" + LINE + "\r\n",  # BOM and CRLF
        LINE + "\n" + LINE,  # no final newline
        LINE + "\n\n\n" + LINE + "\n   \n",  # blank lines
        LINE + "\n{not json\n[1, 2]\n" + LINE + "\n",  # unparsable lines kept
        LINE + "\r\n" + LINE + "\n" + LINE,  # mixed endings
    ],
)
def test_jsonl_opened_and_saved_unedited_is_byte_identical(tmp_path: Path, data: str) -> None:
    src = tmp_path / "train.jsonl"
    src.write_bytes(data.encode("utf-8"))
    ds = Dataset.open(src)
    out = ds.save(tmp_path / "copy.jsonl")
    assert out.read_bytes() == src.read_bytes()


def test_invalid_utf8_line_is_kept_verbatim(tmp_path: Path) -> None:
    data = LINE.encode() + b"\n\xff\xfe broken\n" + LINE.encode()
    ds = Dataset.from_bytes(data, filename="x.jsonl")
    assert ds.to_bytes() == data
    assert [r.kind for r in ds.records] == ["example", "invalid", "example"]
    assert ds.records[1].error is not None and ds.records[1].error[0] == "invalid_utf8"


def test_editing_one_example_rewrites_only_that_line() -> None:
    data = (LINE + "\r\n") * 3
    ds = Dataset.from_bytes(data.encode(), filename="x.jsonl")
    ds.set_example(1, {"messages": [{"role": "user", "content": "é"}]})
    lines = ds.to_bytes().decode().split("\r\n")
    assert lines[0] == LINE and lines[2] == LINE
    assert lines[1] == '{"messages": [{"role": "user", "content": "é"}]}'
    assert ds.dirty
    assert [p.code for p in ds.problems_of(1)] == [
        "example_missing_assistant_message",
        "missing_system_message",
    ]


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "train.jsonl"
    target.write_text("old\n")
    ds = Dataset.from_bytes((LINE + "\n").encode(), filename=str(target))
    ds.save()
    assert target.read_text() == LINE + "\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["train.jsonl"]
    assert not ds.dirty


def test_seed_pairs_become_the_seed_jsonl() -> None:
    _, records = read_pairs(SEED_PAIRS.encode(), system=SEED_SYSTEM)
    examples = [r.obj for r in records if r.kind == "example"]
    assert export_jsonl(examples).decode() == SEED_JSONL


def test_pairs_comments_blank_lines_and_system_line() -> None:
    text = "# my data\n\n# system: Be brief.\nq; a\n"
    ds = Dataset.from_bytes(text.encode(), filename="p.txt")
    assert [r.kind for r in ds.records] == ["comment", "blank", "comment", "example"]
    assert ds.records[3].obj["messages"][0] == {"role": "system", "content": "Be brief."}
    assert ds.to_bytes() == text.encode()


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("no separator here", "missing_separator"),
        ("a; b; c", "multiple_separators"),
        ("  ; answer", "empty_input"),
        ("question;   ", "empty_output"),
    ],
)
def test_bad_pair_lines_are_reported_with_their_line(line: str, code: str) -> None:
    _, records = read_pairs(f"ok; fine\n{line}\n".encode())
    bad = list(records)[1]
    assert (bad.line, bad.kind) == (2, "invalid")
    assert bad.error is not None and bad.error[0] == code


def test_pairs_separator_is_configurable() -> None:
    _, records = read_pairs(b"a; b\tc\n", sep="\t")
    rec = next(iter(records))
    assert rec.obj["messages"][0]["content"] == "a; b"


def test_csv_with_quoted_multiline_cells_and_system_column() -> None:
    data = b'User,Assistant,system\n"line one\nline two","x, y",Sys\nq,a,\n'
    ds = Dataset.from_bytes(data, filename="d.csv")
    examples = [r for r in ds.records if r.kind == "example"]
    assert [r.line for r in examples] == [2, 4]
    assert examples[0].obj["messages"] == [
        {"role": "system", "content": "Sys"},
        {"role": "user", "content": "line one\nline two"},
        {"role": "assistant", "content": "x, y"},
    ]
    assert ds.to_bytes() == data


def test_tsv_and_missing_columns() -> None:
    ds = Dataset.from_bytes(b"input\toutput\nq\ta\n", filename="d.tsv")
    assert ds.fmt == "tsv" and ds.records[1].obj["messages"][1]["content"] == "a"
    with pytest.raises(UnusableInput, match="input"):
        Dataset.from_bytes(b"question,answer\nq,a\n", filename="d.csv")


def test_dpo_jsonl_is_recognised() -> None:
    line = b'{"input": {"messages": []}, "preferred_output": [], "non_preferred_output": []}\n'
    assert detect_format(line, "prefs.jsonl") == "dpo"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        ('{"messages": []}\n'.encode("utf-16"), "UTF-16"),
        (b'[{"messages": []}]', "JSON array"),
        (b'[\n  {"messages": []}\n]\n', "JSON array"),
        (b'{\n  "messages": []\n}\n', "one JSON object spread over several lines"),
    ],
)
def test_unusable_bytes_raise_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(UnusableInput, match=message):
        Dataset.from_bytes(data, filename="x.jsonl")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.lists(st.sampled_from(['{"a": 1}', "x;y", "a,b", '"q', "\r", "\n", "\ufeff", "é", ";"]))
        .map("".join)
        .map(str.encode),
    ),
    st.sampled_from(["t.jsonl", "t.txt", "t.csv", "t.tsv", None]),
)
def test_any_bytes_load_and_save_identically_or_fail_cleanly(data: bytes, name: str | None) -> None:
    try:
        ds = Dataset.from_bytes(data, filename=name)
    except UnusableInput:
        return
    assert ds.to_bytes() == data


def test_insert_and_delete_keep_the_files_line_endings() -> None:
    ds = Dataset.from_bytes(f"{LINE}\r\n{LINE}".encode(), filename="x.jsonl")
    ds.insert_example(2, {"messages": []})
    assert ds.to_bytes().decode() == f'{LINE}\r\n{LINE}\r\n{{"messages": []}}'
    ds.delete(0)
    assert ds.to_bytes().decode() == f'{LINE}\r\n{{"messages": []}}'
    assert [r.line for r in ds.records] == [2, 0]  # source lines; 0 = added in the editor
    pairs = Dataset.from_bytes(b"a; b\n", filename="p.txt")
    pairs.insert_example(
        0, {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}
    )
    assert pairs.to_bytes() == b"q; r\na; b\n"
