"""Fine-tuning jobs through the official SDK: lifecycle, metrics, pagination, failures."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics

import openai
import pytest
from emulator_support import (
    FAST,
    aclient,
    await_job,
    chat_line,
    client,
    emu,
    jsonl,
    learnable_pairs,
    server,
    strict,
    validate_page,
    wait_job,
)
from openai.types import FileObject
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint

from tui.emulator import EmulatorThread

__all__ = ["aclient", "client", "emu", "server"]  # fixtures

FT_MODEL = re.compile(r"^ft:gpt-4o-mini-2024-07-18:emulator:demo:[A-Za-z0-9]{8}$")


def upload(client: openai.OpenAI, pairs: list[tuple[str, str]] | None = None) -> str:
    data = jsonl(learnable_pairs() if pairs is None else pairs)
    return client.files.create(file=("train.jsonl", data), purpose="fine-tune").id


def all_events(client: openai.OpenAI, job_id: str) -> list[FineTuningJobEvent]:
    return list(client.fine_tuning.jobs.list_events(job_id, limit=7))


def test_full_lifecycle_with_validation_file(client: openai.OpenAI) -> None:
    train = upload(client)
    valid = upload(client, learnable_pairs(14)[10:])
    raw = client.fine_tuning.jobs.with_raw_response.create(
        model="gpt-4o-mini",
        training_file=train,
        validation_file=valid,
        suffix="demo",
        seed=7,
        metadata={"team": "a"},
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}},
    )
    job = strict(FineTuningJob, raw.text)
    assert job.status == "validating_files" and job.fine_tuned_model is None
    assert job.model == "gpt-4o-mini-2024-07-18" and job.seed == 7
    assert job.error is None and job.result_files == [] and job.trained_tokens is None

    done = wait_job(client, job.id)
    done = strict(FineTuningJob, client.fine_tuning.jobs.with_raw_response.retrieve(job.id).text)
    assert done.status == "succeeded", done.error
    assert FT_MODEL.match(done.fine_tuned_model or "")
    assert done.finished_at is not None and done.estimated_finish is None
    assert done.trained_tokens and done.trained_tokens > 0
    assert done.hyperparameters.n_epochs == 4 and done.hyperparameters.batch_size == 1
    assert done.metadata == {"team": "a"}

    events = all_events(client, job.id)  # newest first, auto-paged 7 at a time
    assert events[0].message == "The job has successfully completed"
    assert events[-1].message == f"Created fine-tuning job: {job.id}"
    metrics = [e for e in reversed(events) if e.type == "metrics"]
    total = 4 * 12  # epochs x examples (batch size 1)
    assert len(metrics) == total
    data = [e.data for e in metrics]
    assert all(isinstance(d, dict) for d in data)
    assert [d["step"] for d in data] == list(range(1, total + 1))  # type: ignore[index]
    first = data[0]
    assert isinstance(first, dict)
    assert {
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    } <= first.keys()
    assert first["total_steps"] == total
    epoch_ends = [d["step"] for d in data if "full_valid_loss" in d]  # type: ignore[operator,index]
    assert epoch_ends == [12, 24, 36, 48]
    assert re.fullmatch(
        r"Step 48/48: training loss=\d+\.\d\d, validation loss=\d+\.\d\d, "
        r"full validation loss=\d+\.\d\d",
        metrics[-1].message,
    )

    checkpoints = list(client.fine_tuning.jobs.checkpoints.list(job.id, limit=1))
    assert [c.step_number for c in checkpoints] == [48, 36, 24]  # last 3 epochs, newest first
    for checkpoint in checkpoints:
        assert checkpoint.fine_tuned_model_checkpoint == (
            f"{done.fine_tuned_model}:ckpt-step-{checkpoint.step_number}"
        )
        assert checkpoint.metrics.full_valid_loss is not None
    page = validate_page(
        FineTuningJobCheckpoint,
        client.fine_tuning.jobs.checkpoints.with_raw_response.list(job.id, limit=2).text,
        with_ids=True,
    )
    assert page["has_more"] is True

    results = strict(FileObject, client.files.with_raw_response.retrieve(done.result_files[0]).text)
    assert results.purpose == "fine-tune-results"
    rows = list(csv.DictReader(io.StringIO(client.files.content(results.id).text)))
    assert len(rows) == total
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert float(rows[-1]["train_loss"]) == metrics[-1].data["train_loss"]  # type: ignore[index]

    model_ids = {m.id for m in client.models.list()}
    assert done.fine_tuned_model in model_ids
    assert {c.fine_tuned_model_checkpoint for c in checkpoints} <= model_ids


def test_every_event_page_validates(client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))
    wait_job(client, job.id)
    after = None
    seen: list[str] = []
    while True:
        raw = client.fine_tuning.jobs.with_raw_response.list_events(job.id, limit=25, after=after)
        page = validate_page(FineTuningJobEvent, raw.text, with_ids=False)
        seen += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert seen == [e.id for e in all_events(client, job.id)]
    assert len(seen) == len(set(seen))


def test_loss_decreases_on_a_learnable_dataset(client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini",
        training_file=upload(client),
        hyperparameters={"n_epochs": 5},
    )
    wait_job(client, job.id)
    metrics = [e.data for e in reversed(all_events(client, job.id)) if e.type == "metrics"]
    losses = [d["train_loss"] for d in metrics]  # type: ignore[index]
    accuracy = [d["train_mean_token_accuracy"] for d in metrics]  # type: ignore[index]
    assert statistics.mean(losses[-10:]) < 0.5 * statistics.mean(losses[:10])
    assert statistics.mean(accuracy[-10:]) > statistics.mean(accuracy[:10])


def _run_job(seed: int) -> list[tuple[str, object]]:
    with (
        EmulatorThread(seed=0, speed=FAST, env_faults=False) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="k", max_retries=0) as c,
    ):
        job = c.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(c), seed=seed)
        wait_job(c, job.id)
        return [(e.message, e.data) for e in all_events(c, job.id)]


def test_same_seed_gives_same_events() -> None:
    first, again, other = _run_job(42), _run_job(42), _run_job(43)
    assert first == again
    assert first != other


def test_too_few_examples_fails_with_invalid_n_examples(client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client, learnable_pairs(3))
    )
    failed = wait_job(client, job.id)
    strict(FineTuningJob, client.fine_tuning.jobs.with_raw_response.retrieve(job.id).text)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "invalid_n_examples"
    assert failed.error.param == "training_file"
    assert failed.error.message == (
        "Training file has 3 example(s), but must have at least 10 examples"
    )
    assert failed.fine_tuned_model is None and failed.result_files == []


def test_broken_line_fails_with_invalid_training_file(client: openai.OpenAI) -> None:
    lines = [chat_line(u, a) for u, a in learnable_pairs()]
    lines[4] = '{"messages": [oops'
    file_id = client.files.create(
        file=("t.jsonl", "\n".join(lines).encode()), purpose="fine-tune"
    ).id
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id)
    failed = wait_job(client, job.id)
    assert failed.error is not None and failed.error.code == "invalid_training_file"
    assert "Line 5" in failed.error.message


def test_fail_job_fault(server: EmulatorThread, client: openai.OpenAI) -> None:
    server.inject("fail-job")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))
    failed = wait_job(client, job.id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "server_error"
    steps = [e for e in all_events(client, job.id) if e.type == "metrics"]
    total = steps[0].data["total_steps"]  # type: ignore[index]
    assert len(steps) == total // 2  # failed half-way through training
    again = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload(client))
    assert wait_job(client, again.id).status == "succeeded"


def test_list_jobs_pages_and_metadata_filter(client: openai.OpenAI) -> None:
    file_id = upload(client)
    ids = [
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=file_id, metadata={"team": "a" if i % 2 else "b"}
        ).id
        for i in range(5)
    ]
    page = validate_page(
        FineTuningJob, client.fine_tuning.jobs.with_raw_response.list(limit=2).text, with_ids=False
    )
    assert page["has_more"] is True and [j["id"] for j in page["data"]] == ids[::-1][:2]
    assert [j.id for j in client.fine_tuning.jobs.list(limit=2)] == ids[::-1]
    team_a = [j.id for j in client.fine_tuning.jobs.list(limit=1, metadata={"team": "a"})]
    assert team_a == [ids[3], ids[1]]
    plain = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id).id
    untagged = client.fine_tuning.jobs.list(extra_query={"metadata": "null"})
    assert [j.id for j in untagged] == [plain]
    both = client.fine_tuning.jobs.list(metadata={"team": "b", "x": "y"})
    assert list(both) == []
    for job_id in [*ids, plain]:
        wait_job(client, job_id)


def test_pause_resume_cancel() -> None:
    many = [(f"zdanie numer {i}", f"To jest zdanie {i}.") for i in range(60)]
    with (
        EmulatorThread(seed=1, speed=20.0, env_faults=False) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="k", max_retries=0) as c,
    ):
        job = c.fine_tuning.jobs.create(model="gpt-4.1-mini", training_file=upload(c, many))
        with pytest.raises(openai.BadRequestError):
            c.fine_tuning.jobs.pause(job.id)  # not running yet
        running = wait_job(c, job.id, ("running",))
        assert running.estimated_finish is not None and running.fine_tuned_model is None
        assert c.fine_tuning.jobs.pause(job.id).status == "pausing"
        wait_job(c, job.id, ("paused",))
        paused_steps = len([e for e in all_events(c, job.id) if e.type == "metrics"])
        assert c.fine_tuning.jobs.retrieve(job.id).estimated_finish is None
        assert len([e for e in all_events(c, job.id) if e.type == "metrics"]) == paused_steps
        assert c.fine_tuning.jobs.resume(job.id).status == "running"
        cancelled = c.fine_tuning.jobs.cancel(job.id)
        assert strict(FineTuningJob, cancelled.model_dump()).status == "cancelled"
        assert c.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
        with pytest.raises(openai.BadRequestError):
            c.fine_tuning.jobs.cancel(job.id)
        with pytest.raises(openai.BadRequestError):
            c.fine_tuning.jobs.resume(job.id)


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        (
            {"hyperparameters": {"n_epochs": 0}},
            "hyperparameters.n_epochs",
            "integer_below_min_value",
        ),
        (
            {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 51}}}},
            "method.supervised.hyperparameters.n_epochs",
            "integer_above_max_value",
        ),
        (
            {"hyperparameters": {"batch_size": 257}},
            "hyperparameters.batch_size",
            "integer_above_max_value",
        ),
        (
            {"hyperparameters": {"learning_rate_multiplier": 0}},
            "hyperparameters.learning_rate_multiplier",
            "decimal_below_min_value",
        ),
        (
            {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
            "method.dpo.hyperparameters.beta",
            "decimal_above_max_value",
        ),
        ({"seed": -1}, "seed", "integer_below_min_value"),
        ({"suffix": "x" * 65}, "suffix", "string_above_max_length"),
        (
            {"metadata": {f"k{i}": "v" for i in range(17)}},
            "metadata",
            "object_above_max_properties",
        ),
        ({"model": "gpt-9"}, "model", "model_not_available"),
        ({"training_file": "file-missing"}, "training_file", None),
        ({"validation_file": "file-missing"}, "validation_file", None),
    ],
)
def test_create_rejects_bad_requests(
    client: openai.OpenAI, kwargs: dict[str, object], param: str, code: str | None
) -> None:
    request: dict[str, object] = {"model": "gpt-4o-mini", "training_file": upload(client)}
    request.update(kwargs)
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(**request)  # type: ignore[arg-type]
    assert err.value.param == param
    assert err.value.code == code
    assert err.value.type == "invalid_request_error"
    assert list(client.fine_tuning.jobs.list()) == []


def test_missing_training_file_param(server: EmulatorThread) -> None:
    import httpx2

    response = httpx2.post(
        f"{server.base_url}/fine_tuning/jobs",
        json={"model": "gpt-4o-mini"},
        headers={"Authorization": "Bearer k"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    assert response.json()["error"]["param"] == "training_file"


async def test_async_lifecycle_and_pages(aclient: openai.AsyncOpenAI) -> None:
    data = jsonl(learnable_pairs())
    file_id = (await aclient.files.create(file=("t.jsonl", data), purpose="fine-tune")).id
    job = await aclient.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, suffix="demo"
    )
    done = await await_job(aclient, job.id)
    assert done.status == "succeeded" and FT_MODEL.match(done.fine_tuned_model or "")
    events = [e async for e in aclient.fine_tuning.jobs.list_events(job.id, limit=9)]
    assert events[0].message == "The job has successfully completed"
    checkpoints = [c async for c in aclient.fine_tuning.jobs.checkpoints.list(job.id, limit=2)]
    assert len(checkpoints) == 3
    jobs = [j.id async for j in aclient.fine_tuning.jobs.list(limit=1)]
    assert jobs == [job.id]
    raw = await aclient.fine_tuning.jobs.with_raw_response.retrieve(job.id)
    assert strict(FineTuningJob, json.loads(raw.text)).id == job.id


def test_trained_tokens_come_from_the_project_validator(client: openai.OpenAI) -> None:
    from tui.core.validate import validate_bytes

    data = jsonl(learnable_pairs())
    per_epoch = sum(validate_bytes(data, "gpt-4o-mini", fmt="chat").token_counts)
    file_id = client.files.create(file=("t.jsonl", data), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 2}
    )
    assert wait_job(client, job.id).trained_tokens == 2 * per_epoch > 0


def test_chat_file_in_a_dpo_job_fails(client: openai.OpenAI) -> None:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=upload(client), method={"type": "dpo"}
    )
    failed = wait_job(client, job.id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "invalid_training_file" and "Line 1" in failed.error.message


async def test_async_pause_resume_cancel_and_models() -> None:
    from tui.emulator import Emulator

    many = [(f"zdanie numer {i}", f"To jest zdanie {i}.") for i in range(60)]
    async with (
        Emulator(seed=2, speed=20.0, env_faults=False) as emu,
        openai.AsyncOpenAI(base_url=emu.base_url, api_key="k", max_retries=0) as c,
    ):
        file_id = (await c.files.create(file=("t.jsonl", jsonl(many)), purpose="fine-tune")).id
        job = await c.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id)
        await await_job(c, job.id, ("running",))
        assert (await c.fine_tuning.jobs.pause(job.id)).status == "pausing"
        await await_job(c, job.id, ("paused",))
        assert (await c.fine_tuning.jobs.resume(job.id)).status == "running"
        assert (await c.fine_tuning.jobs.cancel(job.id)).status == "cancelled"
        base = await c.models.retrieve("gpt-4o-mini-2024-07-18")
        assert base.owned_by == "system"
        with pytest.raises(openai.NotFoundError):
            await c.models.delete("ft:gpt-4o-mini-2024-07-18:emulator::missing1")


def test_results_file_can_be_base64_like_the_api_has_sent() -> None:
    import base64

    with (
        EmulatorThread(speed=FAST, base64_results=True, env_faults=False) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="k") as c,
    ):
        job = c.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=upload(c), hyperparameters={"n_epochs": 1}
        )
        done = wait_job(c, job.id)
        raw = c.files.content(done.result_files[0]).content
        assert base64.b64decode(raw).startswith(b"step,train_loss,")
