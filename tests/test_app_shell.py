"""The app shell driven by real key presses: screens, palette, help, quit."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_support import settle

from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.dataset import DatasetScreen
from tui.screens.help import HelpScreen
from tui.screens.jobs import JobsScreen
from tui.screens.playground import PlaygroundScreen


def make_app(**kwargs: object) -> TunebenchApp:
    loaded = load_config()
    return TunebenchApp(loaded, profile_name="openai", **kwargs)  # type: ignore[arg-type]


async def test_number_keys_switch_screens() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, DatasetScreen)
        await pilot.press("2")
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("3")
        assert isinstance(app.screen, PlaygroundScreen)
        await pilot.press("1")
        assert isinstance(app.screen, DatasetScreen)


async def test_palette_switches_screens() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"go to playground")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaygroundScreen)
        await pilot.press("ctrl+p", *"go to jobs", "enter")
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)


async def test_help_lists_the_screen_keys_and_closes() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("DataTable")
        actions = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert {"Dataset", "Jobs", "Playground", "Help", "Quit"} <= set(actions)
        assert "Scroll Up" not in actions  # Textual's scrolling keys would bury ours
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("f1", "f1")
        assert isinstance(app.screen, JobsScreen)


async def test_header_names_profile_and_dataset(tmp_path: Path) -> None:
    data = tmp_path / "pairs.txt"
    data.write_text("a; b\n", encoding="utf-8")
    app = make_app(dataset_path=data)
    async with app.run_test(size=(80, 24)):
        assert app.sub_title == "profile: openai · pairs.txt"


async def test_quit_key_exits() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_theme_comes_from_config(isolated_home: Path) -> None:
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ui:\n  theme: nord\n")
    path.chmod(0o600)
    app = make_app()
    async with app.run_test(size=(80, 24)):
        assert app.theme == "nord"


async def test_unknown_theme_warns_and_keeps_default(isolated_home: Path) -> None:
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ui:\n  theme: mauve-dreams\n")
    path.chmod(0o600)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        messages = [n.message for n in app._notifications]
        assert any("unknown ui.theme 'mauve-dreams'" in m for m in messages)


async def test_worker_failure_becomes_one_line_notification() -> None:
    from textual.worker import WorkerFailed

    from tui.errors import UsageError

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:

        def fail() -> None:
            raise UsageError("data.jsonl:3: something a user can fix")

        worker = app.run_worker(fail, thread=True, exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert "data.jsonl:3: something a user can fix" in messages
        assert app.is_running


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize(
    "keys", [(), ("2",), ("3",), ("f1",)], ids=["dataset", "jobs", "playground", "help"]
)
def test_shell_snapshots(snap_compare, size: tuple[int, int], keys: tuple[str, ...]) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)  # the new dataset loaded, checked, counted and drawn
        await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(), run_before=run_before, terminal_size=size)


async def test_help_says_how_to_reach_every_action_at_80x24() -> None:
    """The hint (Ctrl+P, Esc) was a line under the keys table, cut off at 80x24."""
    from textual.widgets import Static

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        title = app.screen.query_one("#help-title", Static)
        assert "Ctrl+P: every action · Esc: close" in str(title.render())
        box = title.parent
        assert box is not None and box.region.contains_region(title.region)
        assert title.region.bottom <= app.size.height
