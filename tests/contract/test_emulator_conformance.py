"""Schemathesis against the emulator, with the vendored OpenAPI subset (`openapi.yaml`).

Every generated request (valid and invalid bodies, parameters, paths) gets either a 2xx whose
body conforms to the spec, or a 4xx in the API's error shape; never a 5xx; and the server keeps
serving. Bounded: a few examples per operation, derandomized, so it is quick and reproducible.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema_rs
import pytest
import schemathesis
import yaml
from emulator_support import chat_line
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.config import ProjectConfig, ProjectsConfig, SchemathesisConfig

from tui.emulator import EmulatorThread

SPEC = Path(__file__).with_name("openapi.yaml")
AUTH = {"Authorization": "Bearer k"}
# The emulator does not run reinforcement fine-tuning, so it has no grader endpoints.
NOT_EMULATED = ("runGrader", "validateGrader")
ERROR_STATUSES = {400, 401, 403, 404, 405, 409, 413, 415, 422, 429}
MAX_EXAMPLES = 12


def _as_openapi_31(node: Any) -> Any:
    """The subset keeps two OpenAPI 3.0 habits of upstream's spec inside a 3.1 document:
    `exclusiveMinimum: true` next to `minimum` (3.1 wants the bound there) and
    `nullable: true` (3.1 spells it as a null alternative). The spec is vendored verbatim,
    so they are fixed on load, for schemathesis and for the SSE chunk check alike."""
    if isinstance(node, list):
        return [_as_openapi_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {key: _as_openapi_31(value) for key, value in node.items()}
    if fixed.get("exclusiveMinimum") is True and "minimum" in fixed:
        fixed["exclusiveMinimum"] = fixed.pop("minimum")
    elif isinstance(fixed.get("exclusiveMinimum"), bool):
        fixed.pop("exclusiveMinimum")
    if fixed.pop("nullable", False) is True:
        return {"anyOf": [fixed, {"type": "null"}]}
    return fixed


def _load() -> dict[str, Any]:
    spec = _as_openapi_31(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
    # An empty file list has no first or last id: null, as the spec's newer list schemas
    # (checkpoints, permissions) say, where ListFilesResponse still demands a string.
    schemas = spec["components"]["schemas"]
    files = schemas["ListFilesResponse"]["properties"]
    for key in ("first_id", "last_id"):
        files[key] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    # A file created with purpose `evals` (CreateFileRequest allows it) is a file of that purpose.
    schemas["OpenAIFile"]["properties"]["purpose"]["enum"].append("evals")
    return spec


SPEC_DOC = _load()
# Streams are read to the end (schemathesis stops after 20 events unless told).
WHOLE_STREAMS = SchemathesisConfig(
    projects=ProjectsConfig(default=ProjectConfig(max_stream_events=20_000))
)
schema = schemathesis.openapi.from_dict(SPEC_DOC, config=WHOLE_STREAMS).exclude(
    operation_id=list(NOT_EMULATED)
)
CHUNK = jsonschema_rs.validator_for(
    {
        "$ref": "#/components/schemas/CreateChatCompletionStreamResponse",
        "components": SPEC_DOC["components"],
    }
)


def _stream_shape(text: str) -> None:
    """Each SSE event's data is a chunk the spec describes, and `[DONE]` ends the stream
    (schemathesis checks the event envelope, not its data, against the schema)."""
    events = text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""], events[-3:]
    for event in events[:-2]:
        assert event.startswith("data: ") and "\n" not in event, event[:200]
        chunk = json.loads(event.removeprefix("data: "))
        errors = [f"{e.message} at {list(e.instance_path)}" for e in CHUNK.iter_errors(chunk)]
        assert not errors, (errors, chunk)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(seed=0, speed=1000.0, env_faults=False) as emu:
        yield emu


@pytest.fixture(scope="module")
def training_file(emulator: EmulatorThread) -> str:
    lines = [chat_line(f"kot {i}", f"Kot {i}.") for i in range(10)]
    uploaded = httpx2.post(
        f"{emulator.base_url}/files",
        headers=AUTH,
        files={"file": ("t.jsonl", "\n".join(lines).encode())},
        data={"purpose": "fine-tune"},
    )
    return str(uploaded.json()["id"])


@pytest.fixture
def still_serving(emulator: EmulatorThread) -> Iterator[None]:
    """After all of an operation's requests, the server still answers."""
    yield
    alive = httpx2.get(f"{emulator.base_url}/files", headers=AUTH, timeout=30)
    assert alive.status_code == 200 and alive.json()["object"] == "list"


def _error_shape(response: Any) -> None:
    """A refusal is a 4xx the SDK maps to its exception classes, with the API's error body."""
    assert response.status_code in ERROR_STATUSES, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)


def _aim(case: schemathesis.Case, training_file: str) -> None:
    """Point a generated body at what the emulator has, so it reaches the code that answers
    (and its 200 bodies get checked) instead of stopping at a 404 for a random model name.
    Missing or mistyped values stay as generated; jobs are created from fuzzed bodies only,
    which keeps their number (and the training they start) small."""
    body = case.body
    if isinstance(body.get("model"), str):
        body["model"] = "gpt-4o-mini"
    fuzzing = case.meta is not None and case.meta.phase.name == "fuzzing"
    if fuzzing and isinstance(body.get("training_file"), str):
        body["training_file"] = training_file
    # Couplings the schema cannot express: top_logprobs needs logprobs, stream_options stream.
    # (tests/test_emulator_chat_options.py checks the refusals when they are not met).
    if body.get("top_logprobs") is not None and body.get("logprobs") in (None, False):
        body["logprobs"] = True
    if body.get("stream_options") is not None and body.get("stream") in (None, False):
        body["stream"] = True


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_response_conforms(
    case: schemathesis.Case, emulator: EmulatorThread, training_file: str, still_serving: None
) -> None:
    if isinstance(case.body, dict):
        _aim(case, training_file)
    response = case.call(base_url=emulator.base_url, headers=AUTH, timeout=30)
    content_type = (response.headers.get("content-type") or [""])[0]  # header -> values
    if response.status_code < 300 and content_type.startswith("text/event-stream"):
        _stream_shape(response.text)
    elif response.status_code < 300:
        case.validate_response(
            response,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )
    else:
        _error_shape(response)
