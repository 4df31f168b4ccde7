"""The app on a `kind: local` profile: the launch form offers the server's own base models,
and the job screen and loss chart follow a real local training job (Pilot, real keys).

Every wait is bounded and says what it waited for: real training on a loaded machine takes
seconds to minutes, and a hang must fail the test, never block CI."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

import tui.api.preflight
from tests.serve_support import build_tiny_model, chat_lines
from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.job_detail import JobDetailScreen
from tui.screens.launch import LaunchScreen
from tui.serve.server import ServeThread
from tui.widgets.loss_chart import LossChart

WAIT_SECONDS = 240.0
TRAIN_SECONDS = 600.0  # the job itself: trainer start-up and 20 steps, on a loaded machine


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServeThread]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tiny = build_tiny_model(tmp_path / "tiny-llama")
    with ServeThread(models=[str(tiny)], data_dir=tmp_path / "data", device="cpu") as server:
        yield server


@pytest.fixture
def config(serve: ServeThread, isolated_home: Path) -> None:
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: gpu\n"
        f"profiles:\n  gpu: {{kind: local, base_url: '{serve.base_url}'}}\n"
        "defaults:\n  epochs: 2\n"
        "ui:\n  poll_interval: 0.05\n",
        encoding="utf-8",
    )
    path.chmod(0o600)


async def wait_until(
    pilot: Pilot[Any],
    condition: Callable[[], bool],
    what: str,
    state: Callable[[], object] = lambda: None,
    seconds: float = WAIT_SECONDS,
) -> None:
    """Wait at most `seconds` for `condition`; the failure names what was waited for and
    shows `state()` as it was then."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}: {state()}")


async def test_a_late_preflight_is_dropped_and_ctrl_s_waits_for_the_current_one(
    serve: ServeThread, config: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form checks the default model on open, then the server's model when the list
    arrives. The first check finishing last must not replace the second (Ctrl+S launches the
    model of the check shown: this race timed the job test out once; now the superseded check
    stops at its first block), and Ctrl+S pressed
    while the current check runs launches once it is done, with its model."""
    real = tui.api.preflight.preflight
    release = {"gpt": threading.Event(), "tiny-llama": threading.Event()}
    in_thread = threading.local()
    started: list[str] = []
    delivered: list[str] = []
    finished: list[str] = []  # pre-flight calls that returned (or stopped)

    def held(path: Path, model: str, **kwargs: Any) -> Any:
        name = "tiny-llama" if model == "tiny-llama" else "gpt"
        in_thread.model = name
        started.append(name)
        release[name].wait(WAIT_SECONDS)
        try:
            return real(path, model, **kwargs)
        finally:
            finished.append(name)

    dataset = tmp_path / "pairs.jsonl"
    dataset.write_bytes(chat_lines())
    app = TunebenchApp(load_config(), profile_name="gpu", dataset_path=dataset)
    to_app = app.call_from_thread

    def answered(callback: Any, *args: Any, **kwargs: Any) -> Any:
        """The screen got a pre-flight thread's answer (its callback has run)."""
        try:
            return to_app(callback, *args, **kwargs)
        finally:
            delivered.append(getattr(in_thread, "model", "?"))

    monkeypatch.setattr(tui.api.preflight, "preflight", held)
    monkeypatch.setattr(app, "call_from_thread", answered)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "n")
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        await wait_until(
            pilot, lambda: "tiny-llama" in started, "the check of the server's model", started
        )
        await pilot.press("ctrl+s")
        message = launch.query_one("#launch-message")
        assert "confirming after the pre-flight" in str(message.render())
        release["gpt"].set()
        await wait_until(pilot, lambda: "gpt" in finished, "the first check's end")
        await pilot.pause()
        # Superseded, it stopped at its first block and answered nothing: nothing launched.
        assert "gpt" not in delivered
        assert launch.check is None and app.screen is launch
        release["tiny-llama"].set()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, JobDetailScreen),
            "the launch once the current check is done",
            lambda: str(message.render()),
        )
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        await wait_until(pilot, lambda: detail.job is not None, "the job", lambda: detail.job_id)
        assert detail.job is not None and detail.job.model == "tiny-llama"


async def test_the_job_screen_follows_a_real_local_job(
    serve: ServeThread, config: None, tmp_path: Path
) -> None:
    dataset = tmp_path / "pairs.jsonl"
    dataset.write_bytes(chat_lines())
    app = TunebenchApp(load_config(), profile_name="gpu", dataset_path=dataset)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "n")
        assert isinstance(app.screen, LaunchScreen)
        launch = app.screen
        await wait_until(
            pilot,
            lambda: launch.check is not None and launch.check.model == "tiny-llama",
            "the pre-flight on the server's model",
        )
        select = launch.query_one("#f-model", Select)
        assert [value for _, value in select._options if value != Select.BLANK] == ["tiny-llama"]

        def preflight() -> str:
            return str(launch.query_one("#preflight").render())

        await wait_until(
            pilot, lambda: "tokenizer" in preflight(), "the server's own count", preflight
        )
        shown = preflight()
        tokens = sum(serve.call(_counts(serve, chat_lines())))
        assert f"tokens (tiny-llama tokenizer): {tokens:,} · longest " in shown
        assert " of 256" in shown  # the context length (from the model config)
        assert "epochs: 2 · trained tokens: " in shown  # the config's default epochs
        assert "time: unknown until a first job has run" in shown
        assert "local trainer: no price" in shown and "$" not in shown
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, JobDetailScreen),
            "the job screen",
            lambda: str(launch.query_one("#launch-message").render()),
        )
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)

        def following() -> list[Any]:
            return [w for w in app.workers if w.node is detail and w.group == "job-follow"]

        await wait_until(pilot, lambda: bool(following()), "the job screen to follow the job")
        follower = following()

        def job_state() -> object:
            job = detail.job
            events = serve.call(_events(serve, job.id)) if job is not None else []
            return f"{job and job.status}; server events: {events[:5]}"

        await wait_until(
            pilot,
            lambda: detail.job is not None and detail.job.status in ("succeeded", "failed"),
            "the job to end",
            job_state,
            TRAIN_SECONDS,
        )
        await wait_until(
            pilot,
            lambda: all(w.is_finished for w in follower),
            "the job screen's follower to load the checkpoints and results and stop",
            lambda: [(w.name, w.state) for w in follower],
        )
        await pilot.pause()
        assert detail.job is not None
        assert detail.job.status == "succeeded", detail.job.error_message
        chart = detail.query_one(LossChart)
        assert chart.n_points == 20  # 10 examples, batch 1, 2 epochs: a point a step
        assert chart.readout().startswith("step 20/20 · train ")
        status = str(detail.query_one("#job-status").render())
        assert "ft:tiny-llama:local:" in status
        checkpoints = detail.query_one("#job-checkpoints", DataTable)
        assert [checkpoints.get_row_at(i)[0] for i in range(checkpoints.row_count)] == [
            "10",
            "20",
            "final",  # the tuned model has its own row (issue 15)
        ]


async def _events(serve: ServeThread, job_id: str) -> list[str]:
    """The job's latest events as the server holds them (for a failure's message)."""
    return [str(e["message"]) for e in serve.serve.store.events(job_id)]


async def _counts(serve: ServeThread, content: bytes) -> list[int]:
    """The server's own token count of each line (what a job's pre-flight reports)."""
    base = serve.serve.bases["tiny-llama"]
    return serve.serve.runner.counter.count(base, content, dpo=False).tokens
