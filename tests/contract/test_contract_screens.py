"""The Jobs, job and Playground screens (Pilot, real keys) against the spec-drawn stub server:
any job the spec allows opens, every tab shows, paging and polling stay bounded, and what
cannot be shown is said in one line."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from contract_support import CONTRACT, point_config_at
from hypothesis import given, settings
from spec_bodies import bodies
from spec_stub import Scenario, SpecStub, page
from test_contract_cli import _event, _job
from textual.widgets import DataTable, Static

import tui.app
from tui.app import TunebenchApp
from tui.config import load_config
from tui.messages import OpenInPlayground
from tui.screens.job_detail import JobDetailScreen
from tui.screens.jobs import JobsScreen
from tui.screens.playground import PlaygroundScreen

NOW = 1_790_000_000


class RecordingApp(TunebenchApp):
    """The real app, remembering which models were sent to the Playground."""

    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened: list[str] = []

    def on_open_in_playground(self, message: OpenInPlayground) -> None:
        self.opened.append(message.model)


@pytest.fixture
def config(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    return isolated_home


def make_app(home: Path, stub: SpecStub) -> RecordingApp:
    point_config_at(home, stub.base_url)
    app = RecordingApp(load_config(), profile_name="stub")
    app.clock = lambda: NOW
    return app


async def wait_for(pilot: Any, condition: Any, what: str, rounds: int = 500) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def open_job(app: RecordingApp, pilot: Any) -> JobDetailScreen:
    """Open ftjob-1 and wait until its first poll has answered."""
    app.push_screen(JobDetailScreen("ftjob-1"))
    detail = app.screen
    assert isinstance(detail, JobDetailScreen)
    await wait_for(pilot, lambda: detail.job is not None, "the job")
    return detail


def text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def walk_every_screen(home: Path, scenario: Scenario) -> None:
    async with SpecStub(scenario) as stub:
        app = make_app(home, stub)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            jobs = app.screen
            assert isinstance(jobs, JobsScreen)
            await app.workers.wait_for_complete()
            await pilot.press("m", "f", "enter")  # more (if offered), a filter, open
            await pilot.pause()
            jobs.open_job("ftjob-contract")
            await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job")
            detail = app.screen
            assert isinstance(detail, JobDetailScreen)
            await wait_for(pilot, lambda: detail.job is not None, "the job to load")
            for _tab in range(4):
                await pilot.press("t")
                await pilot.pause(0.02)
            await pilot.press("o", "3")
            await pilot.pause(0.05)
            assert isinstance(app.screen, PlaygroundScreen)
            assert app.crash is None
            assert stub.count("/events") <= 3 * max(1, stub.count("/ftjob-contract"))


@settings(CONTRACT, max_examples=5)  # each example starts the app: slower than the CLI's
@given(
    jobs_page=bodies("listPaginatedFineTuningJobs"),
    job=bodies("retrieveFineTuningJob"),
    events=bodies("listFineTuningEvents"),
    checkpoints=bodies("listFineTuningJobCheckpoints"),
    models=bodies("listModels"),
)
def test_every_screen_survives_any_spec_answer(
    config: Path,
    jobs_page: dict[str, Any],
    job: dict[str, Any],
    events: dict[str, Any],
    checkpoints: dict[str, Any],
    models: dict[str, Any],
) -> None:
    scenario = Scenario(
        jobs_page=jobs_page,
        job=job,
        events_page=events,
        checkpoints_page=checkpoints,
        models_page=models,
    )
    asyncio.run(walk_every_screen(config, scenario))


async def test_a_job_without_non_spec_fields_opens(config: Path) -> None:
    """No `user_provided_suffix`, no `method`, hyperparameters as "auto" and numbers."""
    job = {**_job("running"), "hyperparameters": {"n_epochs": "auto", "batch_size": 4}}
    async with SpecStub(Scenario(job=job)) as stub:
        app = make_app(config, stub)
        async with app.run_test(size=(80, 24)) as pilot:
            detail = await open_job(app, pilot)
            await pilot.pause()
            hyper = text(detail, "#job-hyper")
            assert "epochs auto · batch 4" in hyper and "seed 1" in hyper
            assert "ftjob-1 · running" in text(detail, "#job-status")
            assert app.crash is None


async def test_a_cancelled_jobs_elapsed_time_stops(config: Path) -> None:
    """Cancelled jobs have no `finished_at`: the clock stops at their last event."""
    job = {**_job("cancelled"), "created_at": NOW - 600}
    events = page([{**_event("ftevent-1", 0), "created_at": NOW - 300}], has_more=False)
    async with SpecStub(Scenario(job=job, events_page=events)) as stub:
        app = make_app(config, stub)
        async with app.run_test(size=(80, 24)) as pilot:
            detail = await open_job(app, pilot)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert "elapsed 5m 00s" in text(detail, "#job-status")
            app.clock = lambda: NOW + 3600
            detail._tick()
            await pilot.pause()
            assert "elapsed 5m 00s" in text(detail, "#job-status")


def _checkpoint(step: int) -> dict[str, Any]:
    return {
        "id": f"ftckpt-{step}",
        "object": "fine_tuning.job.checkpoint",
        "created_at": NOW,
        "fine_tuning_job_id": "ftjob-1",
        "fine_tuned_model_checkpoint": f"ft:gpt-4.1-mini-2025-04-14:org:demo:abc:ckpt-step-{step}",
        "step_number": step,
        "metrics": {"train_loss": 1.0 / step},
    }


async def test_checkpoints_o_opens_the_row_shown_and_the_final_model_has_a_row(
    config: Path,
) -> None:
    final = "ft:gpt-4.1-mini-2025-04-14:org:demo:abc"
    job = {**_job("succeeded"), "fine_tuned_model": final, "finished_at": NOW}
    checkpoints = page([_checkpoint(s) for s in (30, 10, 20)], has_more=False)
    async with SpecStub(Scenario(job=job, checkpoints_page=checkpoints)) as stub:
        app = make_app(config, stub)
        async with app.run_test(size=(80, 24)) as pilot:
            detail = await open_job(app, pilot)
            await app.workers.wait_for_complete()
            await pilot.press("t", "t")  # the Checkpoints tab
            table = detail.query_one("#job-checkpoints", DataTable)
            assert [table.get_row_at(i)[0] for i in range(4)] == ["10", "20", "30", "final"]
            await pilot.press("down")
            await pilot.pause()
            shown = _checkpoint(20)["fine_tuned_model_checkpoint"]
            assert text(detail, "#job-checkpoint-detail").startswith(shown)  # the full id
            await pilot.press("o")
            assert app.opened[-1] == shown
            assert isinstance(app.screen, PlaygroundScreen)
            await pilot.press("1")  # back (the test opened the job over the first screen)
            assert app.screen is detail
            await pilot.press("down", "down", "o")
            assert app.opened[-1] == final
            await pilot.press("1", "y")
            assert app.clipboard == final


async def test_the_job_screen_polls_a_has_more_trap_at_a_bounded_rate(config: Path) -> None:
    events = page([_event(f"ftevent-{i}", i) for i in range(3)], has_more=True)
    async with SpecStub(Scenario(job=_job("running"), events_page=events)) as stub:
        app = make_app(config, stub)  # the config polls every 0.01 s
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(JobDetailScreen("ftjob-1"))
            detail = app.screen
            await wait_for(pilot, lambda: stub.count("/ftjob-1") >= 3, "three polls", 2000)
            polls = [r.at for r in stub.requests if r.path.endswith("/ftjob-1")]
            # 0.01 s asked for, but a poll of 2+ requests waits 0.5 s: a few requests a second
            assert all(later - earlier >= 0.45 for earlier, later in itertools.pairwise(polls))
            assert stub.count("/events") <= 2 * len(polls)
            notice = text(detail, "#job-notice")
            assert notice.startswith("stopped paging events: the server sent events it had")
            assert detail.events_seen == 3


async def test_more_jobs_that_repeat_the_page_stop_with_one_line(config: Path) -> None:
    jobs = page([{**_job("running"), "id": f"ftjob-{i}"} for i in range(3)], has_more=True)
    async with SpecStub(Scenario(jobs_page=jobs)) as stub:
        app = make_app(config, stub)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            screen = app.screen
            assert isinstance(screen, JobsScreen)
            await app.workers.wait_for_complete()
            await pilot.press("m")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.query_one("#jobs-table", DataTable).row_count == 3
            assert not screen.has_more
            assert "the server sent the same jobs again" in text(screen, "#jobs-message")
            assert text(screen, "#jobs-detail") == "ftjob-0  (y copies it)\nno tuned model yet"
            assert app.crash is None
