"""The footer's keys fit the terminal: none cut, none under the palette key (at 80x24 a job's
footer read `f1 Hel▏^p palette`, at 60x20 the Dataset's `f1 He`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dataset_support import settle
from test_jobs_tui import _start_job, config, emu, make_app, wait_for
from test_small_terminal import dataset
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Footer

from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator import EmulatorThread
from tui.screens.job_detail import JobDetailScreen

__all__ = ["config", "emu"]  # fixtures used here


def footer_keys(app: App[Any]) -> list[str]:
    """The keys the footer shows, each checked to be whole, on screen and not overlapped."""
    footer = app.screen.query_one(Footer)
    shown = [key for key in footer.children if key.display]
    regions = [key.region for key in shown]
    for i, region in enumerate(regions):
        assert region.width and region.right <= app.size.width, region
        assert not any(region.overlaps(other) for other in regions[i + 1 :]), region
    texts = [str(key.render()).strip() for key in shown]
    for key, text in zip(shown, texts, strict=True):
        assert key.region.width >= len(text), text  # drawn whole
    return texts


@pytest.mark.parametrize("emu", [2.0], indirect=True)
async def test_a_jobs_footer_at_80x24_is_whole(emu: EmulatorThread, config: None) -> None:
    job_id = _start_job(emu)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(JobDetailScreen(job_id))
        await wait_for(pilot, lambda: app.screen.job is not None, "the job")  # type: ignore[attr-defined]
        await pilot.pause()
        keys = footer_keys(app)
        assert keys[-2:] == ["^q Quit", "f1 Help"] and "o Playground" in keys
        await pilot.resize_terminal(120, 30)  # room again: the palette key comes back
        await wait_for(pilot, lambda: "^p palette" in footer_keys(app), "the palette key")


async def test_the_dataset_footer_at_60x20_keeps_help(tmp_path: Path) -> None:
    app = TunebenchApp(load_config(), profile_name="openai", dataset_path=dataset(tmp_path))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        assert keys == [
            "^s Save",
            "^z Undo",
            "^n New",
            "^f Filter",
            "^l Launch",  # its first word, so that every key fits
            "^q Quit",
            "f1 Help",
        ]
        await pilot.press("f1")  # the help keeps the whole words
        assert "Launch job" in {row[1] for row in _help_rows(pilot)}


def _help_rows(pilot: Pilot[Any]) -> list[tuple[str, str]]:
    table = pilot.app.screen.query_one("DataTable")
    return [tuple(table.get_row_at(i)) for i in range(table.row_count)]  # type: ignore[attr-defined]
