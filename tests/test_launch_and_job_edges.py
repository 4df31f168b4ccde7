"""Edges of the launch form and the job screen a user reaches by keys.

Quitting the moment a job screen opens ends the app cleanly (no traceback): Textual's
TabbedContent raises "No Tab with id" when it is given `initial=` and the app exits before
the tabs finish mounting; the job screen relies on the first tab being the default instead.
At 60x20 the launch form keeps the whole pre-flight on screen.
"""

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


async def test_at_60x20_the_launch_form_shows_the_whole_pre_flight(emu: EmulatorThread) -> None:
    """The cost and the problems that block a launch must not be cut off on a small terminal:
    the form's fields scroll in fewer rows instead."""
    from textual.widgets import Static

    from tui.emulator import demo_dataset_path
    from tui.screens.launch import LaunchScreen

    app = TunebenchApp(load_config(), profile_name="emu", dataset_path=demo_dataset_path())
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        preflight = launch.query_one("#preflight", Static)
        for _ in range(400):
            if "estimated cost" in str(preflight.render()):
                break
            await pilot.pause(0.05)
        await pilot.pause()
        text = str(preflight.render())
        assert "estimated cost" in text
        assert preflight.region.bottom <= app.size.height - 1  # above the footer
        assert preflight.virtual_size.height <= preflight.region.height, text  # nothing cut
