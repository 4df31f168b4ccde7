"""Snapshots of the modals no other snapshot test shows, over the real app at 80x24 and 160x48:
the Dataset screen's base-model chooser (Ctrl+B) and a job's yes/no confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_support import settle
from emulator_support import chat_line

from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.job_detail import ConfirmScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


def small_dataset(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    lines = [chat_line(f"Ja, mieć, {n}, kot", f"Mam {n} koty.") for n in range(2, 14)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@SIZES
def test_base_model_chooser(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app = TunebenchApp(load_config(), profile_name="openai", dataset_path=small_dataset(tmp_path))

    async def open_chooser(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()

    assert snap_compare(app, run_before=open_chooser, terminal_size=size)


@SIZES
def test_job_action_confirmation(snap_compare, size: tuple[int, int]) -> None:
    app = TunebenchApp(load_config(), profile_name="openai")

    async def ask(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)  # the new dataset behind it, counted and drawn
        app.push_screen(
            ConfirmScreen("Cancel job ftjob-abc123? Training stops; this cannot be undone.")
        )
        await pilot.pause()

    assert snap_compare(app, run_before=ask, terminal_size=size)
