"""Playground model picking and the model list when the network comes and goes, by keys
against the emulator over HTTP."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from playground_helpers import KEY_ENV, write_profile
from textual import events
from textual.widgets import Input, Static

from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator.server import Emulator
from tui.screens.playground import PlaygroundScreen
from tui.widgets.chat_log import ChatLog


def status(screen: PlaygroundScreen) -> str:
    return str(screen.query_one("#pg-status", Static).render())


async def wait_for(pilot: Any, condition: Any, what: str, rounds: int = 500) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "test-key")


async def test_enter_after_picking_a_model_sends_the_typed_message(
    isolated_home: Path, key: None
) -> None:
    async with Emulator(seed=0, speed=1000.0, env_faults=False) as emu:
        write_profile(isolated_home, emu.base_url)
        app = TunebenchApp(load_config(), profile_name="emu")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            screen = app.screen
            assert isinstance(screen, PlaygroundScreen)
            await wait_for(pilot, lambda: len(screen.picker.choices) > 1, "the model list")
            await pilot.press("enter")
            prompt = screen.query_one("#prompt", Input)
            prompt.post_message(events.Paste("Kot, spać, kanapa"))
            await pilot.pause()
            first = screen.model
            await pilot.press("f2", "enter", "down", "enter")  # open the list, pick the next
            await pilot.pause()
            assert screen.model != first
            assert app.focused is prompt  # Enter now sends; it does not re-open the list
            assert prompt.value == "Kot, spać, kanapa"
            await pilot.press("!")  # a key after picking adds to the message, never replaces it
            assert prompt.value == "Kot, spać, kanapa!"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            messages = screen.query_one(ChatLog).messages()
            assert [m.role for m in messages] == ["user", "assistant"]
            assert messages[0].text == "Kot, spać, kanapa!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_model_list_retries_while_offline_and_r_retries_now(
    isolated_home: Path, key: None
) -> None:
    port = free_port()
    write_profile(isolated_home, f"http://127.0.0.1:{port}/v1")  # nothing listens there yet
    app = TunebenchApp(load_config(), profile_name="emu")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        await wait_for(pilot, lambda: "offline, retrying in" in status(screen), "offline")
        assert "cannot reach the API" in status(screen) and "r: now" in status(screen)
        assert screen.offline
        async with Emulator(seed=0, speed=1000.0, port=port, env_faults=False):
            await pilot.press("r")  # the network is back: no need to wait for the next try
            await wait_for(pilot, lambda: not screen.offline, "the model list")
            assert "in all" in status(screen)
            assert "gpt-4.1-mini-2025-04-14" in screen.picker.choices[0].id
