"""At 60x20 the Dataset screen still shows the example's input and output and the problems
count, with a clean footer; below that, one line says how big the terminal must be."""

from __future__ import annotations

from pathlib import Path

from dataset_support import settle
from emulator_support import chat_line
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from tui.app import TunebenchApp
from tui.config import load_config

SYSTEM = "Popraw gramatykę zdania."


def dataset(directory: Path) -> Path:
    lines = [chat_line(f"Mama, ja, chcieć, ciastko {i}", "Mamo, chcę.", SYSTEM) for i in range(12)]
    lines[2] = lines[2].replace('"assistant"', '"asistant"')
    path = directory / "grammar.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_app(path: Path) -> TunebenchApp:
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


def visible(pilot: Pilot, widget: TextArea) -> bool:  # type: ignore[type-arg]
    """The field's text row is on screen, inside the terminal."""
    region = widget.content_region
    return widget.display and region.height >= 1 and region.bottom <= pilot.app.size.height


async def test_at_60x20_the_input_output_and_problems_count_are_visible(tmp_path: Path) -> None:
    app = make_app(dataset(tmp_path))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert visible(pilot, screen.query_one("#user", TextArea))
        assert visible(pilot, screen.query_one("#assistant", TextArea))
        assert "2 errors" in str(screen.query_one("#stats").render())  # role, and too few
        # The system prompt field has no border (no title) here: a label names it.
        label, field = screen.query_one("#system-label", Static), screen.query_one("#system")
        assert label.display and str(label.render()) == "System:"
        assert label.region.y == field.region.y and label.region.right <= field.region.x
        assert field.region.bottom <= app.size.height and field.value == SYSTEM
        # The footer's palette key would overlap the last keys at this width: it is left out.
        assert not any(key.display for key in screen.query(".-command-palette"))


async def test_below_60x20_one_line_asks_for_a_bigger_terminal(tmp_path: Path) -> None:
    app = make_app(dataset(tmp_path))
    async with app.run_test(size=(50, 16)) as pilot:
        await settle(pilot)
        line = app.screen.query_one("#too-small", Static)
        assert line.display and str(line.render()).strip() == "enlarge the terminal to 60x20"
        shown = [w for w in app.screen.children if w.display]
        assert shown == [line]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not line.display
        assert app.screen.query_one("#stats").display


def test_dataset_screen_at_60x20(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot) -> None:  # type: ignore[type-arg]
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(dataset(tmp_path)), run_before=run_before, terminal_size=(60, 20))
