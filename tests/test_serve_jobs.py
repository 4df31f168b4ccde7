"""Real fine-tuning jobs on `serve` (a tiny Llama model on CPU, over HTTP with the SDK):
the whole lifecycle, cancel, pause/resume, a crash, DPO, and a restart of the server."""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest
from openai.types.fine_tuning import FineTuningJob

from tests.serve_support import PAIRS, SYSTEM, chat_lines, dpo_lines
from tui.serve.server import ServeThread

WAIT_SECONDS = 240.0
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "serve-data"


@pytest.fixture
def serve(tiny: Path, data_dir: Path) -> Iterator[ServeThread]:
    """The default `--device auto`: on a machine without a GPU the trainer picks the CPU."""
    with ServeThread(models=[str(tiny)], data_dir=data_dir) as server:
        yield server


def sdk(server: ServeThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)


def wait_for(
    client: openai.OpenAI, job_id: str, done: Callable[[FineTuningJob], bool]
) -> FineTuningJob:
    """Poll the job until `done` holds (bounded; fails with the job's events otherwise)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if done(job):
            return job
        time.sleep(0.2)
    events = [e.message for e in client.fine_tuning.jobs.list_events(job_id, limit=50)]
    raise AssertionError(f"job {job_id} stuck in {job.status}: {events}")


def metrics_steps(client: openai.OpenAI, job_id: str) -> list[dict]:
    events = client.fine_tuning.jobs.list_events(job_id, limit=1000).data
    return [dict(e.data) for e in reversed(events) if e.type == "metrics"]  # type: ignore[call-overload]


def upload(client: openai.OpenAI, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return client.files.create(file=path.open("rb"), purpose="fine-tune").id


def test_a_job_trains_checkpoints_and_its_model_answers(serve: ServeThread, tmp_path: Path) -> None:
    client = sdk(serve)
    training = upload(client, tmp_path, "train.jsonl", chat_lines())
    validation = upload(client, tmp_path, "valid.jsonl", chat_lines(PAIRS[:3]))
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training,
        validation_file=validation,
        suffix="grammar",
        seed=3,
        hyperparameters={"n_epochs": 2, "batch_size": 2, "learning_rate_multiplier": 20},
    )
    assert job.status == "validating_files"
    job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "succeeded", job.error
    assert job.hyperparameters.n_epochs == 2 and job.hyperparameters.batch_size == 2
    assert job.fine_tuned_model and job.fine_tuned_model.startswith("ft:tiny-llama:local:grammar:")

    steps = metrics_steps(client, job.id)
    assert [s["step"] for s in steps] == list(range(1, 11))  # 10 examples / 2 x 2 epochs
    assert all(s["total_steps"] == 10 for s in steps)
    assert steps[-1]["train_loss"] < steps[0]["train_loss"]
    assert all("valid_loss" in s for s in steps)
    assert [s["step"] for s in steps if "full_valid_loss" in s] == [5, 10]

    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=100)]
    assert any(
        m.startswith("Pre-flight with the tiny-llama tokenizer: 10 examples") for m in messages
    )
    page = client.fine_tuning.jobs.list_events(job.id, limit=3)
    after = client.fine_tuning.jobs.list_events(job.id, limit=3, after=page.data[-1].id)
    assert page.has_more and after.data[0].created_at <= page.data[-1].created_at
    assert {e.id for e in page.data}.isdisjoint(e.id for e in after.data)

    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [10, 5]
    names = [c.fine_tuned_model_checkpoint for c in checkpoints]
    assert names == [f"{job.fine_tuned_model}:ckpt-step-{n}" for n in (10, 5)]
    assert "full_valid_loss" in checkpoints[0].metrics.model_dump(exclude_none=True)
    listed = [m.id for m in client.models.list()]
    assert job.fine_tuned_model in listed and all(n in listed for n in names)

    csv = client.files.content(job.result_files[0]).text.splitlines()
    assert csv[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert len(csv) == 11 and csv[1].startswith("1,")

    for model in (job.fine_tuned_model, names[1]):
        stream = client.chat.completions.create(
            model=model,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Kot"}],
            max_tokens=8,
            seed=1,
            stream=True,
        )
        chunks = list(stream)
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")
        assert all(c.model == model for c in chunks)

    jobs = client.fine_tuning.jobs.list(limit=1)
    assert [j.id for j in jobs.data] == [job.id]
    assert client.models.retrieve(job.fine_tuned_model).owned_by == "org-local"

    # The next job's pre-flight estimates its time from the speed this one measured.
    second = client.fine_tuning.jobs.create(model="tiny-llama", training_file=training)
    wait_for(client, second.id, lambda j: j.status != "validating_files")
    client.fine_tuning.jobs.cancel(second.id)
    preflight = [
        e.message
        for e in client.fine_tuning.jobs.list_events(second.id, limit=100)
        if e.message.startswith("Pre-flight")
    ]
    assert len(preflight) == 1 and "tokens/s measured here" in preflight[0]
    # So does the pre-flight route, for a tuned model trained further (its base counts).
    counted = client.post(
        "/tunebench/preflight",
        body={"model": job.fine_tuned_model, "lines": chat_lines().decode().splitlines()},
        cast_to=object,
    )
    assert isinstance(counted, dict) and counted["base_model"] == "tiny-llama"
    speed, epochs = counted["tokens_per_second"], counted["n_epochs"]
    assert speed > 0 and epochs == 10  # OpenAI's auto for 10 examples
    assert counted["estimated_seconds"] == math.ceil(counted["total_tokens"] * epochs / speed)
    newest = client.fine_tuning.jobs.list(limit=1)
    assert [j.id for j in newest.data] == [second.id] and newest.has_more
    older = client.fine_tuning.jobs.list(limit=1, after=second.id)
    assert [j.id for j in older.data] == [job.id] and not older.has_more
    assert client.models.delete(names[1]).deleted
    assert names[1] not in [m.id for m in client.models.list()]


def test_cancel_stops_the_trainer_within_ten_seconds(serve: ServeThread, tmp_path: Path) -> None:
    client = sdk(serve)
    training = upload(client, tmp_path, "train.jsonl", chat_lines())
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training,
        hyperparameters={"n_epochs": 50, "batch_size": 1},
    )
    wait_for(client, job.id, lambda j: bool(metrics_steps(client, j.id)))
    process = serve.serve.runner.runs[job.id].process
    started = time.monotonic()
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled"
    assert process.returncode is not None  # the handler returns once the trainer is gone
    assert time.monotonic() - started < 10
    assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError, match="status is cancelled"):
        client.fine_tuning.jobs.cancel(job.id)


def test_pause_saves_a_checkpoint_and_resume_goes_on_from_it(
    serve: ServeThread, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trainer waits after step 1 until the pause arrives: under load the tiny model could
    # otherwise finish all 20 steps before the pause request reached it.
    monkeypatch.setenv("TUNEBENCH_TRAIN_FAULT", "hold-for-pause")
    client = sdk(serve)
    training = upload(client, tmp_path, "train.jsonl", chat_lines())
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training,
        hyperparameters={"n_epochs": 2, "batch_size": 1},
        seed=5,
    )
    wait_for(client, job.id, lambda j: bool(metrics_steps(client, j.id)))
    assert client.fine_tuning.jobs.pause(job.id).status == "pausing"
    wait_for(client, job.id, lambda j: j.status == "paused")
    paused_at = metrics_steps(client, job.id)[-1]["step"]
    assert paused_at < 20
    resume_from = data_dir / "jobs" / job.id / "out" / f"checkpoint-{paused_at}"
    assert (resume_from / "optimizer.pt").exists()  # what the resume needs
    assert client.fine_tuning.jobs.resume(job.id).status == "queued"
    job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "succeeded", job.error
    steps = [s["step"] for s in metrics_steps(client, job.id)]
    assert steps == list(range(1, 21))  # went on from the checkpoint, no step twice
    messages = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=200)]
    assert f"Fine-tuning job paused at step {paused_at}" in messages
    assert "Fine-tuning job resumed" in messages
    assert not (resume_from / "optimizer.pt").exists()  # no resume can need it any more


def test_only_the_last_three_checkpoints_stay_and_a_deleted_model_leaves_no_files(
    serve: ServeThread, tmp_path: Path, data_dir: Path
) -> None:
    client = sdk(serve)
    training = upload(client, tmp_path, "train.jsonl", chat_lines())
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training,
        hyperparameters={"n_epochs": 4, "batch_size": 10},  # a step an epoch
    )
    job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "succeeded", job.error
    out = data_dir / "jobs" / job.id / "out"
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [4, 3, 2]  # as OpenAI: the last three
    listed = [m.id for m in client.models.list()]
    assert f"{job.fine_tuned_model}:ckpt-step-1" not in listed
    kept_dirs = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert kept_dirs == ["checkpoint-2", "checkpoint-3", "checkpoint-4", "final"]
    for step in (2, 3, 4):  # no resume starts from an epoch checkpoint: no optimizer state
        kept = sorted(p.name for p in (out / f"checkpoint-{step}").iterdir())
        assert "adapter_model.safetensors" in kept
        assert not [n for n in kept if n.startswith(("optimizer", "scheduler", "rng_state"))]

    doomed = checkpoints[1].fine_tuned_model_checkpoint
    assert client.models.delete(doomed).deleted
    assert not (out / "checkpoint-3").exists()
    assert doomed not in [m.id for m in client.models.list()]
    steps = [c.step_number for c in client.fine_tuning.jobs.checkpoints.list(job.id).data]
    assert steps == [4, 2]
    assert client.models.delete(job.fine_tuned_model).deleted
    assert not (out / "final").exists()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model=job.fine_tuned_model, messages=[{"role": "user", "content": "Kot"}]
        )


def test_a_trainer_crash_fails_the_job_with_its_cause(tiny: Path, tmp_path: Path) -> None:
    broken = shutil.copytree(tiny, tmp_path / "broken-llama")
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with ServeThread(models=[str(broken)], data_dir=tmp_path / "data", device="cpu") as server:
        client = sdk(server)
        training = upload(client, tmp_path, "train.jsonl", chat_lines())
        job = client.fine_tuning.jobs.create(model="broken-llama", training_file=training)
        job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "failed"
    assert job.error is not None and "The job failed during training" in job.error.message
    assert "safetensors" in job.error.message.lower() or "header" in job.error.message.lower()


def test_a_dpo_job_trains_with_beta(serve: ServeThread, tmp_path: Path) -> None:
    client = sdk(serve)
    training = upload(client, tmp_path, "prefs.jsonl", dpo_lines())
    job = client.fine_tuning.jobs.create(
        model="tiny-llama",
        training_file=training,
        method={
            "type": "dpo",
            "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 1, "batch_size": 2}},
        },
    )
    job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "succeeded", job.error
    assert job.method is not None and job.method.dpo is not None
    assert job.method.dpo.hyperparameters.beta == 0.2  # type: ignore[union-attr]
    steps = metrics_steps(client, job.id)
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5]
    assert all("train_loss" in s for s in steps)


def test_a_restart_keeps_everything_and_fails_the_job_that_was_running(
    tiny: Path, data_dir: Path, tmp_path: Path
) -> None:
    with ServeThread(models=[str(tiny)], data_dir=data_dir, device="cpu") as first:
        client = sdk(first)
        # The last example's answer lies past the model's 256 positions: reported, not dropped
        # silently.
        long_line = chat_lines([("słowo " * 300, "Za długie.")])
        training = upload(client, tmp_path, "train.jsonl", chat_lines() + long_line)
        job = client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=training, hyperparameters={"n_epochs": 50}
        )
        wait_for(client, job.id, lambda j: bool(metrics_steps(client, j.id)))
        trainer = first.serve.runner.runs[job.id].process.pid
        warnings = [
            e.message
            for e in client.fine_tuning.jobs.list_events(job.id, limit=100)
            if e.level == "warn"
        ]
        assert any("1 example(s) exceed the context length" in w for w in warnings), warnings
        assert any("1 training example(s) skipped" in w and "(lines 11)" in w for w in warnings), (
            warnings
        )
    with pytest.raises(ProcessLookupError):
        os.kill(trainer, 0)  # stopping the server stopped its trainer
    with ServeThread(models=[str(tiny)], data_dir=data_dir, device="cpu") as second:
        client = sdk(second)
        again = client.fine_tuning.jobs.retrieve(job.id)
        assert again.status == "failed"
        assert again.error is not None and "server stopped while this job was running" in (
            again.error.message
        )
        assert client.files.retrieve(training).filename == "train.jsonl"
        assert metrics_steps(client, job.id)  # the events are still there


def test_out_of_memory_fails_the_job_with_a_batch_size_hint(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEBENCH_TRAIN_FAULT", "oom")  # the trainer's first step runs out
    with ServeThread(models=[str(tiny)], data_dir=tmp_path / "data", device="cpu") as server:
        client = sdk(server)
        training = upload(client, tmp_path, "train.jsonl", chat_lines())
        job = client.fine_tuning.jobs.create(
            model="tiny-llama", training_file=training, hyperparameters={"batch_size": 8}
        )
        job = wait_for(client, job.id, lambda j: j.status in FINISHED)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.message == (
        "The job failed during training: out of memory at batch_size 8: try batch_size 2"
    )
