"""Chat completions (plain and SSE) and models through the official SDK."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from emulator_support import (
    aclient,
    client,
    emu,
    jsonl,
    learnable_pairs,
    server,
    strict,
    wait_job,
)
from openai.types import Model, ModelDeleted
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tui.emulator import EmulatorThread

__all__ = ["aclient", "client", "emu", "server"]  # fixtures

PAIRS = learnable_pairs()


@pytest.fixture
def tuned(client: openai.OpenAI) -> str:
    file_id = client.files.create(file=("t.jsonl", jsonl(PAIRS)), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini", training_file=file_id, hyperparameters={"n_epochs": 3}
    )
    done = wait_job(client, job.id)
    assert done.fine_tuned_model
    return done.fine_tuned_model


def ask(text: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "Popraw gramatykę zdania."},
        {"role": "user", "content": text},
    ]


def test_tuned_model_answers_with_the_nearest_example(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[3]
    raw = client.chat.completions.with_raw_response.create(model=tuned, messages=ask(prompt))
    completion = strict(ChatCompletion, raw.text)
    assert completion.choices[0].message.content == answer
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == tuned
    usage = completion.usage
    assert usage and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0
    near = client.chat.completions.create(model=tuned, messages=ask(prompt.upper() + " ?"))
    assert near.choices[0].message.content == answer


def test_checkpoint_model_answers_too(client: openai.OpenAI, tuned: str) -> None:
    job_id = next(iter(client.fine_tuning.jobs.list())).id
    checkpoint = next(iter(client.fine_tuning.jobs.checkpoints.list(job_id)))
    reply = client.chat.completions.create(
        model=checkpoint.fine_tuned_model_checkpoint, messages=ask(PAIRS[0][0])
    )
    assert reply.choices[0].message.content == PAIRS[0][1]


def test_base_model_gives_a_generic_answer(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=ask(PAIRS[0][0]))
    assert reply.model == "gpt-4o-mini-2024-07-18"
    text = reply.choices[0].message.content or ""
    assert "not been fine-tuned" in text and PAIRS[0][1] not in text


def test_max_tokens_cuts_with_length(client: openai.OpenAI, tuned: str) -> None:
    reply = client.chat.completions.create(
        model=tuned, messages=ask(PAIRS[0][0]), max_completion_tokens=2
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage and reply.usage.completion_tokens == 2


def test_stream_with_usage_sdk(client: openai.OpenAI, tuned: str) -> None:
    prompt, answer = PAIRS[5]
    stream = client.chat.completions.create(
        model=tuned, messages=ask(prompt), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 2
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == len(chunks) - 3  # role, finish, usage


async def test_stream_async_without_usage(aclient: openai.AsyncOpenAI) -> None:
    stream = await aclient.chat.completions.create(
        model="gpt-4o-mini", messages=ask("hej"), stream=True
    )
    chunks = [c async for c in stream]
    assert all(c.usage is None for c in chunks) and chunks[-1].choices
    assert "hej" in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_raw_sse_wire_format(server: EmulatorThread, tuned: str) -> None:
    """Every event is `data: <json>` ending in a blank line; each chunk validates strictly."""
    body = {
        "model": tuned,
        "messages": ask(PAIRS[1][0]),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = httpx2.post(
        f"{server.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer k"}
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [strict(ChatCompletionChunk, e.removeprefix("data: ")) for e in events[:-2]]
    assert all(e.startswith("data: ") and "\n" not in e for e in events[:-1])
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all("usage" in json.loads(e.removeprefix("data: ")) for e in events[:-2])
    assert chunks[-1].usage is not None and chunks[-1].choices == []


def test_cut_stream_fault_breaks_the_stream(
    server: EmulatorThread, client: openai.OpenAI, tuned: str
) -> None:
    server.inject("cut-stream")
    stream = client.chat.completions.create(model=tuned, messages=ask(PAIRS[0][0]), stream=True)
    received: list[str] = []
    with pytest.raises((httpx2.HTTPError, openai.APIError)):
        received.extend(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "".join(received) != PAIRS[0][1]
    ok = client.chat.completions.create(model=tuned, messages=ask(PAIRS[0][0]), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in ok if c.choices) == PAIRS[0][1]


def test_unknown_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="ft:gpt-4o-mini:x::nope", messages=ask("a"))
    assert err.value.code == "model_not_found"
    assert err.value.type == "invalid_request_error"


def test_missing_messages_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert err.value.param == "messages"


def test_models_list_retrieve_delete(client: openai.OpenAI, tuned: str) -> None:
    raw = client.models.with_raw_response.list()
    body = json.loads(raw.text)
    assert body["object"] == "list" and body["has_more"] is False
    models = [strict(Model, m) for m in body["data"]]
    ids = [m.id for m in models]
    assert "gpt-4o-mini-2024-07-18" in ids and tuned in ids
    assert sum(1 for i in ids if i.startswith(tuned + ":ckpt-step-")) == 3
    assert strict(Model, client.models.with_raw_response.retrieve(tuned).text).id == tuned
    base = client.models.retrieve("gpt-4.1-mini-2025-04-14")
    assert base.owned_by == "system"
    alias = strict(Model, client.models.with_raw_response.retrieve("gpt-4o-mini").text)
    assert (alias.id, alias.owned_by, alias.object) == ("gpt-4o-mini", "system", "model")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o-mini-2099-01-01")
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("gpt-4o-mini-2024-07-18")
    deleted = strict(ModelDeleted, client.models.with_raw_response.delete(tuned).text)
    assert deleted.deleted and deleted.id == tuned
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve(tuned)
    assert err.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=tuned, messages=ask("a"))


async def test_async_models_and_chat(aclient: openai.AsyncOpenAI) -> None:
    page = await aclient.models.list()
    assert any(m.id == "gpt-4o-2024-08-06" for m in page.data)
    reply = await aclient.chat.completions.create(model="gpt-4o", messages=ask("cześć"))
    assert reply.choices[0].message.content
