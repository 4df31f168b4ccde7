"""Large training files go through the Uploads API (parts, then complete) with progress;
a server without it gets the whole file at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openai
import pytest
from contract_support import point_config_at, run_main
from spec_stub import Scenario, SpecStub
from test_contract_cli import _job
from textual.widgets import ProgressBar

from tui.api import jobs
from tui.api.store import shared_store
from tui.app import TunebenchApp
from tui.config import load_config
from tui.emulator import demo_dataset_path
from tui.screens.launch import LaunchScreen

DATA = b"".join(b'{"messages": [{"role": "user", "content": "line %d"}]}\n' % i for i in range(60))


async def upload_to(
    scenario: Scenario, data: bytes
) -> tuple[SpecStub, jobs.UploadResult, list[tuple[int, int]]]:
    """Upload `data` to a stub, with parts of 1 KB from 1 KB up; what the stub saw."""
    seen: list[tuple[int, int]] = []
    async with (
        SpecStub(scenario) as stub,
        openai.AsyncOpenAI(base_url=stub.base_url, api_key="k", max_retries=0) as client,
    ):
        result = await jobs.upload(
            client,
            shared_store(),
            "stub",
            data,
            "train.jsonl",
            progress=lambda sent, total: seen.append((sent, total)),
            parts_from=1024,
            part_size=1024,
        )
    return stub, result, seen


async def test_a_large_file_goes_up_in_parts_with_progress(isolated_home: Path) -> None:
    stub, result, seen = await upload_to(Scenario(), DATA)
    parts = -(-len(DATA) // 1024)
    assert stub.count("/parts") == parts and stub.count("/complete") == 1
    assert stub.count("/v1/files") == 0  # not also sent whole
    assert stub.files[result.file_id] == DATA  # the parts, in order, are the file
    assert [sent for sent, _total in seen] == [min(len(DATA), 1024 * (i + 1)) for i in range(parts)]
    assert {total for _sent, total in seen} == {len(DATA)}
    assert result.sha256 == hashlib.sha256(DATA).hexdigest()


async def test_a_server_without_the_uploads_api_gets_one_upload(isolated_home: Path) -> None:
    stub, result, seen = await upload_to(Scenario(uploads=False), DATA)
    assert stub.count("/v1/uploads") == 1 and stub.count("/parts") == 0  # asked, got 404
    assert stub.count("/v1/files") == 1
    assert stub.files[result.file_id] == DATA
    assert seen == [(len(DATA), len(DATA))]


@pytest.mark.parametrize("size", [10, 1023])
async def test_small_files_go_up_whole(isolated_home: Path, size: int) -> None:
    stub, result, seen = await upload_to(Scenario(), DATA[:size])
    assert stub.count("/v1/uploads") == 0 and stub.count("/v1/files") == 1
    assert stub.files[result.file_id] == DATA[:size] and seen == [(size, size)]


def test_jobs_create_shows_upload_progress(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(jobs, "UPLOAD_IN_PARTS_FROM", 1024)
    monkeypatch.setattr(jobs, "PART_SIZE", 2048)
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    with SpecStub(Scenario(job=_job("validating_files"))).running() as stub:
        point_config_at(isolated_home, stub.base_url)
        ran = run_main("jobs", "create", str(demo_dataset_path()))
    assert ran.code == 0, ran
    progress = [line for line in ran.err.splitlines() if line.startswith("uploading [")]
    assert progress[-1].startswith(f"uploading [{'#' * 30}] 100% of ")
    assert len(progress) == stub.count("/parts") > 1


async def test_the_launch_form_shows_upload_progress(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "UPLOAD_IN_PARTS_FROM", 1024)
    monkeypatch.setattr(jobs, "PART_SIZE", 2048)
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    async with SpecStub(Scenario(job=_job("validating_files"))) as stub:
        point_config_at(isolated_home, stub.base_url)
        app = TunebenchApp(load_config(), profile_name="stub", dataset_path=demo_dataset_path())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2", "n")
            launch = app.screen
            assert isinstance(launch, LaunchScreen)
            for _ in range(500):
                if launch.check is not None:
                    break
                await pilot.pause(0.01)
            bar = launch.query_one("#launch-progress", ProgressBar)
            assert not bar.display or not bar.has_class("-uploading")
            await pilot.press("ctrl+s")
            for _ in range(500):
                if stub.count("/complete"):
                    break
                await pilot.pause(0.01)
            assert bar.has_class("-uploading") and bar.total and bar.progress == bar.total
            assert stub.count("/parts") > 1
