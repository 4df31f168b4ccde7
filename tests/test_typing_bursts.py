"""Keys typed in a burst (a fast typist, a paste of keystrokes, a slow SSH link delivering
them at once) right after an example opens land in its field, at the cursor, in order, at
80x24. Nothing moves the cursor but the user."""

from __future__ import annotations

from pathlib import Path

from dataset_support import settle
from emulator_support import chat_line
from key_bursts import burst
from textual.widgets import TextArea

from tui.app import TunebenchApp
from tui.config import load_config

SYSTEM = "Popraw gramatykę zdania."
PAIRS = [("Tata, naprawiać, rower", "Tata naprawia rower."), ("Kot, spać", "Kot śpi.")]


def make_app(tmp_path: Path) -> TunebenchApp:
    path = tmp_path / "pairs.jsonl"
    lines = [chat_line(user, assistant, SYSTEM) for user, assistant in PAIRS * 6]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


def field(app: TunebenchApp, name: str) -> TextArea:
    return app.screen.query_one(f"#{name}", TextArea)


async def test_a_burst_right_after_opening_lands_at_the_end_of_the_field(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "enter", *" Dzisiaj.")
        assert field(app, "user").text == "Tata, naprawiać, rower Dzisiaj."
        await settle(pilot)
        assert b"rower Dzisiaj." in app.workspace.save_bytes()


async def test_cursor_keys_in_the_burst_are_kept_in_order(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "enter", "home", *"Dziś: ", "end", *" (1)")
        assert field(app, "user").text == "Dziś: Tata, naprawiać, rower (1)"


async def test_keys_typed_before_the_file_is_checked_land_at_the_cursor(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        # No waiting for the load's check and count: they finish while the keys arrive.
        for _ in range(200):
            if app.workspace.doc is not None:
                break
            await pilot.pause(0.01)
        await burst(pilot, "enter", "home", "right", "right", "right", "right", "X")
        await settle(pilot)  # the first check ends and the views refresh: the cursor stays
        await burst(pilot, "Y")
        assert field(app, "user").text == "TataXY, naprawiać, rower"


async def test_another_example_opens_with_the_cursor_at_its_end(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "enter", "home", "right", "right", "right", "right")
        assert field(app, "user").cursor_location == (0, 4)
        await burst(pilot, "escape", "down", "enter", *" teraz")
        assert field(app, "user").text == "Kot, spać teraz"


async def test_tab_in_a_burst_moves_on_before_the_next_keys(tmp_path: Path) -> None:
    """Ctrl+N, the input, Tab, the output, typed as one burst: the output lands in the
    output field (Tab's focus move ran only after the keys queued behind it)."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "ctrl+n", *"Pies, lubić", "tab", *"Pies lubi.", "shift+tab", "!")
        assert field(app, "user").text == "Pies, lubić!"
        assert field(app, "assistant").text == "Pies lubi."
