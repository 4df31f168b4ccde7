"""The Dataset screen's start: at narrow sizes the first frame shows only the examples list,
and the editor, preview and problems panes are mounted right after it; at wide sizes every
pane is on the first frame. Either way nothing the user does at once is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dataset_support import settle
from key_bursts import burst
from test_typing_bursts import field, make_app

from tui.screens.dataset import DatasetScreen
from tui.widgets.jsonl_preview import JsonlPreview
from tui.widgets.problems_panel import ProblemsPanel

FIRST = "Tata, naprawiać, rower"


def dataset_screen(app: object) -> DatasetScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, DatasetScreen)
    return screen


async def panes_ready(screen: DatasetScreen) -> None:
    """The screen's signal that its panes are mounted and filled (bounded wait)."""
    await asyncio.wait_for(screen.panes_ready.wait(), timeout=60)


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (160, 48)])
async def test_keys_typed_the_moment_the_screen_opens_land_in_the_example(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        # No waiting at all: Enter and the text arrive with the first frame.
        await burst(pilot, "enter", *" Dzisiaj.")
        assert field(app, "user").text == f"{FIRST} Dzisiaj."
        await settle(pilot)
        assert b"rower Dzisiaj." in app.workspace.save_bytes()


async def test_at_a_wide_size_every_pane_is_filled_for_the_first_frame(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)):
        screen = dataset_screen(app)
        assert screen.panes_ready.is_set()
        assert field(app, "user").text == FIRST
        assert FIRST in screen.query_one(JsonlPreview).plain_text


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_at_a_narrow_size_the_other_panes_follow_the_first_frame(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = dataset_screen(app)
        await panes_ready(screen)
        assert field(app, "user").text == FIRST
        assert FIRST in screen.query_one(JsonlPreview).plain_text
        await settle(pilot)
        await pilot.press("f4")
        assert screen.query_one(ProblemsPanel).has_focus


async def test_widened_before_the_panes_came_they_come(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.resize_terminal(160, 48)
        screen = dataset_screen(app)
        await panes_ready(screen)
        await settle(pilot)
        assert field(app, "user").text == FIRST
        assert screen.query_one("#editor").region.width > 0
