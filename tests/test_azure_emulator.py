"""`emulator --azure` over real HTTP with the official SDK: Azure's classic API (AzureOpenAI
with api_version) and the v1 API (plain OpenAI on /openai/v1/), api-key auth, trainingType,
Azure's error shapes, and chat by deployment name."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from azure_support import ARM, KEY, classic_client, import_states, train
from emulator_support import FAST, jsonl, learnable_pairs

from tui.emulator import EmulatorThread


@pytest.fixture
def azure() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=1, speed=FAST, api_key=KEY, env_faults=False, azure=True) as emu:
        yield emu


def classic(emu: EmulatorThread, **kwargs: Any) -> openai.AzureOpenAI:
    return classic_client(emu, **kwargs)


def v1(emu: EmulatorThread, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{emu.root_url}/openai/v1/", api_key=key, max_retries=0)


def http(
    emu: EmulatorThread, method: str, path: str, body: Any = None, token: str = "arm-token"
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emu.root_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def deploy(emu: EmulatorThread, name: str, model: str) -> dict[str, Any]:
    body = {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}},
    }
    status, created = http(emu, "PUT", f"{ARM}/deployments/{name}?api-version=2024-10-21", body)
    assert status == 201, created
    return created


def test_classic_client_uploads_trains_with_training_type_and_succeeds(
    azure: EmulatorThread,
) -> None:
    with classic(azure) as client:
        job = train(client, "globalstandard")
        assert job.status == "succeeded" and job.fine_tuned_model
        assert client.fine_tuning.jobs.retrieve(job.id).model_extra["trainingType"] == (
            "globalstandard"
        )
    assert azure.emulator.azure is not None
    assert azure.emulator.azure.credentials[-1] == KEY  # sent as the api-key header


def test_v1_client_uploads_trains_with_training_type_and_succeeds(azure: EmulatorThread) -> None:
    with v1(azure) as client:
        job = train(client, "developer")
        assert job.status == "succeeded" and job.fine_tuned_model


def test_unknown_training_type_is_refused_in_azures_shape(azure: EmulatorThread) -> None:
    with v1(azure) as client:
        uploaded = client.files.create(
            file=("p.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
        )
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.create(
                model="gpt-4.1-mini-2025-04-14",
                training_file=uploaded.id,
                extra_body={"trainingType": "premium"},
            )
    assert caught.value.body["code"] == "invalidPayload"
    assert "standard, globalstandard, developer" in str(caught.value)


def test_missing_api_version_is_404_and_unknown_is_400(azure: EmulatorThread) -> None:
    status, body = http(azure, "GET", "/openai/fine_tuning/jobs", token=KEY)
    assert (status, body) == (404, {"error": {"code": "404", "message": "Resource not found"}})
    with (
        classic(azure, api_version="1999-01-01") as client,
        pytest.raises(openai.BadRequestError, match="API version not supported"),
    ):
        client.fine_tuning.jobs.list()


def test_wrong_or_missing_key_is_azures_401(azure: EmulatorThread) -> None:
    with (
        classic(azure, api_key="wrong-key") as client,
        pytest.raises(
            openai.AuthenticationError, match="Access denied due to invalid subscription key"
        ),
    ):
        client.models.list()
    with v1(azure, key="wrong-key") as client, pytest.raises(openai.AuthenticationError):
        client.models.list()
    status, _ = http(azure, "GET", "/openai/v1/models", token="")
    assert status == 401


def test_tuned_model_answers_by_deployment_name_only_once_deployed(azure: EmulatorThread) -> None:
    with classic(azure) as client:
        job = train(client, "standard")
        model = job.fine_tuned_model
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(
                model="grammar", messages=[{"role": "user", "content": "kot, spać, dom"}]
            )
        assert caught.value.body["code"] == "DeploymentNotFound"
        deploy(azure, "grammar", model)
        status, got = http(azure, "GET", f"{ARM}/deployments/grammar?api-version=2024-10-21")
        assert status == 200 and got["properties"]["provisioningState"] in ("Creating", "Succeeded")
        for _ in range(200):  # bounded: provisioning takes 3 s / FAST
            state = http(azure, "GET", f"{ARM}/deployments/grammar?api-version=2024-10-21")[1]
            if state["properties"]["provisioningState"] == "Succeeded":
                break
        else:
            pytest.fail("deployment never succeeded")
        reply = client.chat.completions.create(
            model="grammar", messages=[{"role": "user", "content": "kot, spać, dom, numer 0"}]
        )
        assert reply.model == model
        assert reply.choices[0].message.content == "Kot śpi w domu."
    with v1(azure) as client:
        stream = client.chat.completions.create(
            model="grammar",
            messages=[{"role": "user", "content": "kot, spać, dom, numer 0"}],
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "Kot śpi w domu."


def test_arm_refuses_unknown_models_bad_versions_and_missing_tokens(
    azure: EmulatorThread,
) -> None:
    body = {
        "sku": {"name": "DeveloperTier", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-9-ft-nope", "version": "1"}},
    }
    status, error = http(azure, "PUT", f"{ARM}/deployments/x1?api-version=2024-10-21", body)
    assert status == 400 and error["error"]["code"] == "DeploymentModelNotSupported"
    assert "gpt-9-ft-nope" in error["error"]["message"]
    status, error = http(azure, "GET", f"{ARM}/deployments?api-version=2020-01-01")
    assert status == 400 and error["error"]["code"] == "InvalidApiVersionParameter"
    status, error = http(azure, "GET", f"{ARM}/deployments?api-version=2024-10-21", token="")
    assert status == 401 and error["error"]["code"] == "AuthenticationFailed"
    deploy(azure, "base-dev", "gpt-4.1-mini-2025-04-14")
    status, listed = http(azure, "GET", f"{ARM}/deployments?api-version=2025-06-01")
    assert status == 200 and [d["name"] for d in listed["value"]] == ["base-dev"]
    assert http(azure, "DELETE", f"{ARM}/deployments/base-dev?api-version=2024-10-01")[0] == 200
    assert http(azure, "GET", f"{ARM}/deployments?api-version=2024-10-21")[1] == {"value": []}


def test_tuned_models_and_checkpoints_are_named_as_azure_names_them(
    azure: EmulatorThread,
) -> None:
    """`BASE.ft-<32 hex>`; earlier checkpoints `BASE.ft-<32 hex>:ckpt-step-N`, the final
    epoch's checkpoint is the model itself (Microsoft Learn's fine-tuning tutorial)."""
    with classic(azure) as client:
        job = train(client)
        model = str(job.fine_tuned_model)
        assert re.fullmatch(r"gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}", model), model
        checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
        names = [c.fine_tuned_model_checkpoint for c in checkpoints]  # newest first
        assert names[0] == model
        steps = [c.step_number for c in checkpoints[1:]]
        assert names[1:] == [f"{model}:ckpt-step-{step}" for step in steps] and steps
        listed = {m.id for m in client.models.list()}
        assert set(names) <= listed
        assert client.models.retrieve(names[-1]).id == names[-1]
        further = client.fine_tuning.jobs.create(model=model, training_file=job.training_file)
        assert further.model == "gpt-4.1-mini-2025-04-14"  # trains on the same base
        client.fine_tuning.jobs.cancel(further.id)


def test_files_import_before_a_job_may_use_them(azure: EmulatorThread) -> None:
    """pending → running → processed (or error with status_details); a job on a file
    that is not processed is refused, as Azure refuses it."""
    with v1(azure) as client:
        good = client.files.create(
            file=("pairs.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
        )
        assert good.status == "pending"
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=good.id)
        assert caught.value.body["code"] == "invalidPayload"
        assert f"'{good.id}' is in 'pending' state" in caught.value.body["message"]
        listed = {f.id: f.status for f in client.files.list()}
        assert listed[good.id] == "pending"  # listing does not move it on
        assert import_states(client, good.id) == ["running", "processed"]
        job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=good.id)
        client.fine_tuning.jobs.cancel(job.id)

        bad = client.files.create(
            file=("broken.jsonl", b'{"messages": [}\nnot json at all\n'), purpose="fine-tune"
        )
        assert bad.status == "pending"
        assert import_states(client, bad.id) == ["running", "error"]
        details = client.files.retrieve(bad.id).status_details
        assert details and details.startswith("The file could not be imported: Line 1")
        with pytest.raises(openai.BadRequestError, match="is in 'error' state"):
            client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=bad.id)


def test_a_model_azure_cannot_tune_is_refused_in_azures_words(azure: EmulatorThread) -> None:
    with v1(azure) as client:
        uploaded = client.files.create(
            file=("pairs.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
        )
        import_states(client, uploaded.id)
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.create(model="gpt-4-0613", training_file=uploaded.id)
    assert caught.value.body == {
        "code": "invalidPayload",
        "message": "The specified base model does not support fine-tuning.",
    }


def test_a_job_that_has_not_started_is_pending_as_on_azure(azure: EmulatorThread) -> None:
    """Azure words a job before it runs `pending` (OpenAI: validating_files, queued); the
    app colours it as waiting and counts it among the active jobs."""
    from tui.screens.jobs import ACTIVE, status_text

    with v1(azure) as client:
        uploaded = client.files.create(
            file=("pairs.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
        )
        import_states(client, uploaded.id)
        job = client.fine_tuning.jobs.create(
            model="gpt-4.1-mini-2025-04-14", training_file=uploaded.id
        )
        assert job.status == "pending"
        seen = {j.status for j in client.fine_tuning.jobs.list()}
        assert not seen & {"validating_files", "queued"}  # never OpenAI's words
        client.fine_tuning.jobs.cancel(job.id)
    assert "pending" in ACTIVE and status_text("pending").style == "yellow"
