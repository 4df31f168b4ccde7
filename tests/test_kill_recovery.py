"""kill -9 of a real tunebench on a pty: unsaved edits come back, saved or undone ones are
not offered again, and a save killed mid-way leaves no temp file after the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from emulator_support import chat_line
from terminal import PtyApp

from tui.core.recovery import recovery_path

ROOT = Path(__file__).resolve().parent.parent
OFFER = "Restore unsaved edits?"


def write_dataset(path: Path) -> bytes:
    lines = [chat_line(f"Kot, spać, kanapa {i}", "Kot śpi.", "Popraw.") for i in range(12)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[Path], PtyApp]]:
    started: list[PtyApp] = []

    def run(path: Path) -> PtyApp:
        env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT), LANG="C.UTF-8")
        app = PtyApp([str(path)], env=env, cwd=tmp_path)
        started.append(app)
        app.wait_for("Kot, spać, kanapa 0")
        app.settle()
        return app

    yield run
    for app in started:
        app.close()


def wait_for_file(app: PtyApp, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if condition():
            return
        app.settle(quiet=0.05, timeout=0.2)
    raise AssertionError(f"never: {what}; the screen shows:\n{app.text()}")


def edit_first_example(app: PtyApp, path: Path, *, recovered: bool) -> Path:
    """Type " zzz" at the end of the first example's input; wait until the recovery file
    exists (and, if `recovered`, holds the edit). Returns the recovery file's path."""
    app.press("enter", "ctrl+e")  # the first example's input; Ctrl+E: end of the line
    app.type(" zzz")
    app.wait_for("kanapa 0 zzz")
    recovery = recovery_path(path, app.pid)
    if recovered:
        wait_for_file(
            app,
            lambda: b"zzz" in recovery.read_bytes() if recovery.exists() else False,
            "the edit in the recovery file",
        )
    else:
        wait_for_file(app, recovery.exists, "a recovery file")
    return recovery


def kill(app: PtyApp) -> None:
    """kill -9: no chance to clean up."""
    os.kill(app.pid, signal.SIGKILL)
    _, status = os.waitpid(app.pid, 0)
    app.exit_status = os.waitstatus_to_exitcode(status)


def temp_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def killed_mid_save(path: Path) -> None:
    """A save that was killed after writing its temp file, before the rename."""
    script = (
        "import os, sys, time\n"
        "from tui.core import atomic\n"
        "atomic.os.replace = lambda *a: (print('written', flush=True), time.sleep(60))\n"
        "atomic.write_atomic(sys.argv[1], b'half a save')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"written\n"
    proc.kill()
    proc.wait()


def test_unsaved_edits_survive_kill_9(tmp_path: Path, start: Callable[[Path], PtyApp]) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    app = start(path)
    edit_first_example(app, path, recovered=True)
    kill(app)
    killed_mid_save(path)
    assert len(temp_files(path)) == 1
    again = start(path)
    again.wait_for(OFFER)
    assert temp_files(path) == []  # the dead save's temp file is gone
    again.press("enter")  # Restore
    again.wait_for("kanapa 0 zzz")
    assert path.read_bytes() == data  # restored into the editor, not yet saved
    again.press("ctrl+s")
    wait_for_file(again, lambda: b"kanapa 0 zzz" in path.read_bytes(), "the save")


@pytest.mark.parametrize("how", ["undone", "saved"])
def test_saved_or_undone_edits_are_not_offered_after_kill_9(
    tmp_path: Path, start: Callable[[Path], PtyApp], how: str
) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = start(path)
    recovery = edit_first_example(app, path, recovered=False)
    app.press("ctrl+z" if how == "undone" else "ctrl+s")
    wait_for_file(app, lambda: not recovery.exists(), "the recovery file removed")
    kill(app)
    again = start(path)
    again.settle(quiet=1.0)
    assert OFFER not in again.text()
    assert temp_files(path) == []


def test_kill_9_during_a_big_files_first_scan_loses_nothing(
    tmp_path: Path, start: Callable[[Path], PtyApp]
) -> None:
    """A file big enough to open lazily (its lines read from disk on demand, checked and
    counted by a background scan): an edit made while the scan runs survives kill -9, and
    saving the restored edit rewrites only that line."""
    path = tmp_path / "big.jsonl"
    lines = [chat_line(f"Kot, spać, kanapa {i}", "Kot śpi.", "Popraw.") for i in range(300_000)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    app = start(path)
    app.wait_for("counting…")
    edit_first_example(app, path, recovered=True)
    app.settle(quiet=0.05, timeout=0.2)
    assert "counting…" in app.text()  # killed while the scan still runs
    kill(app)
    again = start(path)
    again.wait_for(OFFER)
    again.press("enter")  # Restore
    again.wait_for("kanapa 0 zzz")
    assert path.read_bytes() == data
    again.press("ctrl+s")
    wait_for_file(again, lambda: path.stat().st_size != len(data), "the save")
    saved = path.read_bytes().split(b"\n")
    assert saved[0] == lines[0].replace("kanapa 0", "kanapa 0 zzz").encode()
    assert saved[1:] == data.split(b"\n")[1:]  # every other line byte for byte
