"""Errors map to the SDK's exception classes; retries honour retry-after; faults at runtime."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from emulator_support import FAST, aclient, client, emu, server

from tui.emulator import Emulator, EmulatorThread
from tui.emulator.faults import Faults, FaultSpecError, parse_spec

__all__ = ["aclient", "client", "emu", "server"]  # fixtures


def test_no_key_is_401_with_the_real_body(server: EmulatorThread) -> None:
    response = httpx2.get(f"{server.base_url}/models")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["message"].startswith("You didn't provide an API key.")
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, None)
    assert response.headers["x-request-id"].startswith("req_")
    no_key = {"Authorization": "Bearer"}  # the SDK itself refuses an empty api_key
    with (
        openai.OpenAI(
            base_url=server.base_url, api_key="k", default_headers=no_key, max_retries=0
        ) as c,
        pytest.raises(openai.AuthenticationError) as err,
    ):
        c.models.list()
    assert err.value.status_code == 401 and err.value.request_id


def test_wrong_key_when_a_key_is_required() -> None:
    with EmulatorThread(api_key="sk-right-key-123", env_faults=False) as emu:
        with (
            openai.OpenAI(base_url=emu.base_url, api_key="sk-wrong-key-456", max_retries=0) as c,
            pytest.raises(openai.AuthenticationError) as err,
        ):
            c.models.list()
        assert err.value.code == "invalid_api_key"
        assert "sk-wrong-key-456" not in str(err.value)
        with openai.OpenAI(base_url=emu.base_url, api_key="sk-right-key-123") as c:
            assert c.models.list().data


def test_error_classes_and_fields(server: EmulatorThread, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        client.fine_tuning.jobs.retrieve("ftjob-nope")
    assert not_found.value.param == "fine_tune_id" and not_found.value.request_id
    assert not_found.value.code == "fine_tune_not_found"
    assert not_found.value.body["message"] == "Could not find fine tune: ftjob-nope"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError) as no_file:
        client.files.retrieve("file-nope")
    assert no_file.value.param == "id"
    assert no_file.value.body["message"] == "No such File object: file-nope"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as bad:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-nope")
    assert bad.value.param == "training_file" and bad.value.type == "invalid_request_error"

    server.inject("429", count=1)
    with pytest.raises(openai.RateLimitError) as limited:
        client.models.list()
    assert limited.value.code == "rate_limit_exceeded" and limited.value.type == "requests"
    assert limited.value.request_id and limited.value.request_id.startswith("req_")
    headers = limited.value.response.headers
    assert headers["retry-after-ms"] == "50" and headers["retry-after"] == "1"
    assert "x-ratelimit-limit-requests" in headers

    server.inject("500", count=1)
    with pytest.raises(openai.InternalServerError) as failed:
        client.models.list()
    assert failed.value.status_code == 500 and failed.value.type == "server_error"
    assert client.models.list().data  # faults are used up


def test_unknown_url_is_a_json_404(server: EmulatorThread) -> None:
    response = httpx2.get(f"{server.base_url}/nothing", headers={"Authorization": "Bearer k"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/nothing)"


def test_sdk_retries_429_honouring_retry_after(server: EmulatorThread) -> None:
    retry_counts: list[str] = []

    def record(request: httpx2.Request) -> None:
        retry_counts.append(request.headers["x-stainless-retry-count"])

    http = openai.DefaultHttpxClient(event_hooks={"request": [record]})
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=2, http_client=http) as c:
        server.inject("429", count=1, seconds=0.01)
        assert c.models.list().data
        assert retry_counts == ["0", "1"]
        retry_counts.clear()
        server.inject("500", count=1)  # no retry-after: the SDK's own backoff (~0.5 s)
        assert c.models.list().data
        assert retry_counts == ["0", "1"]
        retry_counts.clear()
        server.inject("429", count=3, seconds=0.01)
        with pytest.raises(openai.RateLimitError):
            c.models.list()
        assert retry_counts == ["0", "1", "2"]


async def test_async_retry_and_errors(emu: Emulator) -> None:
    async with openai.AsyncOpenAI(base_url=emu.base_url, api_key="k", max_retries=1) as c:
        emu.inject("429", count=1, seconds=0.01)
        assert (await c.models.list()).data
        with pytest.raises(openai.NotFoundError) as err:
            await c.files.retrieve("file-nope")
        assert err.value.request_id


async def test_slow_fault_delays_responses(aclient: openai.AsyncOpenAI, emu: Emulator) -> None:
    import time

    emu.inject("slow", count=1, seconds=0.2)
    started = time.monotonic()
    await aclient.models.list()
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await aclient.models.list()
    assert time.monotonic() - started < 0.2


def test_faults_from_constructor_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEBENCH_EMULATOR_FAULTS", "500:1")
    with (
        EmulatorThread(faults=["429:1"], speed=FAST) as emu,
        openai.OpenAI(base_url=emu.base_url, api_key="k", max_retries=0) as c,
    ):
        with pytest.raises(openai.RateLimitError):
            c.models.list()
        with pytest.raises(openai.InternalServerError):
            c.models.list()
        assert c.models.list().data


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("429:3", ("429", 3, 0.05)),
        ("429:2:1.5", ("429", 2, 1.5)),
        ("500:2", ("500", 2, 0.05)),
        ("slow:0.5", ("slow", -1, 0.5)),
        ("slow:0.5:2", ("slow", 2, 0.5)),
        ("cut-stream", ("cut-stream", 1, 0.05)),
        ("fail-job:2", ("fail-job", 2, 0.05)),
    ],
)
def test_parse_spec(spec: str, parsed: tuple[str, int, float]) -> None:
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["boom", "429", "429:x", "slow", "500:-1", "429:1:2:3"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        Faults([spec])


def test_error_body_shape(server: EmulatorThread) -> None:
    response = httpx2.post(
        f"{server.base_url}/chat/completions",
        content=b"{not json",
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert set(json.loads(response.text)["error"]) == {"message", "type", "param", "code"}
