"""Files endpoints through the official SDK, sync and async, bodies validated strictly."""

from __future__ import annotations

import json

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
    validate_page,
)
from openai.types import FileDeleted, FileObject

__all__ = ["aclient", "client", "emu", "server"]  # fixtures


def test_create_retrieve_content_delete(client: openai.OpenAI) -> None:
    data = jsonl(learnable_pairs())
    raw = client.files.with_raw_response.create(
        file=("train.jsonl", data, "application/jsonl"), purpose="fine-tune"
    )
    assert raw.headers["x-request-id"].startswith("req_")
    assert "x-ratelimit-remaining-requests" in raw.headers
    created = strict(FileObject, raw.text)
    assert (created.filename, created.bytes, created.purpose) == (
        "train.jsonl",
        len(data),
        "fine-tune",
    )
    assert created.id.startswith("file-")

    fetched = strict(FileObject, client.files.with_raw_response.retrieve(created.id).text)
    assert fetched == created
    assert client.files.content(created.id).content == data

    deleted = strict(FileDeleted, client.files.with_raw_response.delete(created.id).text)
    assert deleted.deleted and deleted.id == created.id
    with pytest.raises(openai.NotFoundError) as err:
        client.files.retrieve(created.id)
    assert err.value.request_id and err.value.request_id.startswith("req_")


def test_upload_with_expiry(client: openai.OpenAI) -> None:
    created = client.files.create(
        file=("t.jsonl", b"{}\n"),
        purpose="fine-tune",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600


def test_bad_purpose_is_400_with_param(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("t.jsonl", b"{}\n"), purpose="nonsense")  # type: ignore[arg-type]
    assert err.value.param == "purpose"


def test_list_pages_with_cursor_both_orders(client: openai.OpenAI) -> None:
    ids = [
        client.files.create(file=(f"f{i}.jsonl", b"{}\n"), purpose="fine-tune").id for i in range(5)
    ]
    first = validate_page(
        FileObject, client.files.with_raw_response.list(limit=2).text, with_ids=True
    )
    assert [f["id"] for f in first["data"]] == ids[::-1][:2] and first["has_more"] is True
    last = validate_page(
        FileObject,
        client.files.with_raw_response.list(limit=2, after=ids[1]).text,
        with_ids=True,
    )
    assert [f["id"] for f in last["data"]] == [ids[0]] and last["has_more"] is False
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]  # auto-paging
    assert [f.id for f in client.files.list(limit=2, order="asc")] == ids
    assert list(client.files.list(purpose="fine-tune-results")) == []


async def test_async_files(aclient: openai.AsyncOpenAI) -> None:
    ids = [
        (await aclient.files.create(file=(f"a{i}.jsonl", b"{}\n"), purpose="fine-tune")).id
        for i in range(3)
    ]
    assert [f.id async for f in aclient.files.list(limit=1)] == ids[::-1]
    raw = await aclient.files.with_raw_response.retrieve(ids[0])
    assert strict(FileObject, raw.text).id == ids[0]
    content = await aclient.files.content(ids[0])
    assert content.content == b"{}\n"
    deleted = await aclient.files.delete(ids[0])
    assert deleted.deleted
    assert json.loads((await aclient.files.with_raw_response.list()).text)["has_more"] is False
