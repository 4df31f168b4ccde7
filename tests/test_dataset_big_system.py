"""Ctrl+T (system prompt for all) on a big file: the dialog says the file is rewritten and
cannot be undone, applying streams the document (unsaved edits included) through the same
per-example rule as the in-memory path into the file, atomically, with progress; Esc stops
it and leaves the file as it was; afterwards the stats are `validate`'s on the new file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dataset_support import assert_shows_validate
from emulator_support import chat_line
from test_dataset_screen import make_app, wait_until

from tui.core import system_stream, workspace
from tui.core.editing import Document, apply_system_batch, set_system_for_all
from tui.core.lazydoc import LazyDocument
from tui.core.lineindex import LineIndex
from tui.screens.dataset import DatasetScreen
from tui.screens.dataset_modals import ProgressModal, SystemPromptModal
from tui.widgets.stats_line import StatsLine

OLD = "Popraw."
NEW = "Popraw. Nowy"
OVERRIDE = chat_line("Inny przykład", "Inny.", "Inny prompt.")
BROKEN = '{"messages": [{"role": "system", "content": "Popraw."}, '  # cut off: no example


def mixed_lines(n: int) -> list[bytes]:
    """Mostly the default prompt; some without one, an override, a broken line, a compact
    line, a blank line and a CRLF line, as a big export holds them."""
    lines = [chat_line(f"Kot, spać, kanapa {i}", "Kot śpi.", OLD).encode() for i in range(n)]
    no_system = [{"role": "user", "content": "bez"}, {"role": "assistant", "content": "b"}]
    lines[3] = json.dumps({"messages": no_system}).encode()
    lines[5] = OVERRIDE.encode()
    lines[7] = BROKEN.encode()
    lines[9] = b""
    lines[11] = lines[11] + b"\r"  # a CRLF line
    lines[13] = json.dumps(json.loads(lines[13]), separators=(",", ":")).encode()
    lines[-1] = OVERRIDE.encode()  # the last line, an override
    return lines


def with_new_prompt(data: bytes) -> bytes:
    """What the in-memory path (a small file's Ctrl+T, then Ctrl+S) makes of `data`."""
    doc = Document.from_bytes(data, "chat")
    doc.default_system = OLD
    apply_system_batch(doc, set_system_for_all(doc, NEW), NEW)
    return doc.to_bytes()


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    """A file opened lazily (the threshold lowered: a small file takes the big path) and
    rewritten in many blocks."""
    monkeypatch.setattr(workspace, "LAZY_MIN_BYTES", 64 * 1024)
    monkeypatch.setattr(system_stream, "BLOCK_BYTES", 16 * 1024)
    path = tmp_path / "big.jsonl"
    data = b"\n".join(mixed_lines(3000)) + b"\n"
    path.write_bytes(data)
    return path, data


def test_the_streamed_rewrite_is_the_in_memory_rule_line_for_line(tmp_path: Path) -> None:
    """Also for a save point taken before the index reached the end of the file (Rest)."""
    path = tmp_path / "big.jsonl"
    data = b"\n".join(mixed_lines(2000))  # no newline at the end
    path.write_bytes(data)
    index = LineIndex(path)
    index.index_more(4096)
    doc = LazyDocument.open(index, "chat")
    doc.grow()
    doc.default_system = OLD
    point = doc.save_point()
    assert not doc.complete and type(point[-1]).__name__ == "Rest"
    shares: list[float] = []
    changed = system_stream.rewrite_system_for_all(
        doc, path, point, OLD, NEW, progress=shares.append
    )
    assert path.read_bytes() == with_new_prompt(data)
    assert changed == 2000 - 4  # the override (twice), the broken and the blank line stay
    assert shares[-1] == 1.0 and shares == sorted(shares)
    lines = path.read_bytes().split(b"\n")
    assert lines[5] == OVERRIDE.encode() and lines[7] == BROKEN.encode()
    assert lines[11].endswith(b"\r") and NEW.encode() in lines[11]


def test_a_rewrite_that_changes_nothing_leaves_the_file_alone(tmp_path: Path) -> None:
    """The same prompt again, on examples that all have it: the file is not replaced."""
    path = tmp_path / "big.jsonl"
    data = b"".join(chat_line(f"k {i}", "a", OLD).encode() + b"\n" for i in range(500))
    path.write_bytes(data)
    before = path.stat()
    index = LineIndex(path)
    index.index_all()
    doc = LazyDocument.open(index, "chat")
    doc.grow()
    assert system_stream.rewrite_system_for_all(doc, path, doc.save_point(), OLD, OLD) == 0
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path.read_bytes() == data and not list(tmp_path.glob(".big.jsonl.*"))


async def test_ctrl_t_on_a_big_file_rewrites_it_and_shows_what_validate_says(
    big: tuple[Path, bytes],
) -> None:
    path, _ = big
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await wait_until(pilot, lambda: isinstance(screen.doc, LazyDocument))
        await pilot.press("enter", *" zzz", "escape")  # an unsaved edit of the first example
        await wait_until(pilot, lambda: screen.doc is not None and screen.doc.dirty)
        edited = app.workspace.save_bytes()
        await pilot.press("ctrl+t")
        modal = app.screen
        assert isinstance(modal, SystemPromptModal)
        said = str(modal.query_one("#big").render())
        assert "rewrites the file itself" in said and "Ctrl+Z cannot undo it" in said
        await pilot.press("end", *" Nowy", "ctrl+s")
        await wait_until(
            pilot,
            lambda: (
                not isinstance(app.screen, ProgressModal)
                and isinstance(screen.doc, LazyDocument)
                and screen.doc.tokens_ready
            ),
            tries=2000,
        )
        written = path.read_bytes()
        assert written == with_new_prompt(edited)
        assert b"kanapa 0 zzz" in written.split(b"\n")[0]
        doc = screen.doc
        assert isinstance(doc, LazyDocument) and not doc.dirty
        assert doc.default_system == NEW
        report = assert_shows_validate(app, written)
        await wait_until(pilot, lambda: screen._refresh_timer is None)
        stats = str(screen.query_one(StatsLine).render())
        assert f"{report.tokens.total:,} tokens" in stats and "saved" in stats
        assert not list(path.parent.glob(f".{path.name}.*"))  # no temp file left


async def test_esc_while_it_runs_leaves_the_file_as_it_was(
    big: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rewrite is held after its first block until the test has seen its progress and
    pressed Esc (no timing guesses): the UI answers while it runs, and stopping leaves the
    file byte for byte and the unsaved edit in place."""
    path, data = big
    gate = threading.Event()
    blocks = system_stream.point_blocks

    def held(*args: object) -> Iterator[bytes]:
        for n, block in enumerate(blocks(*args)):  # type: ignore[arg-type]
            if n == 8:  # a third of the way (blocks ahead of it may be in worker processes)
                assert gate.wait(30), "the test never released the rewrite"
            yield block

    monkeypatch.setattr(system_stream, "point_blocks", held)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await wait_until(pilot, lambda: isinstance(screen.doc, LazyDocument))
        await pilot.press("enter", *" zzz", "escape")
        await pilot.press("ctrl+t", "end", *" Nowy", "ctrl+s")
        stats = screen.query_one(StatsLine)

        def progress() -> str:
            return str(stats.render())

        async def shown(condition: Callable[[], bool]) -> None:
            """Bounded polling without waiting for the workers (the rewrite is held)."""
            for _ in range(2000):
                if condition():
                    return
                await pilot.pause(0.02)
            raise AssertionError("condition not reached")

        try:
            await shown(lambda: "system prompt… " in progress())
            modal = app.screen
            assert isinstance(modal, ProgressModal)
            percent = int(progress().split("system prompt… ")[1].split("%")[0])
            assert 0 < percent < 100
            await pilot.press("escape")
            assert "stopping" in str(modal.query_one("#progress").render())
        finally:
            gate.set()
        await wait_until(pilot, lambda: not isinstance(app.screen, ProgressModal), tries=2000)
        assert path.read_bytes() == data
        assert not list(path.parent.glob(f".{path.name}.*"))
        doc = screen.doc
        assert doc is not None and doc.dirty and b"zzz" in doc.entries[0].text
        assert "system prompt…" not in progress()
