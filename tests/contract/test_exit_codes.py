"""Every cell of the README's exit-code table, run against the CLI (`tui.cli.main`, the
console script's entry point) with the stub server behind the API commands."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract_support import Ran, point_config_at, run_main
from spec_stub import Scenario, SpecStub, page
from test_contract_cli import _job

from tui.emulator import demo_dataset_path

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_RUN_HEADLESS = {
    ("app", 0): "quitting the app: tests/test_over_ssh.py walks the demo and quits with 0",
    ("app", 1): "a crash inside the app: the launcher turns app.crash into one line and 1",
}
LABELS = {
    "`tunebench [PATH]`, `--demo`": "app",
    "`validate`": "validate",
    "`convert`": "convert",
    "`jobs create`": "jobs create",
    "`jobs list`": "jobs list",
    "`jobs watch`": "jobs watch",
    "`jobs cancel`": "jobs cancel",
    "`chat`": "chat",
    "`config`": "config",
    "`emulator`": "emulator",
}


def readme_table() -> set[tuple[str, int]]:
    """(command, exit code) for every cell of the table that is not `—`."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- exit-codes:start -->")[1].split("<!-- exit-codes:end -->")[0]
    cells = set()
    for line in block.strip().splitlines()[2:]:
        label, *meanings = [c.strip() for c in line.strip("|").split("|")]
        for code, meaning in enumerate(meanings):
            if not meaning.startswith("—"):
                cells.add((LABELS[label], code))
    return cells


@pytest.fixture(scope="module")
def stub() -> Iterator[SpecStub]:
    with SpecStub().running() as server:
        yield server


@pytest.fixture
def env(stub: SpecStub, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    point_config_at(isolated_home, stub.base_url)
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(demo_dataset_path(), tmp_path / "clean.txt")  # enough pairs to launch
    (tmp_path / "broken.txt").write_text("ok; fine\nno separator\n", encoding="utf-8")
    stub.requests.clear()
    return stub, monkeypatch


def _serve(stub: SpecStub, **answers: object) -> None:
    stub.scenario = Scenario(**answers)  # type: ignore[arg-type]


def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUB_KEY")


def _completion(finish: str | None) -> list[dict[str, object]]:
    choice = {"index": 0, "delta": {"content": "Kot śpi."}, "finish_reason": finish}
    return [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [choice]}]  # fmt: skip


Scenario_ = Callable[[SpecStub, pytest.MonkeyPatch], Ran]
SCENARIOS: dict[tuple[str, int], Scenario_] = {
    ("app", 2): lambda s, m: run_main("no-such-file.txt"),
    ("validate", 0): lambda s, m: run_main("validate", "clean.txt"),
    ("validate", 1): lambda s, m: run_main("validate", "broken.txt"),
    ("validate", 2): lambda s, m: run_main("validate", "missing.txt"),
    ("convert", 0): lambda s, m: run_main("convert", "clean.txt", "-o", "out.jsonl"),
    ("convert", 1): lambda s, m: run_main("convert", "broken.txt", "-o", "out.jsonl"),
    ("convert", 2): lambda s, m: run_main("convert", "missing.txt", "-o", "out.jsonl"),
    ("jobs create", 0): lambda s, m: (
        _serve(s, job=_job("validating_files")),
        run_main("jobs", "create", "clean.txt"),
    )[1],
    ("jobs create", 1): lambda s, m: run_main("jobs", "create", "broken.txt"),
    ("jobs create", 2): lambda s, m: run_main("jobs", "create", "missing.txt"),
    ("jobs list", 0): lambda s, m: (_serve(s), run_main("jobs", "list"))[1],
    ("jobs list", 1): lambda s, m: (_serve(s, jobs_page=None), run_main("jobs", "list"))[1],
    ("jobs list", 2): lambda s, m: (_no_key(m), run_main("jobs", "list"))[1],
    ("jobs watch", 0): lambda s, m: (
        _serve(s, job=_job("succeeded")),
        run_main("jobs", "watch", "ftjob-1"),
    )[1],
    ("jobs watch", 1): lambda s, m: (
        _serve(s, job=_job("failed")),
        run_main("jobs", "watch", "ftjob-1"),
    )[1],
    ("jobs watch", 2): lambda s, m: (_no_key(m), run_main("jobs", "watch", "ftjob-1"))[1],
    ("jobs cancel", 0): lambda s, m: (
        _serve(s, job=_job("cancelled")),
        run_main("jobs", "cancel", "ftjob-1"),
    )[1],
    ("jobs cancel", 1): lambda s, m: (
        _serve(s, job=_job("succeeded")),
        run_main("jobs", "cancel", "ftjob-1"),
    )[1],
    ("jobs cancel", 2): lambda s, m: (_no_key(m), run_main("jobs", "cancel", "ftjob-1"))[1],
    ("chat", 0): lambda s, m: (
        _serve(s, chat_chunks=_completion("stop")),
        run_main("chat", "-m", "m", "Kot, spać"),
    )[1],
    ("chat", 1): lambda s, m: (
        _serve(s, chat_chunks=_completion(None)),
        run_main("chat", "-m", "m", "Kot, spać"),
    )[1],
    ("chat", 2): lambda s, m: run_main("chat", "-m", "m", "   "),
    ("config", 0): lambda s, m: run_main("config", "path"),
    ("config", 2): lambda s, m: run_main("config", "show", "--profile", "nope"),
    ("emulator", 2): lambda s, m: run_main("emulator", "--fault", "no-such-fault"),
}


def test_the_table_covers_every_command() -> None:
    cells = readme_table()
    assert {command for command, _code in cells} == set(LABELS.values())
    assert cells == set(SCENARIOS) | set(NOT_RUN_HEADLESS)


@pytest.mark.parametrize("cell", sorted(SCENARIOS), ids=lambda c: f"{c[0]}-{c[1]}")
def test_each_cell_is_what_the_cli_does(env, cell: tuple[str, int]) -> None:
    stub, monkeypatch = env
    ran = SCENARIOS[cell](stub, monkeypatch)
    assert ran.code == cell[1], ran
    assert "Traceback" not in ran.err
    if cell[1] == 2:
        assert len([line for line in ran.err.splitlines() if line.strip()]) == 1, ran.err


def test_debug_and_profile_work_anywhere_on_the_line(env) -> None:
    stub, _monkeypatch = env
    _serve(stub, jobs_page=page([], has_more=False))
    after = run_main("jobs", "list", "--debug", "--profile", "nope")
    assert after.code == 2 and "unknown profile 'nope'" in after.err
    assert "Traceback" in after.err  # --debug after the subcommand counts
    before = run_main("--profile=stub", "jobs", "list", "--limit", "3")
    assert before.code == 0, before
    assert re.search(
        r"limit=3", "&".join(f"{k}={v}" for r in stub.requests for k, v in r.query.items())
    )
