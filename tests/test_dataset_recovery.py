"""Unsaved edits at 80x24, driven by real keys: dirty means "differs from the file", the
recovery file exists exactly while it is needed, failed writes say so and keep the edits,
and two instances on one file never lose each other's work."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dataset_support import settle
from emulator_support import chat_line
from textual.pilot import Pilot
from textual.widgets import Static

from tui.app import TunebenchApp
from tui.config import load_config
from tui.core import atomic
from tui.core.editing import Document
from tui.core.recovery import lock_path, recovery_path, snapshot, source_digest, write_recovery
from tui.screens.dataset_modals import ChoiceModal, PathModal

SYSTEM = "Popraw gramatykę zdania."


def write_dataset(path: Path, n: int = 12, word: str = "ciastko") -> bytes:
    lines = [chat_line(f"Mama, ja, chcieć, {word} {i}", "Mamo, chcę.", SYSTEM) for i in range(n)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


def make_app(path: Path) -> TunebenchApp:
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:  # type: ignore[type-arg]
    for _ in range(300):
        if condition():
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
    raise AssertionError(f"never: {what}")


def state(app: TunebenchApp) -> str:
    return str(app.screen.query_one("#stats").render())


def errors_shown(app: TunebenchApp) -> list[str]:
    return [str(n.message) for n in app._notifications if n.severity == "error"]


def save_errors(app: TunebenchApp) -> list[str]:
    return [e for e in errors_shown(app) if e.startswith("Could not save")]


@pytest.fixture
def other_instance() -> Iterator[int]:
    """The pid of another live process (standing in for a second tunebench)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


async def test_undoing_back_to_the_file_is_not_unsaved_and_drops_the_recovery(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "end", *" zzz")
        await wait_until(pilot, lambda: recovery_path(path).exists(), "a recovery file")
        assert "unsaved" in state(app)
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: "unsaved" not in state(app), "clean again")
        assert not recovery_path(path).exists()
        # Typing a letter and deleting it is no edit either.
        await pilot.press("escape", "enter", "end", "x", "backspace")
        await pilot.pause(1.2)  # longer than the autosave delay: nothing is written
        await app.workers.wait_for_complete()
        assert not recovery_path(path).exists()
        assert "saved" in state(app) and "unsaved" not in state(app)
    assert path.read_bytes() == data


async def test_a_save_drops_the_recovery(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "end", *" zzz")
        await wait_until(pilot, lambda: recovery_path(path).exists(), "a recovery file")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: b"zzz" in path.read_bytes(), "the save")
        await wait_until(pilot, lambda: not recovery_path(path).exists(), "no recovery")
        assert "unsaved" not in state(app)


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "the file system is read-only")],
)
async def test_a_failed_save_says_why_and_keeps_the_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)

    def full(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "end", *" zzz")
        monkeypatch.setattr(atomic.os, "fsync", full)  # the disk fails under the save
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(save_errors(app)), "an error")
        assert save_errors(app) == [
            f"Could not save pairs.jsonl: {words}; your edits are kept "
            "(Ctrl+P: Save dataset as… writes elsewhere)"
        ]
        assert words in str(app.screen.query_one("#notice", Static).render())
        assert "unsaved" in state(app)
        assert b"zzz" in app.workspace.save_bytes()
        assert path.read_bytes() == data
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["pairs.jsonl"]
        # Save and quit: the save fails, so tunebench stays open, edits and all.
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal), "the dialog")
        await pilot.press("enter")  # Save and quit
        await wait_until(pilot, lambda: len(save_errors(app)) == 2, "a second error")
        assert save_errors(app)[-1].endswith("tunebench stays open")
        assert app.is_running and app.return_code is None
        assert b"zzz" in app.workspace.save_bytes()


async def test_a_failed_autosave_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(atomic.os, "fsync", full)
        await pilot.press("enter", "end", *" zzz")
        await wait_until(pilot, lambda: bool(errors_shown(app)), "an error")
        await pilot.press(*" more")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        assert errors_shown(app) == [
            "Could not keep a crash copy of your edits: the disk is full; they are still "
            "here: save them (Ctrl+S)"
        ]
        assert "zzz more" in app.workspace.save_bytes().decode()


async def test_a_failed_worker_of_a_screen_reaches_the_error_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        assert isinstance(app.screen, PathModal)
        app.screen.query_one("Input").value = str(tmp_path / "missing" / "out.jsonl")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(errors_shown(app)), "an error")
        assert "missing" in errors_shown(app)[0]


async def test_a_second_instance_is_warned_and_leaves_the_first_ones_recovery(
    tmp_path: Path, other_instance: int
) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    # The other instance holds the file and has unsaved edits of its own.
    theirs = Document.from_bytes(data, "chat")
    theirs.replace(0, theirs.entries[0].text.replace(b"ciastko 0", b"ich ciastko"))
    their_recovery = recovery_path(path, other_instance)
    write_recovery(snapshot(theirs, path, source_digest(data)), their_recovery)
    lock_path(path).write_text(f"{other_instance}\n")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceModal)  # a live instance's edits: not ours
        notice = str(app.screen.query_one("#notice", Static).render())
        assert f"also open in another tunebench (process {other_instance})" in notice
        await pilot.press("enter", "end", *" zzz")
        await wait_until(pilot, lambda: recovery_path(path).exists(), "our recovery")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not recovery_path(path).exists(), "ours dropped")
        assert their_recovery.exists()
        assert lock_path(path).read_text().strip() == str(other_instance)


async def test_a_recovery_of_a_file_changed_on_disk_is_offered_and_saved_beside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    doc = Document.from_bytes(data, "chat")
    doc.replace(0, doc.entries[0].text.replace(b"ciastko 0", b"moje ciastko"))
    write_recovery(snapshot(doc, path, source_digest(data)), recovery_path(path))
    recovered = doc.to_bytes()
    write_dataset(path, word="chleb")  # another program rewrote the file since
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal), "the offer")
        body = str(app.screen.query_one("#body").render())
        assert "changed on disk" in body
        await pilot.press("enter")  # the focused answer: save the recovered copy beside it
        beside = tmp_path / "pairs.recovered.jsonl"
        await wait_until(pilot, beside.exists, "the copy beside")
        assert beside.read_bytes() == recovered
        assert b"chleb" in path.read_bytes() and b"moje" not in path.read_bytes()
        assert not recovery_path(path).exists()


async def test_a_recovery_of_a_file_changed_on_disk_can_be_restored_over_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    doc = Document.from_bytes(data, "chat")
    doc.replace(0, doc.entries[0].text.replace(b"ciastko 0", b"moje ciastko"))
    write_recovery(snapshot(doc, path, source_digest(data)), recovery_path(path))
    write_dataset(path, word="chleb")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal), "the offer")
        await pilot.press("tab", "enter")  # Restore, over the new file
        await wait_until(pilot, lambda: b"moje" in app.workspace.save_bytes(), "restored")
        assert app.workspace.save_bytes() == doc.to_bytes()
        assert "unsaved" in state(app)
