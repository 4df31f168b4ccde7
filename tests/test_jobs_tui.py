"""The Jobs screens driven by keys against the emulator over HTTP: launch with pre-flight,
follow to success, chart, checkpoints, open in playground, dedupe, faults, re-attach,
and snapshots of the list and of a job mid-training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from emulator_support import write_emulator_config
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator import EmulatorThread, demo_dataset_path
from tui.messages import OpenInPlayground
from tui.screens.job_detail import ConfirmScreen, JobDetailScreen
from tui.screens.jobs import JobsScreen
from tui.screens.launch import LaunchScreen
from tui.screens.playground import PlaygroundScreen
from tui.widgets.loss_chart import LossChart

FROZEN = 1_790_000_000  # 2026-09-21 14:13:20 UTC


class RecordingApp(TunebenchApp):
    """The real app, remembering which models were sent to the Playground."""

    CSS_PATH = str(Path(__file__).parent.parent / "tui" / "app.tcss")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened: list[str] = []
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1

    def on_open_in_playground(self, message: OpenInPlayground) -> None:
        self.opened.append(message.model)


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Iterator[EmulatorThread]:
    param = getattr(request, "param", 400.0)
    options = param if isinstance(param, dict) else {"speed": param}
    options.setdefault("speed", 400.0)
    with EmulatorThread(seed=11, env_faults=False, **options) as thread:
        yield thread


@pytest.fixture
def config(emu: EmulatorThread, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_emulator_config(
        isolated_home,
        emu.base_url,
        "EMU_KEY",
        "ui:\n  poll_interval: 0.05\n  bell_on_job_end: true\n",
    )
    monkeypatch.setenv("EMU_KEY", "sk-emulator")


def make_app(dataset: Path | None = None, *, poll: float | None = None) -> RecordingApp:
    app = RecordingApp(load_config(), profile_name="emu", dataset_path=dataset)
    app.clock = lambda: FROZEN + 95
    if poll is not None:
        app.settings.ui.poll_interval = poll
    return app


def fine_tune_uploads(emu: EmulatorThread) -> int:
    return sum(f.meta["purpose"] == "fine-tune" for f in emu.emulator.store.files.values())


async def wait_for(pilot: Pilot[Any], condition: Any, what: str, rounds: int = 400) -> None:
    """Bounded polling of app state, one event-loop round at a time."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def preflight_shown(launch: LaunchScreen) -> bool:
    """A pre-flight result is on screen (a change of the model list may start another check
    after the first: wait for the one shown)."""
    if launch.check is None:  # (the form may not be composed yet)
        return False
    return not str(launch.query_one("#preflight").render()).startswith("pre-flight: checking")


async def launch_from_dataset(app: RecordingApp, pilot: Pilot[Any]) -> JobDetailScreen:
    await pilot.press("2", "n")
    assert isinstance(app.screen, LaunchScreen)
    launch = app.screen
    await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
    preflight = str(launch.query_one("#preflight").render())
    assert "69 examples (pairs, supervised), 0 errors" in preflight
    assert "billed tokens" in preflight and "estimated cost" in preflight
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job screen")
    return app.screen  # type: ignore[return-value]


