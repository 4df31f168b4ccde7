"""`validate` as a stream: the same report as the whole-file record pass, in chunks and
worker processes; binary input refused from its first chunk; silent input waited for aloud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scan import LINES_BYTES

from tui.core.formats import (
    BOM,
    EMPTY_BYTES,
    UnusableInput,
    check_head,
    detect_format,
    read_records,
)
from tui.core.validate import ValidationReport, bom_problem, validate_bytes, validate_records

SYS = {"role": "system", "content": "Be brief."}
USER = {"role": "user", "content": "Hi"}
ASSIST = {"role": "assistant", "content": "Hello"}

# Lines with every kind of problem the pass reports, and good ones (repeated: duplicates).
PROBLEM_LINES = [
    json.dumps(ex).encode()
    for ex in [
        {"messages": [SYS, USER, ASSIST]},
        {"messages": [SYS, {"role": "user", "content": "Ho"}, ASSIST]},
        {"messages": []},
        {"prompt": "x", "completion": "y"},
        {"messages": [SYS, {"role": "human", "content": "x"}, ASSIST]},
        {"messages": [SYS, USER]},
        {"messages": [USER, ASSIST]},
        {"messages": [SYS, USER, {**ASSIST, "weight": 2}]},
        {"messages": [SYS, USER, {"role": "assistant", "tool_calls": [{"id": "x"}]}]},
        {"messages": [SYS, USER, {**ASSIST, "content": "słowo " * 70_000}]},
        {
            "input": {"messages": [USER]},
            "preferred_output": [ASSIST],
            "non_preferred_output": [ASSIST],
        },
        [1, 2],
    ]
]
CORPUS = LINES_BYTES + PROBLEM_LINES


def before(data: bytes, filename: str) -> ValidationReport:
    """The whole-file record pass (what validate did before it streamed)."""
    try:
        check_head(data)
        fmt = detect_format(data, filename)
        if data.strip(EMPTY_BYTES):
            has_bom, records = read_records(data, fmt)
        else:  # an empty file: 0 examples, as the app shows it
            has_bom, records = data.startswith(BOM), []
    except UnusableInput as exc:
        return ValidationReport("?", "?", 0, [], fatal=str(exc))
    return validate_records(records, fmt, problems=[bom_problem()] if has_bom else [])


def assert_same(report: ValidationReport, expected: ValidationReport) -> None:
    assert report.fatal == expected.fatal
    if expected.fatal is None:
        assert report.problems == expected.problems
        assert list(report.token_counts) == list(expected.token_counts)
        assert (report.n_examples, report.tokens) == (expected.n_examples, expected.tokens)
        assert report.estimate == expected.estimate


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(CORPUS), max_size=40),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
    st.integers(1, 2000),
    st.sampled_from(["t.jsonl", "t.txt", "t"]),
)
def test_the_stream_gives_the_whole_file_report(
    lines: list[bytes], eol: bytes, final_eol: bool, chunk_bytes: int, filename: str
) -> None:
    data = eol.join(lines) + (eol if final_eol and lines else b"")
    report = validate_bytes(data, filename=filename, chunk_bytes=chunk_bytes)
    assert_same(report, before(data, filename))


def test_worker_processes_give_the_whole_file_report() -> None:
    text = [line for line in CORPUS if b"\x00" not in line]  # else binary, refused
    data = b"\n".join(text * 20)
    report = validate_bytes(data, filename="t.jsonl", chunk_bytes=4096, workers=2)
    assert_same(report, before(data, "t.jsonl"))
    assert any(p.code == "duplicate_example" for p in report.problems)


def _ctrl_c_as_in_a_terminal() -> None:
    """A shell running the suite in the background (`cmd &`, nohup) passes SIGINT on ignored,
    and Python then installs no Ctrl+C handler: give the child a terminal's default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def tunebench(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "tui", *args],
        text=True,
        env=env,
        preexec_fn=_ctrl_c_as_in_a_terminal,
        **kwargs,
    )


@pytest.mark.parametrize("source", ["path", "stdin"])
def test_zeros_are_refused_as_binary_from_the_first_chunk(source: str) -> None:
    """/dev/zero never ends: an answer at all proves the refusal came from its first chunk."""
    with open("/dev/zero", "rb") as zeros:
        proc = tunebench(
            "validate",
            "/dev/zero" if source == "path" else "-",
            stdin=zeros,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = proc.communicate(timeout=120)
    shown = "/dev/zero" if source == "path" else "<stdin>"
    assert proc.returncode == 2
    assert err == f"{shown}: the file is binary (it contains NUL bytes), not a text file\n"
    assert out == ""


def wait_for_notice(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    return proc.stderr.readline()  # blocks until the notice is written


def test_silent_stdin_is_waited_for_aloud_and_ctrl_c_exits_2() -> None:
    proc = tunebench(
        "validate", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert wait_for_notice(proc) == "tunebench: waiting for input on <stdin> (Ctrl+C to stop)\n"
        proc.send_signal(signal.SIGINT)
        # wait, not communicate: communicate closes stdin, and an end of input arriving before
        # the signal made this an empty file instead of an interrupted wait (flaky under load)
        proc.wait(timeout=60)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        proc.kill()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == 2
    assert err == "<stdin>: interrupted while waiting for input\n"


def test_input_arriving_after_the_notice_is_validated() -> None:
    proc = tunebench(
        "validate", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert "waiting for input on <stdin>" in wait_for_notice(proc)
        lines = [
            json.dumps({"messages": [SYS, {**USER, "content": f"q{i}"}, ASSIST]}) for i in range(10)
        ]
        out, err = proc.communicate("\n".join(lines) + "\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "10 examples, 0 errors, 0 warnings" in out


def test_a_fifo_without_a_writer_is_waited_for_aloud(tmp_path: Path) -> None:
    fifo = tmp_path / "train.jsonl"
    os.mkfifo(fifo)
    proc = tunebench("validate", str(fifo), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        notice = wait_for_notice(proc)
        assert notice == f"tunebench: waiting for input on {fifo} (Ctrl+C to stop)\n"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2
    assert err == f"{fifo}: interrupted while waiting for input\n"
