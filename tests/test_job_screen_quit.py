"""Quitting the moment a job screen opens ends the app cleanly (no traceback).

Textual's TabbedContent raises "No Tab with id" when it is given `initial=` and the app
exits before the tabs finish mounting; the job screen relies on the first tab being the
default instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_support import write_emulator_config

from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator import EmulatorThread
from tui.screens.job_detail import JobDetailScreen


@pytest.fixture
def emu(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=3, env_faults=False) as thread:
        write_emulator_config(isolated_home, thread.base_url, "EMU_KEY")
        monkeypatch.setenv("EMU_KEY", "sk-emulator")
        yield thread


async def test_quitting_as_a_job_screen_opens_raises_nothing(emu: EmulatorThread) -> None:
    app = TunebenchApp(load_config(), profile_name="emu")
    async with app.run_test(size=(80, 24)):
        app.push_screen(JobDetailScreen("ftjob-any"))
    # run_test re-raises an exception from the app's shutdown: reaching here is the assertion
    assert app.return_code in (None, 0)


async def test_the_job_screen_opens_on_its_chart(emu: EmulatorThread) -> None:
    from textual.widgets import TabbedContent

    app = TunebenchApp(load_config(), profile_name="emu")
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(JobDetailScreen("ftjob-any"))
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "tab-chart"