@pytest.mark.parametrize("emu", [{"base64_results": True}], indirect=True)
async def test_launch_follow_succeed_chart_checkpoints_playground(
    emu: EmulatorThread, config: None
) -> None:
    app = make_app(demo_dataset_path())
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await launch_from_dataset(app, pilot)
        await app.workers.wait_for_complete()  # the follower ends with the job
        await pilot.pause()
        assert detail.job.status == "succeeded"
        chart = detail.query_one(LossChart)
        assert chart.n_points == 207
        assert chart.readout().startswith("step 207/207 · train ")
        status = str(detail.query_one("#job-status").render())
        assert "succeeded" in status and "ft:gpt-4.1-mini-2025-04-14:emulator:" in status
        events = emu.emulator.store.jobs[detail.job_id].events
        assert detail.events_seen == len(events)
        table = detail.query_one("#job-checkpoints", DataTable)
        assert table.row_count == 4  # three checkpoints, then the tuned model's own row
        assert [table.get_row_at(i)[0] for i in range(4)] == ["69", "138", "207", "final"]
        assert detail.query_one("#job-results", DataTable).row_count == 207
        assert any("succeeded" in n.message for n in app._notifications)
        assert app.bells == 1  # ui.bell_on_job_end
        await pilot.press("ctrl+p", *"log scale", "enter")
        await pilot.pause()
        assert chart.log_scale and "log" in chart.plain_lines()[0]
        await pilot.press("left", "left")
        assert chart.readout().startswith("step 205/207 · train ")
        await pilot.press("t", "t")  # Checkpoints tab
        await pilot.press("o")
        await pilot.pause()
        assert app.opened and app.opened[-1].endswith(":ckpt-step-69")
        assert isinstance(app.screen, PlaygroundScreen)
        # Back on the list the new job is there, coloured by status.
        await pilot.press("2")
        assert app.screen is detail
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
        await app.workers.wait_for_complete()
        jobs_table = app.screen.query_one("#jobs-table", DataTable)
        assert jobs_table.get_row_at(0)[0] == detail.job_id
        assert str(jobs_table.get_row_at(0)[1]) == "succeeded"


async def test_second_launch_of_the_same_file_uploads_nothing(
    emu: EmulatorThread, config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(demo_dataset_path())
    said: list[str] = []  # every notification, even one that expired on a slow machine
    notify = app.notify

    def noted(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(message)
        notify(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", noted)
    async with app.run_test(size=(80, 24)) as pilot:
        first = await launch_from_dataset(app, pilot)
        await pilot.press("escape")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen), "the form")
        launch = app.screen
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, JobDetailScreen) and app.screen is not first,
            "the second job",
        )
        assert fine_tune_uploads(emu) == 1
        assert len(emu.emulator.store.jobs) == 2
        assert any("reusing file-" in message for message in said)


async def test_errors_in_the_dataset_block_the_launch(
    emu: EmulatorThread, config: None, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 12)
    app = make_app(bad)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        assert launch.query_one("#confirm").disabled
        assert "launch blocked" in str(launch.query_one("#preflight").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, LaunchScreen)
    assert fine_tune_uploads(emu) == 0


async def test_403_on_create_is_explained_in_the_form(emu: EmulatorThread, config: None) -> None:
    emu.inject("deny-create", 1)
    app = make_app(demo_dataset_path())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LaunchScreen)
        message = str(launch.query_one("#launch-message").render())
        assert "permission denied (403)" in message and "2027-01-06" in message
    assert emu.emulator.store.jobs == {}


def _start_job(emu: EmulatorThread, **kwargs: Any) -> str:
    lines = demo_dataset_path().read_text(encoding="utf-8").splitlines()[1:]
    rows = []
    for line in lines:
        user, _, assistant = line.partition("; ")
        messages = [
            {"role": "system", "content": "Popraw gramatykę zdania."},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
        rows.append(json.dumps({"messages": messages}, ensure_ascii=False))
    client = openai.OpenAI(api_key="sk", base_url=emu.base_url)
    uploaded = client.files.create(
        file=("demo.jsonl", "\n".join(rows).encode()), purpose="fine-tune"
    )
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=uploaded.id, seed=42, suffix="demo", **kwargs
    )
    return job.id


