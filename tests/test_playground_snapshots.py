"""Snapshots of the Playground, its compare view and its modals at 80x24 and 160x48.

Deterministic: the emulator has a fixed seed (so the tuned model id is fixed) and reply
timings come from a frozen clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playground_helpers import KEY_ENV, demo_examples, train, write_jsonl, write_profile
from textual import events
from textual.widgets import Input, TextArea

import tui.app
from tui.api import chat
from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator.server import EmulatorThread

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


class SnapApp(TunebenchApp):
    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # A blinking cursor is drawn or not depending on when the picture is taken (under
        # load it was missing in 2 runs of 3): a steady one makes the snapshot deterministic.
        if isinstance(event.widget, Input | TextArea):
            event.widget.cursor_blink = False


@pytest.fixture
def served(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(KEY_ENV, "test-key")
    monkeypatch.setattr(chat, "CLOCK", lambda: 0.0)
    monkeypatch.chdir(tmp_path)
    examples = demo_examples()
    wrong = json.loads(json.dumps(examples[4]))
    wrong["messages"][-1]["content"] = "Jutro pójdziemy razem do kina."
    write_jsonl(tmp_path / "valid.jsonl", [*examples[:4], wrong])
    with EmulatorThread(seed=0, speed=1000.0) as emu:
        write_profile(isolated_home, emu.base_url)
        asyncio.run(train(emu.base_url, write_jsonl(tmp_path / "train.jsonl", examples)))
        yield emu.base_url


def make_app() -> TunebenchApp:
    return SnapApp(load_config(), profile_name="emu")


async def _ask(pilot, text: str = "Kot, spać, kanapa", switch: bool = True) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    if switch:
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.press("enter")
    app.focused.post_message(events.Paste(text))
    await pilot.pause()
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


@SIZES
def test_chat_snapshot(served: str, snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), run_before=_ask, terminal_size=size)


@SIZES
def test_compare_snapshot(served: str, snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("3")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("ctrl+o")
        await _ask(pilot, switch=False)

    assert snap_compare(make_app(), run_before=run_before, terminal_size=size)


@SIZES
def test_save_example_snapshot(served: str, snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ask(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=size)


@SIZES
def test_save_conversation_snapshot(served: str, snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ask(pilot)
        pilot.app.focused.post_message(events.Paste("Ja, być, wczoraj, zewnątrz"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=size)


@SIZES
def test_batch_check_snapshot(served: str, snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+b")
        app.focused.post_message(events.Paste("valid.jsonl"))
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.press("tab", "tab", "down", "down", "down", "down")  # the mismatch
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=size)
