"""Helpers shared by the emulator tests: datasets, raw-JSON validation, bounded polling."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tui.emulator import Emulator, EmulatorThread

TERMINAL = ("succeeded", "failed", "cancelled")
SYSTEM = "Popraw gramatykę zdania."
FAST = 1000.0  # emulator speed for tests: a small job takes well under a second


def chat_line(user: str, assistant: str, system: str = SYSTEM) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
                {"role": "assistant", "content": assistant},
            ]
        },
        ensure_ascii=False,
    )


def learnable_pairs(n: int = 12) -> list[tuple[str, str]]:
    """Pairs with regular answers (a bigram model can learn them) and distinct prompts."""
    animals = [
        "kot",
        "pies",
        "koń",
        "lis",
        "wilk",
        "ptak",
        "żółw",
        "jeż",
        "zając",
        "dzik",
        "łoś",
        "bóbr",
        "kret",
        "sowa",
        "mysz",
        "osa",
    ]
    return [
        (f"{a}, spać, dom, numer {i}", f"{a.capitalize()} śpi w domu.")
        for i, a in enumerate(animals[:n])
    ]


def jsonl(pairs: list[tuple[str, str]]) -> bytes:
    return ("\n".join(chat_line(u, a) for u, a in pairs) + "\n").encode()


def strict(model: type[BaseModel], raw: Any) -> Any:
    """Validate raw JSON (text or parsed) against an SDK type the strict way, not construct()."""
    data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return model.model_validate(data)


def validate_page(model: type[BaseModel], text: str, *, with_ids: bool) -> dict[str, Any]:
    """A cursor-page envelope: object=list, has_more always present, items valid."""
    body = json.loads(text)
    assert body["object"] == "list"
    assert isinstance(body["has_more"], bool)
    for item in body["data"]:
        strict(model, item)
    if with_ids:
        assert body["first_id"] == (body["data"][0]["id"] if body["data"] else None)
        assert body["last_id"] == (body["data"][-1]["id"] if body["data"] else None)
    return body


def wait_job(
    client: openai.OpenAI, job_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 10.0
) -> Any:
    """Poll until the job reaches one of `statuses`; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"job stuck in {job.status}"
        time.sleep(0.005)


async def await_job(
    client: openai.AsyncOpenAI,
    job_id: str,
    statuses: tuple[str, ...] = TERMINAL,
    timeout: float = 10.0,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = await client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"job stuck in {job.status}"
        await asyncio.sleep(0.005)


# -- fixtures (imported by the emulator test modules) -------------------------------------------


@pytest.fixture
async def emu():
    async with Emulator(seed=0, speed=FAST, env_faults=False) as emulator:
        yield emulator


@pytest.fixture
async def aclient(emu):
    async with openai.AsyncOpenAI(base_url=emu.base_url, api_key="test", max_retries=0) as c:
        yield c


@pytest.fixture
def server():
    with EmulatorThread(seed=0, speed=FAST, env_faults=False) as emulator:
        yield emulator


@pytest.fixture
def client(server):
    with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0) as c:
        yield c


def write_emulator_config(home: Path, base_url: str, key_env: str, extra: str = "") -> Path:
    """A private config whose default profile `emu` is the emulator at base_url; `extra`
    is appended YAML (ui or dataset sections)."""
    path = home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: emu\n"
        "profiles:\n"
        f"  emu: {{kind: emulator, base_url: '{base_url}', api_key_env: {key_env}}}\n" + extra,
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path