@pytest.mark.parametrize("emu", [10.0], indirect=True)  # 10 s of training: time to pause
async def test_reattach_pause_faults_resume(emu: EmulatorThread, config: None) -> None:
    """Open a running job from the list (history first, then live), pause it, ride out
    500s, dropped connections and 429s while paused, resume, cancel: every event once."""
    job_id = _start_job(emu)
    app = make_app(poll=0.1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await app.workers.wait_for_complete()
        await pilot.press("enter")
        assert isinstance(app.screen, JobDetailScreen)
        detail = app.screen
        await wait_for(
            pilot, lambda: detail.job is not None and detail.job.status == "running", "running"
        )
        await pilot.press("p")
        assert "Pause" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: detail.job.status == "paused", "paused")
        seen_reconnecting = 0
        for fault in ("500", "drop", "429"):
            emu.inject(fault, 3, seconds=0.05)
            await wait_for(pilot, lambda: detail.reconnecting is not None, "reconnecting")
            status = str(detail.query_one("#job-status").render())
            seen_reconnecting += "reconnecting in" in status
            await wait_for(pilot, lambda: detail.reconnecting is None, "recovery")
        assert seen_reconnecting == 3
        await pilot.press("u", "y")
        await wait_for(pilot, lambda: detail.job.status == "running", "running again")
        steps_before = detail.query_one(LossChart).n_points
        await wait_for(
            pilot, lambda: detail.query_one(LossChart).n_points > steps_before, "training to go on"
        )
        await pilot.press("c", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert detail.job.status == "cancelled"
        events = emu.emulator.store.jobs[job_id].events
        messages = [e["message"] for e in events]
        assert "Fine-tuning job paused" in messages and "Resuming fine-tuning job" in messages
        assert detail.events_seen == len(events)  # none missing, none twice
        metrics = [e for e in events if e["type"] == "metrics"]
        assert detail.query_one(LossChart).n_points == len(metrics)


async def test_failed_job_is_announced_with_its_reason(emu: EmulatorThread, config: None) -> None:
    emu.inject("fail-job", 1)
    app = make_app(demo_dataset_path())
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await launch_from_dataset(app, pilot)
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: detail.job.status == "failed", "the job to fail", 2000)
        await wait_for(
            pilot,
            lambda: any("failed: server_error" in n.message for n in app._notifications),
            "the notification",
        )
        assert "failed: server_error" in str(detail.query_one("#job-status").render())


@pytest.mark.parametrize("emu", [2.0], indirect=True)
async def test_cancel_asks_first(emu: EmulatorThread, config: None) -> None:
    job_id = _start_job(emu)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(JobDetailScreen(job_id))
        await wait_for(pilot, lambda: app.screen.job is not None, "the job")  # type: ignore[attr-defined]
        detail = app.screen
        await pilot.press("c")
        assert "Cancel" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        assert emu.emulator.store.jobs[job_id].status != "cancelled"
        await pilot.press("c", "enter")  # Enter answers the focused button: No
        assert not isinstance(app.screen, ConfirmScreen)
        assert emu.emulator.store.jobs[job_id].status != "cancelled"
        await pilot.press("c", "y")
        await app.workers.wait_for_complete()
        assert emu.emulator.store.jobs[job_id].status == "cancelled"
        assert detail.job.status == "cancelled"


# --- snapshots ------------------------------------------------------------------------------


def _freeze_emulator_time(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("store", "app", "jobs", "runner"):
        monkeypatch.setattr(f"tui.emulator.{module}.now", lambda: FROZEN)


def _rewind_to_step(emu: EmulatorThread, job_id: str, step: int) -> None:
    """Make a finished emulated job look as it did at `step`: a deterministic mid-training."""
    job = emu.emulator.store.jobs[job_id]
    cut = next(
        i for i, e in enumerate(job.events) if e["type"] == "metrics" and e["data"]["step"] == step
    )
    job.events[:] = job.events[: cut + 1]
    job.checkpoints[:] = [c for c in job.checkpoints if c["step_number"] <= step]
    job.data.update(
        status="running",
        fine_tuned_model=None,
        finished_at=None,
        result_files=[],
        trained_tokens=None,
        estimated_finish=FROZEN + 180,
    )


@pytest.fixture
def finished_job(emu: EmulatorThread, config: None, monkeypatch: pytest.MonkeyPatch) -> str:
    _freeze_emulator_time(monkeypatch)
    job_id = _start_job(emu)
    client = openai.OpenAI(api_key="sk", base_url=emu.base_url)
    for _ in range(5000):  # bounded polling over HTTP, ~1 ms a round
        if client.fine_tuning.jobs.retrieve(job_id).status == "succeeded":
            return job_id
    raise AssertionError("the emulated job did not finish")


SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@SIZES
def test_snapshot_jobs_list(snap_compare, finished_job: str, size: tuple[int, int]) -> None:
    async def ready(pilot: Pilot[Any]) -> None:
        await pilot.press("2")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=ready)


