"""tui.api.jobs against the emulator over real HTTP: dedupe, create without duplicates,
events exactly once through 429s, 500s and dropped connections, results, plain errors."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
from emulator_support import await_job, chat_line

from tui.api import jobs
from tui.api.store import Store
from tui.emulator import Emulator
from tui.errors import describe, note_api_context


def chat_jsonl(n: int = 12) -> bytes:
    rows = [chat_line(f"Kot, spać, kanapa {i}", f"Kot śpi na kanapie {i}.") for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=7, speed=400.0, env_faults=False) as emulator:
        yield emulator


def client_for(emu: Emulator, **kwargs: object) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, **kwargs)  # type: ignore[arg-type]


async def noop_sleep(_seconds: float) -> None:
    return None


async def test_second_upload_of_the_same_bytes_uploads_nothing(emu: Emulator) -> None:
    store = Store()
    async with client_for(emu) as client:
        first = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        second = await jobs.upload(client, store, "emu", chat_jsonl(), "renamed.jsonl")
        other_profile = await jobs.upload(client, store, "other", chat_jsonl(), "a.jsonl")
    assert not first.reused
    assert second.reused and second.file_id == first.file_id
    assert not other_profile.reused
    assert len(emu.store.files) == 2


async def test_a_large_file_goes_up_in_parts_to_the_emulator_and_trains(emu: Emulator) -> None:
    """The client's Uploads API path against the emulator's (not only the spec stub): the
    parts arrive in order, the file holds the exact bytes, and a job trains on it."""
    data = chat_jsonl(100)
    seen: list[tuple[int, int]] = []
    async with client_for(emu) as client:
        result = await jobs.upload(
            client,
            Store(),
            "emu",
            data,
            "big.jsonl",
            progress=lambda sent, total: seen.append((sent, total)),
            parts_from=1024,
            part_size=1024,
        )
        assert (await client.files.content(result.file_id)).content == data
        assert (await client.files.retrieve(result.file_id)).filename == "big.jsonl"
        job = await client.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18", training_file=result.file_id
        )
        job = await await_job(client, job.id, timeout=60.0)
    assert len(seen) == -(-len(data) // 1024) and seen[-1] == (len(data), len(data))
    assert job.status == "succeeded"


async def test_upload_again_when_the_remote_file_is_gone(emu: Emulator) -> None:
    store = Store()
    async with client_for(emu) as client:
        first = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        await client.files.delete(first.file_id)
        again = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
    assert not again.reused and again.file_id != first.file_id


async def test_create_links_dataset_file_job_and_hyperparameters(emu: Emulator) -> None:
    store = Store()
    spec = jobs.LaunchSpec(
        model="gpt-4o-mini", n_epochs=2, suffix="pl", seed=3, metadata={"team": "a"}
    )
    async with client_for(emu) as client:
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        job = await jobs.create_job(client, store, "emu", spec, training=up)
    assert job.metadata is not None
    assert job.metadata["team"] == "a"
    assert job.metadata[jobs.META_SHA] == up.sha256
    assert job.metadata[jobs.META_FILE] == up.file_id
    assert json.loads(job.metadata[jobs.META_HP])["n_epochs"] == 2
    [record] = await store.jobs("emu")
    assert (record.job_id, record.file_id, record.sha256) == (job.id, up.file_id, up.sha256)


@pytest.mark.parametrize("fault", ["500", "drop"])
async def test_failed_create_never_duplicates_the_job(emu: Emulator, fault: str) -> None:
    store = Store()
    spec = jobs.LaunchSpec(model="gpt-4o-mini", seed=1)
    async with client_for(emu) as client:
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        emu.inject(fault, 1)
        with pytest.raises(jobs.CreateNotConfirmed, match="safe to create it again"):
            await jobs.create_job(client, store, "emu", spec, training=up, sleep=noop_sleep)
        assert emu.store.jobs == {}
        job = await jobs.create_job(client, store, "emu", spec, training=up, sleep=noop_sleep)
    assert list(emu.store.jobs) == [job.id]


async def test_create_finds_the_job_when_the_answer_is_lost(emu: Emulator) -> None:
    """The server creates the job but the reply is lost: found by its launch id, not re-made."""
    store = Store()
    async with client_for(emu) as client:
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        emu.inject("lost-reply", 1)
        job = await jobs.create_job(
            client,
            store,
            "emu",
            jobs.LaunchSpec(model="gpt-4o-mini"),
            training=up,
            sleep=noop_sleep,
        )
    assert list(emu.store.jobs) == [job.id]


async def test_watch_gets_every_event_once_through_faults(emu: Emulator) -> None:
    store = Store()
    seen: list[str] = []
    notices: list[str] = []
    async with client_for(emu) as setup:
        up = await jobs.upload(setup, store, "emu", chat_jsonl(), "a.jsonl")
        job = await jobs.create_job(
            setup, store, "emu", jobs.LaunchSpec(model="gpt-4o-mini"), training=up
        )
    faults = itertools.cycle(["429", "500", "drop"])
    async with client_for(emu, max_retries=0) as client:
        async for update in jobs.watch(client, job.id, interval=0.005, sleep=noop_sleep):
            if update.reconnecting:
                notices.append(update.reconnecting)
                continue
            seen.extend(e.id for e in update.events)
            if update.events:
                emu.inject(next(faults), 1, seconds=0.001)
    final = update.job
    assert final is not None and final.status == "succeeded"
    expected = [e["id"] for e in emu.store.jobs[job.id].events]
    assert seen == expected  # oldest first, none missing, none twice
    assert any("reconnecting" in n and "429" in n for n in notices)
    assert any("cannot reach the API" in n for n in notices)
    assert any("500" in n for n in notices)


async def test_follower_pages_a_long_history_from_newest_back(emu: Emulator) -> None:
    async with client_for(emu) as client:
        store = Store()
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        job = await jobs.create_job(
            client, store, "emu", jobs.LaunchSpec(model="gpt-4o-mini"), training=up
        )
        # The job's runner adds events as it trains: wait until it has ended, so the only
        # events added below are this test's own (under load the runner would interleave).
        await await_job(client, job.id)
        emu_job = emu.store.jobs[job.id]
        follower = jobs.EventFollower(client, job.id)
        follower.limit_max = 7  # force several pages
        first = await follower.fetch_new()
        assert len(first) == len(emu_job.events) > 14  # the whole history, over 3+ pages
        for i in range(30):
            emu_job.event(f"extra {i}")
        more = await follower.fetch_new()
    # Every event once, oldest first (the emulated job may add its own meanwhile).
    fetched = [e.id for e in first + more]
    assert fetched == [e["id"] for e in emu_job.events[: len(fetched)]]
    messages = [e.message for e in more]
    start = messages.index("extra 0")
    assert messages[start : start + 30] == [f"extra {i}" for i in range(30)]


def test_results_parse_plain_and_base64() -> None:
    csv = b"step,train_loss,valid_loss\n1,2.5,\n2,2.0,2.2\n"
    plain = jobs.parse_results(csv)
    assert plain == jobs.parse_results(base64.b64encode(csv))
    assert plain[1] == {"step": "2", "train_loss": "2.0", "valid_loss": "2.2"}


async def test_failed_job_says_code_and_message(emu: Emulator) -> None:
    emu.inject("fail-job", 1)
    async with client_for(emu, max_retries=0) as client:
        store = Store()
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        job = await jobs.create_job(
            client, store, "emu", jobs.LaunchSpec(model="gpt-4o-mini"), training=up
        )
        async for update in jobs.watch(client, job.id, interval=0.005):
            final = update.job
    assert final is not None and final.status == "failed"
    assert "failed: server_error: The job failed" in jobs.failure_text(final)


async def test_401_names_the_env_var(tmp_path: Path) -> None:
    async with Emulator(seed=1, speed=100.0, api_key="sk-right", env_faults=False) as emu:
        note_api_context("work", "WORK_KEY")
        async with openai.AsyncOpenAI(
            api_key="sk-wrong-key-1234", base_url=emu.base_url, max_retries=0
        ) as client:
            with pytest.raises(openai.AuthenticationError) as info:
                await jobs.list_jobs(client)
    message = describe(info.value)
    assert "the API key was refused (401)" in message
    assert "$WORK_KEY" in message and "profile work" in message
    assert "sk-wrong" not in message


async def test_403_on_create_explains_the_wind_down(emu: Emulator) -> None:
    emu.inject("deny-create", 1)
    async with client_for(emu) as client:
        store = Store()
        up = await jobs.upload(client, store, "emu", chat_jsonl(), "a.jsonl")
        with pytest.raises(openai.PermissionDeniedError) as info:
            await jobs.create_job(
                client, store, "emu", jobs.LaunchSpec(model="gpt-4o-mini"), training=up
            )
    message = describe(info.value)
    assert "2027-01-06" in message and "Azure OpenAI or gateway profile" in message


async def test_429_message_says_how_long_to_wait(emu: Emulator) -> None:
    emu.inject("429", 1, seconds=3)
    async with client_for(emu, max_retries=0) as client:
        with pytest.raises(openai.RateLimitError) as info:
            await jobs.list_jobs(client)
    assert (
        "rate limited (429), retries used up; the API asks to wait 3 s and try again"
        in describe(info.value)
    )


async def test_dpo_dataset_launches_a_dpo_job(emu: Emulator, tmp_path: Path) -> None:
    from tui.api.preflight import preflight

    rows = [
        {
            "input": {"messages": [{"role": "user", "content": f"Kot {i}, spać"}]},
            "preferred_output": [{"role": "assistant", "content": f"Kot {i} śpi."}],
            "non_preferred_output": [{"role": "assistant", "content": f"Kot {i} spać."}],
        }
        for i in range(12)
    ]
    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    check = preflight(path, "gpt-4o-mini", split_percent=25, seed=1)
    assert check.method == "dpo" and not check.blocked
    assert check.n_validation == 3
    spec = jobs.LaunchSpec(model=check.model, method="dpo", beta=0.2)
    async with client_for(emu) as client:
        store = Store()
        train = await jobs.upload(client, store, "emu", check.training, check.upload_name)
        held = await jobs.upload(client, store, "emu", check.validation or b"", "v.jsonl")
        assert check.validation is not None and held.sha256 == check.validation.sha256
        job = await jobs.create_job(
            client, store, "emu", spec, training=train, validation_file=held.file_id
        )
    assert job.method is not None and job.method.type == "dpo"
    assert job.method.dpo is not None and job.method.dpo.hyperparameters.beta == 0.2
    assert job.validation_file == held.file_id
