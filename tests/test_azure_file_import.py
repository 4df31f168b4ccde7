"""The client's wait for Azure's import of an upload, against `emulator --azure`: every
state said, bounded (a file still importing at the deadline is one line, exit 1)."""

from __future__ import annotations

import re

import openai
import pytest
from azure_support import KEY
from emulator_support import FAST, jsonl, learnable_pairs

from tui.api.file_import import ImportFailed, wait_until_processed
from tui.emulator import Emulator
from tui.errors import EXIT_FAILED, EXIT_USAGE, UsageError


@pytest.fixture
async def client():
    emulator = Emulator(seed=3, speed=FAST, api_key=KEY, env_faults=False, azure=True)
    async with (
        emulator as emu,
        openai.AsyncOpenAI(
            base_url=f"{emu.root_url}/openai/v1/", api_key=KEY, max_retries=0
        ) as sdk,
    ):
        yield emu, sdk


async def test_each_state_is_said_until_processed(client) -> None:
    _emu, sdk = client
    uploaded = await sdk.files.create(
        file=("p.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
    )
    said: list[str] = []
    await wait_until_processed(
        sdk, uploaded.id, uploaded.status, None, filename="p.jsonl", notify=said.append,
        interval=0.001,
    )  # fmt: skip
    assert [re.search(r" is (\w+)", line)[1] for line in said] == [  # type: ignore[index]
        "pending",
        "running",
        "processed",
    ]


async def test_the_wait_is_bounded_and_an_error_is_one_line(client) -> None:
    emu, sdk = client
    uploaded = await sdk.files.create(
        file=("p.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
    )
    with pytest.raises(UsageError) as caught:
        await wait_until_processed(
            sdk, uploaded.id, "pending", None, filename="p.jsonl", notify=lambda _: None,
            interval=1.0, timeout=0.5,
        )  # fmt: skip
    assert caught.value.exit_code == EXIT_FAILED
    assert str(caught.value) == (
        f"p.jsonl: {uploaded.id} is still pending after 0 s; the import goes on: run the same "
        "launch again later (the upload is reused)"
    )
    emu.inject("import-error", 1)
    refused = await sdk.files.create(
        file=("q.jsonl", jsonl(learnable_pairs())), purpose="fine-tune"
    )
    with pytest.raises(ImportFailed) as failed:
        await wait_until_processed(
            sdk, refused.id, refused.status, None, filename="q.jsonl", notify=lambda _: None,
            interval=0.001,
        )  # fmt: skip
    assert failed.value.exit_code == EXIT_USAGE and "\n" not in str(failed.value)
    assert str(failed.value).startswith(f"q.jsonl: the service could not import it ({refused.id})")


async def test_a_processed_file_needs_no_request(client) -> None:
    _emu, sdk = client
    said: list[str] = []
    await wait_until_processed(
        sdk, "file-none", "processed", None, filename="x", notify=said.append, interval=1.0
    )
    assert said == []  # OpenAI answers processed at once: nothing waits, nothing is asked
