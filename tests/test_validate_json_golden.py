"""`tunebench validate --json` prints exactly the bytes it printed before findings became
typed records: the JSON contract CI scripts parse, checked against files kept in
tests/golden/ (every problem kind of chat, DPO and pairs files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from test_scan import LINES_BYTES
from test_validate import ASSIST, SYS, USER, tool_example
from test_validate_stream import PROBLEM_LINES

GOLDEN = Path(__file__).parent / "golden"

_EXAMPLES: list[object] = [
    {"messages": [SYS, {"content": "x"}, ASSIST]},
    {"messages": [SYS, {**USER, "extra": 1}, ASSIST]},
    {"messages": [SYS, {"role": "user", "content": 5}, ASSIST]},
    {"messages": [SYS, {**USER, "weight": 1}, ASSIST]},
    {"messages": [SYS, USER, {**ASSIST, "content": [{"type": "image_url", "image_url": {}}]}]},
    {"messages": [SYS, USER, {"role": "tool", "tool_call_id": "call_9", "content": "4"}, ASSIST]},
    {"messages": [SYS, USER, {**ASSIST, "content": "Hello\n"}]},
    {"messages": [SYS, USER, ASSIST], "tools": "nope", "parallel_tool_calls": 1},
    tool_example(name="g", arguments="nonsense"),
    tool_example(arguments="[1, 2]"),
    {"input": {"messages": [USER]}, "preferred_output": [ASSIST]},
]
CHAT = b"\n".join(
    [
        *LINES_BYTES[:-1],
        *PROBLEM_LINES,
        *(json.dumps(e).encode() for e in _EXAMPLES),
        PROBLEM_LINES[0],
    ]
)
DPO = b"\n".join(
    json.dumps(e).encode()
    for e in [
        {"input": {"messages": [USER]}, "preferred_output": [ASSIST], "non_preferred_output": []},
        {"input": {"messages": [USER, ASSIST]}, "preferred_completion": [ASSIST]},
        {"input": {"messages": [USER], "x": 1}, "preferred_output": [ASSIST], "y": 2},
        {
            "input": {"messages": [SYS, USER]},
            "preferred_output": [ASSIST],
            "non_preferred_output": [{**ASSIST, "content": "Bye"}],
        },
        [1],
    ]
)
PAIRS = (
    "# system: Popraw gramatykę zdania.\n"
    "Mama, ja, chcieć, ciastko; Mamo, chcę dostać ciastko.\n"
    "no separator here\n"
    "; only an output\n"
    "Mama, ja, chcieć, ciastko; Mamo, chcę dostać ciastko.\n"
    "Kot, spać; Kot śpi.\n"
).encode()

CASES = {"chat.jsonl": CHAT, "dpo.jsonl": DPO, "pairs.txt": PAIRS}


@pytest.mark.parametrize("name", sorted(CASES))
def validate_json(path: Path) -> bytes:
    """The bytes `tunebench validate PATH --json` writes to stdout (exit 1: errors)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "validate", path.name, "--json", "--model", "gpt-4o-mini"],
        capture_output=True,
        cwd=path.parent,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_json_is_byte_identical_to_the_golden_output(name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(CASES[name])
    assert validate_json(tmp_path / name) == (GOLDEN / f"validate-{name}.json").read_bytes()
