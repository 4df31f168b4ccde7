"""Bad requests get a 4xx in the API's error shape, never a 500, and the server keeps serving.

Raw HTTP (httpx) for what the SDK cannot send; the SDK where it can.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import httpx2
import openai
import pytest
from emulator_support import FAST, client, jsonl, learnable_pairs, server

from tui.emulator import EmulatorThread

__all__ = ["client", "server"]  # fixtures

AUTH = {"Authorization": "Bearer k"}
BOUNDARY = "XyZzy"
MULTIPART = {**AUTH, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def http(server: EmulatorThread) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.base_url, headers=AUTH, timeout=30) as c:
        yield c


def api_error(response: httpx2.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


def still_serving(http: httpx2.Client) -> None:
    files = http.get("/files")
    assert files.status_code == 200 and files.json()["object"] == "list"
    models = http.get("/models")
    assert models.status_code == 200


def form(*parts: bytes) -> bytes:
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n"


PURPOSE = b'Content-Disposition: form-data; name="purpose"\r\n\r\nfine-tune'


def test_non_utf8_filename_is_stored_readably_and_files_keep_listing(
    http: httpx2.Client,
) -> None:
    part = (
        b'Content-Disposition: form-data; name="file"; filename="tr\xff\xfein.jsonl"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n{}\n"
    )
    created = http.post("/files", content=form(PURPOSE, part), headers=MULTIPART)
    assert created.status_code == 200, created.text
    assert created.json()["filename"] == "tr\ufffd\ufffdin.jsonl"
    listed = http.get("/files")
    assert listed.status_code == 200
    assert [f["filename"] for f in listed.json()["data"]] == ["tr\ufffd\ufffdin.jsonl"]
    still_serving(http)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary given"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"--" + BOUNDARY.encode() + b"\r\ngarbage"),
        (f"multipart/form-data; boundary={BOUNDARY}", b"not even a delimiter"),
        (f"multipart/form-data; boundary={BOUNDARY}", form(b"no headers, no blank line")),
        (
            f"multipart/form-data; boundary={BOUNDARY}",
            form(b'Content-Disposition: form-data; name="purpose"\r\n\r\nfine\xff-tune'),
        ),
        ("application/json", b'{"purpose": "fine-tune"}'),
    ],
)
def test_malformed_multipart_is_400(http: httpx2.Client, content_type: str, body: bytes) -> None:
    response = http.post("/files", content=body, headers={"Content-Type": content_type})
    error = api_error(response, 400)
    assert error["type"] == "invalid_request_error"
    still_serving(http)


@pytest.mark.parametrize(
    ("content_type", "body", "says"),
    [
        ("text/plain", b'{"model": "gpt-4o-mini", "messages": []}', "Unsupported content type"),
        ("application/x-www-form-urlencoded", b"model=gpt-4o-mini", "Unsupported content type"),
        ("application/json", b"{not json", "could not parse the JSON body"),
        ("application/json", b"[1, 2]", "could not parse the JSON body"),
        ("application/json", b'{"model": NaN}', "could not parse the JSON body"),
        ("application/json", b"\xff\xfe{}", "could not parse the JSON body"),
        ("application/json", b"[" * 100_000, "could not parse the JSON body"),
        ("application/json", b"", "could not parse the JSON body"),
    ],
)
@pytest.mark.parametrize("path", ["/chat/completions", "/fine_tuning/jobs"])
def test_unusable_json_bodies_are_400(
    http: httpx2.Client, path: str, content_type: str, body: bytes, says: str
) -> None:
    response = http.post(path, content=body, headers={"Content-Type": content_type})
    error = api_error(response, 400)
    assert says in str(error["message"])
    still_serving(http)


def test_random_binary_is_refused_for_fine_tuning(http: httpx2.Client) -> None:
    noise = random.Random(0).randbytes(50 * 1024 * 1024)
    response = http.post(
        "/files", files={"file": ("big.jsonl", noise)}, data={"purpose": "fine-tune"}
    )
    error = api_error(response, 400)
    assert (error["param"], error["code"]) == ("file", "invalid_file_format")
    assert "UTF-8" in str(error["message"]) and "line 1" in str(error["message"])
    assert http.get("/files").json()["data"] == []
    still_serving(http)


def test_non_jsonl_name_is_refused_for_fine_tuning_only(client: openai.OpenAI) -> None:
    data = jsonl(learnable_pairs())
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("train.csv", data), purpose="fine-tune")
    assert err.value.param == "file" and err.value.code == "invalid_file_format"
    assert "Must be .jsonl" in err.value.message
    kept = client.files.create(file=("notes.txt", b"\xff binary is fine here"), purpose="user_data")
    assert kept.filename == "notes.txt"


def test_lone_surrogates_in_json_never_break_later_listings(http: httpx2.Client) -> None:
    created = http.post(
        "/files",
        files={"file": ("t.jsonl", jsonl(learnable_pairs()))},
        data={"purpose": "fine-tune"},
    ).json()
    body = json.dumps(
        {
            "model": "gpt-4o-mini",
            "training_file": created["id"],
            "suffix": "s\ud800",
            "metadata": {"k\udfff": "v\ud800"},
        }
    )  # ensure_ascii: the lone surrogates travel as \u escapes, valid JSON
    job = http.post("/fine_tuning/jobs", content=body, headers={"Content-Type": "application/json"})
    assert job.status_code == 200, job.text
    listed = http.get("/fine_tuning/jobs")
    assert listed.status_code == 200
    assert json.loads(listed.text)["data"][0]["metadata"] == {"k\udfff": "v\ud800"}
    chat = http.post(
        "/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
    )
    assert chat.status_code == 200
    surrogate = http.post(
        "/chat/completions",
        content='{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud800"}]}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 200
    still_serving(http)


def test_wrong_method_and_unknown_path_are_json(http: httpx2.Client) -> None:
    assert api_error(http.put("/files"), 405)["message"] == "Invalid method for URL (PUT /v1/files)"
    assert api_error(http.get("/nope/x"), 404)["message"] == "Invalid URL (GET /v1/nope/x)"
    still_serving(http)


def test_upload_over_the_size_limit_is_413_and_the_server_lives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.emulator import http as shared_http

    monkeypatch.setattr(shared_http, "MAX_UPLOAD", 1024)
    with (
        EmulatorThread(seed=0, speed=FAST, env_faults=False) as emu,
        httpx2.Client(base_url=emu.base_url, headers=AUTH) as http,
    ):
        big = http.post(
            "/files", files={"file": ("t.jsonl", b"{}\n" * 1000)}, data={"purpose": "fine-tune"}
        )
        api_error(big, 413)
        still_serving(http)