@SIZES
def test_snapshot_job_mid_training(
    snap_compare, emu: EmulatorThread, finished_job: str, size: tuple[int, int]
) -> None:
    _rewind_to_step(emu, finished_job, 150)

    async def ready(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.press("2")
        await app.workers.wait_for_complete()
        app.push_screen(JobDetailScreen(finished_job))

        def loaded() -> bool:
            charts = app.screen.query(LossChart)
            tables = app.screen.query("#job-checkpoints").results(DataTable)
            return bool(charts) and charts.first().n_points == 150 and (next(tables).row_count == 2)

        await wait_for(pilot, loaded, "the history and checkpoints")
        await pilot.press("left", "left", "left")
        await pilot.pause()

    # One poll loads the history; the next would come after the screenshot.
    assert snap_compare(make_app(poll=60), terminal_size=size, run_before=ready)


@SIZES
def test_snapshot_launch_form(
    snap_compare,
    emu: EmulatorThread,
    config: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "polish.txt").write_bytes(demo_dataset_path().read_bytes())

    async def ready(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        await app.workers.wait_for_complete()
        await pilot.pause()

    app = make_app(Path("polish.txt"), poll=60)
    assert snap_compare(app, terminal_size=size, run_before=ready)


async def test_list_pages_and_filters(emu: EmulatorThread, config: None) -> None:
    client = openai.OpenAI(api_key="sk", base_url=emu.base_url)
    broken = client.files.create(file=("x.jsonl", b"not json\n"), purpose="fine-tune")
    ids = [
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=broken.id).id
        for _ in range(22)
    ]  # they fail at validation, quickly and without training
    app = make_app(poll=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await app.workers.wait_for_complete()
        screen = app.screen
        table = screen.query_one("#jobs-table", DataTable)
        assert table.row_count == 20
        assert "m: more" in str(screen.query_one("#jobs-bar").render())
        await pilot.press("m")
        await app.workers.wait_for_complete()
        assert table.row_count == 22
        assert table.get_row_at(21)[0] == ids[0]
        await pilot.press("f", "f", "f")  # all -> active -> succeeded -> failed
        assert "filter: failed" in str(screen.query_one("#jobs-bar").render())
        failed = sum(job.status == "failed" for job in screen.jobs)
        assert table.row_count == failed
        assert all(str(table.get_row_at(i)[1]) == "failed" for i in range(failed))
        await pilot.press("f")  # cancelled
        assert table.row_count == 0


async def test_unknown_job_says_not_found_in_place(emu: EmulatorThread, config: None) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(JobDetailScreen("ftjob-doesnotexist"))
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#job-status").render())
        assert status.startswith("not found (404)")


async def test_launch_action_from_any_screen_uses_the_app_dataset(
    emu: EmulatorThread, config: None
) -> None:
    """What the Dataset screen does after saving: set app.dataset_path, run launch_job."""
    app = make_app(poll=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p", *"launch fine-tuning", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LaunchScreen)
        assert "choose a dataset file first" in str(app.screen.query_one("#preflight").render())
        await pilot.press("escape")
        app.dataset_path = demo_dataset_path()
        await app.run_action("launch_job")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        assert not launch.query_one("#confirm").disabled


async def test_launch_form_holds_out_a_share_and_sends_metadata(
    emu: EmulatorThread, config: None
) -> None:
    import openai

    app = make_app(demo_dataset_path(), poll=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        for field, text in (("#f-validation", "20%"), ("#f-metadata", "team=nlp, run=7")):
            launch.query_one(field, Input).focus()
            await pilot.press(*text, "enter")
        await wait_for(pilot, lambda: preflight_shown(launch), "the pre-flight")
        await wait_for(pilot, lambda: launch.check.n_validation == 14, "the split pre-flight")  # type: ignore[union-attr]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job screen")
        job_id = app.screen.job_id  # type: ignore[attr-defined]
    client = openai.OpenAI(base_url=emu.base_url, api_key="sk-emulator")
    job = client.fine_tuning.jobs.retrieve(job_id)
    assert job.validation_file is not None
    assert len(client.files.content(job.validation_file).text.splitlines()) == 14
    assert job.metadata is not None and job.metadata["team"] == "nlp" and job.metadata["run"] == "7"
