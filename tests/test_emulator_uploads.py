"""The Uploads API (large files in parts) through the official SDK, and its refusals."""

from __future__ import annotations

import hashlib

import openai
import pytest
from emulator_support import aclient, client, emu, jsonl, learnable_pairs, server, strict, wait_job
from openai.types import Upload
from openai.types.uploads import UploadPart

__all__ = ["aclient", "client", "emu", "server"]  # fixtures

DATA = jsonl(learnable_pairs())


def test_chunked_upload_makes_a_file_a_job_trains_on(client: openai.OpenAI) -> None:
    upload = client.uploads.upload_file_chunked(
        file=DATA, bytes=len(DATA), filename="big.jsonl", mime_type="text/jsonl",
        purpose="fine-tune", part_size=300,
    )  # fmt: skip
    assert upload.status == "completed" and upload.file is not None
    assert (upload.file.filename, upload.file.bytes) == ("big.jsonl", len(DATA))
    assert client.files.content(upload.file.id).content == DATA
    assert upload.file.id in [f.id for f in client.files.list()]
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=upload.file.id)
    assert wait_job(client, job.id).status == "succeeded"


def test_parts_complete_in_the_given_order_with_md5(client: openai.OpenAI) -> None:
    created = client.uploads.with_raw_response.create(
        bytes=len(DATA), filename="t.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    upload = strict(Upload, created.text)
    assert upload.status == "pending" and upload.expires_at == upload.created_at + 3600
    half = len(DATA) // 2
    second = client.uploads.parts.with_raw_response.create(upload.id, data=DATA[half:])
    part_two = strict(UploadPart, second.text)
    part_one = client.uploads.parts.create(upload.id, data=DATA[:half])
    assert part_two.upload_id == upload.id and part_two.object == "upload.part"
    done = client.uploads.complete(
        upload.id, part_ids=[part_one.id, part_two.id], md5=hashlib.md5(DATA).hexdigest()
    )
    assert done.status == "completed" and done.file is not None
    assert client.files.content(done.file.id).content == DATA
    with pytest.raises(openai.BadRequestError) as err:
        client.uploads.parts.create(upload.id, data=b"more")
    assert err.value.param == "upload_id" and "completed" in err.value.message


def test_bytes_must_add_up_and_md5_must_match(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=len(DATA), filename="t.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=DATA[:10])
    with pytest.raises(openai.BadRequestError) as short:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert short.value.param == "part_ids" and "does not match" in short.value.message
    rest = client.uploads.parts.create(upload.id, data=DATA[10:])
    with pytest.raises(openai.BadRequestError) as md5:
        client.uploads.complete(upload.id, part_ids=[part.id, rest.id], md5="0" * 32)
    assert md5.value.param == "md5"
    with pytest.raises(openai.BadRequestError) as twice:
        client.uploads.complete(upload.id, part_ids=[part.id, part.id])
    assert twice.value.param == "part_ids"
    with pytest.raises(openai.BadRequestError) as too_much:
        client.uploads.parts.create(upload.id, data=b"x")
    assert too_much.value.param == "data"
    assert client.uploads.complete(upload.id, part_ids=[part.id, rest.id]).status == "completed"


def test_cancel_then_no_more_parts(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        bytes=5, filename="t.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    assert client.uploads.cancel(upload.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError) as err:
        client.uploads.parts.create(upload.id, data=b"{}\n")
    assert err.value.param == "upload_id"
    with pytest.raises(openai.BadRequestError):
        client.uploads.cancel(upload.id)
    with pytest.raises(openai.NotFoundError) as missing:
        client.uploads.cancel("upload_nope")
    assert missing.value.param == "upload_id"


def test_fine_tune_uploads_must_be_utf8_jsonl(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as name:
        client.uploads.create(bytes=3, filename="t.csv", mime_type="text/csv", purpose="fine-tune")
    assert (name.value.param, name.value.code) == ("filename", "invalid_file_format")
    binary = b"\x00\xff\xfe garbage"
    upload = client.uploads.create(
        bytes=len(binary), filename="t.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=binary)
    with pytest.raises(openai.BadRequestError) as text:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert text.value.code == "invalid_file_format" and "UTF-8" in text.value.message
    assert list(client.files.list()) == []


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"filename": "t.jsonl", "purpose": "fine-tune", "mime_type": "text/jsonl"}, "bytes"),
        ({"bytes": -1, "filename": "t.jsonl", "purpose": "fine-tune", "mime_type": "x"}, "bytes"),
        ({"bytes": 1, "filename": "t.jsonl", "purpose": "nope", "mime_type": "x"}, "purpose"),
        ({"bytes": 1, "filename": "", "purpose": "batch", "mime_type": "x"}, "filename"),
        ({"bytes": 1, "filename": "t.jsonl", "purpose": "batch"}, "mime_type"),
    ],
)
def test_create_refusals_name_the_param(
    client: openai.OpenAI, fields: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.post("/uploads", body=fields, cast_to=Upload)
    assert err.value.param == param


async def test_async_parts_in_parallel(aclient: openai.AsyncOpenAI) -> None:
    import asyncio

    upload = await aclient.uploads.create(
        bytes=len(DATA), filename="t.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    chunks = [DATA[i : i + 200] for i in range(0, len(DATA), 200)]
    parts = await asyncio.gather(*(aclient.uploads.parts.create(upload.id, data=c) for c in chunks))
    done = await aclient.uploads.complete(upload.id, part_ids=[p.id for p in parts])
    assert done.file is not None
    assert (await aclient.files.content(done.file.id)).content == DATA
