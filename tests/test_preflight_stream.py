"""The pre-flight streams: its report is validate's streaming one and its upload a temporary
file written in blocks, and both are exactly what the old in-memory path gave (the Dataset's
validation and JSONL export, kept here as the reference), for every format and odd line.
A multi-MB file goes through `tunebench jobs create` against the emulator over HTTP."""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
from emulator_support import chat_line, write_emulator_config

from tui.api import jobs
from tui.api.preflight import Preflight, preflight
from tui.api.store import Store
from tui.core.dataset import Dataset
from tui.core.estimate import estimate
from tui.core.models import resolve_model
from tui.core.split import split_indices
from tui.emulator import Emulator, EmulatorThread
from tui.errors import UsageError


def odd_chat_lines(n: int) -> list[bytes]:
    """Chat lines as people write them: spacing, escapes, CRLF, blanks, a broken line, a
    duplicate, a BOM-less unicode mix. The export re-encodes them, so the bytes differ."""
    lines: list[bytes] = []
    for i in range(n):
        row = json.loads(chat_line(f"Kot {i}, spać — “cat” {i % 7}", f"Kot śpi {i}.\tDobrze."))
        kind = i % 6
        if kind == 0:
            lines.append(json.dumps(row).encode())  # \\u escapes: exported unescaped
        elif kind == 1:
            lines.append(json.dumps(row, ensure_ascii=False, indent=None).encode() + b"\r")
        elif kind == 2:
            lines.append(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode())
        elif kind == 3:
            lines.append(b"  " + json.dumps(row, ensure_ascii=False).encode() + b"  ")
        else:
            lines.append(json.dumps(row, ensure_ascii=False).encode())
        if i % 50 == 7:
            lines.append(b"")  # a blank line: not an example, but it counts for file:line
    lines.insert(5, b'{"messages": [broken')
    lines.insert(9, lines[3])  # a duplicate
    return lines


def old_preflight(path: Path, model: str) -> tuple[bytes, list[int], object]:
    """What the pre-flight computed before it streamed: (upload, lines, report)."""
    dataset = Dataset.open(path)
    report = dataset.validate(model=resolve_model(model).name)
    lines = [r.line for r in dataset.records if r.kind == "example"]
    return dataset.export_jsonl(), lines, report


def same_report(check: Preflight, old: object) -> None:
    report = check.report
    assert [(p.line, p.code, p.severity, p.message) for p in report.problems] == [
        (p.line, p.code, p.severity, p.message)
        for p in old.problems  # type: ignore[attr-defined]
    ]
    assert list(report.token_counts) == list(old.token_counts)  # type: ignore[attr-defined]
    assert report.tokens == old.tokens  # type: ignore[attr-defined]
    assert report.estimate == old.estimate  # type: ignore[attr-defined]
    assert report.n_examples == old.n_examples  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("odd.jsonl", b"\n".join(odd_chat_lines(120)) + b"\n"),
        ("bom-no-final-newline.jsonl", b"\xef\xbb\xbf" + b"\n".join(odd_chat_lines(30))),
        ("pairs.txt", "".join(f"Kot {i}; Kot śpi {i}.\n" for i in range(14)).encode()),
        ("table.csv", ("input,output\n" + "".join(f"q{i},a {i}\n" for i in range(12))).encode()),
        (
            "prefs.jsonl",
            "".join(
                json.dumps(
                    {
                        "input": {"messages": [{"role": "user", "content": f"Kot {i}"}]},
                        "preferred_output": [{"role": "assistant", "content": f"Śpi {i}."}],
                        "non_preferred_output": [{"role": "assistant", "content": "Nie."}],
                    }
                )
                + "\n"
                for i in range(11)
            ).encode(),
        ),
    ],
)
def test_upload_report_and_lines_are_those_of_the_in_memory_path(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    upload, lines, old = old_preflight(path, "gpt-4o-mini")
    check = preflight(path, "gpt-4o-mini")
    assert check.training.read_bytes() == upload
    assert check.training.size == len(upload)
    assert check.training.sha256 == jobs.sha256(upload)
    assert list(check.training.lines) == lines
    same_report(check, old)
    assert check.summary() == check.summary()  # renders without the Dataset


def test_a_split_is_the_old_split_of_the_export_with_its_estimate(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(odd_chat_lines(200)) + b"\n")
    upload, lines, old = old_preflight(path, "gpt-4o-mini")
    texts = upload.splitlines()
    counts = list(old.token_counts)  # type: ignore[attr-defined]
    for seed in (0, 3):
        train, valid = split_indices(texts, 0.2, seed)
        check = preflight(path, "gpt-4o-mini", split_percent=20, seed=seed, epochs=2)
        assert check.validation is not None
        assert check.training.read_bytes() == b"".join(texts[i] + b"\n" for i in train)
        assert check.validation.read_bytes() == b"".join(texts[i] + b"\n" for i in valid)
        assert list(check.training.lines) == [lines[i] for i in train]
        assert check.n_validation == len(valid)
        kept = [counts[i] for i in train]
        assert check.estimate == estimate(kept, resolve_model("gpt-4o-mini"), 2)


def test_a_blank_file_is_refused_in_one_line_and_temp_files_go(tmp_path: Path) -> None:
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n  \r\n")
    with pytest.raises(UsageError, match=r"blank\.jsonl: the file is empty"):
        preflight(blank, "gpt-4o-mini")
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(odd_chat_lines(40)) + b"\n")
    check = preflight(path, "gpt-4o-mini", split_percent=25)
    made = [check.training.path, check.validation.path]  # type: ignore[union-attr]
    assert all(p.exists() for p in made)
    check.remove()
    assert not any(p.exists() for p in made)
    again = preflight(path, "gpt-4o-mini")
    made = [again.training.path]
    del again
    gc.collect()
    assert not made[0].exists()  # dropped with the check, never left in the temp directory


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=7, speed=400.0, env_faults=False) as emulator:
        yield emulator


async def test_an_upload_file_goes_up_in_parts_exactly(emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(odd_chat_lines(3000)) + b"\n")
    upload, _lines, _old = old_preflight(path, "gpt-4o-mini")
    check = preflight(path, "gpt-4o-mini")
    seen: list[int] = []
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url) as client:
        result = await jobs.upload(
            client,
            Store(),
            "emu",
            check.training,
            "odd.jsonl",
            parts_from=1024,
            part_size=64 * 1024,
            progress=lambda sent, _total: seen.append(sent),
        )
    assert emu.store.files[result.file_id].content == upload
    assert result.sha256 == jobs.sha256(upload)
    assert seen[-1] == len(upload) and len(seen) == -(-len(upload) // (64 * 1024))


def test_jobs_create_uploads_a_multi_mb_file_byte_for_byte(
    run_cli, isolated_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    lines = odd_chat_lines(24_000)
    del lines[5]  # the broken line would block the launch
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 3_000_000
    upload, _lines, _old = old_preflight(path, "gpt-4o-mini")
    with EmulatorThread(seed=5, speed=400.0, api_key="sk-emulator", env_faults=False) as emu:
        write_emulator_config(isolated_home, emu.base_url, "EMU_KEY", "")
        done = run_cli(
            "jobs",
            "create",
            str(path),
            "--model",
            "gpt-4o-mini",
            "--validation",
            "10%",
            timeout=300,
            EMU_KEY="sk-emulator",
        )
        assert done.returncode == 0, done
        assert "validation: big.validation.jsonl, " in done.stderr
        files = {f.meta["filename"]: f.content for f in emu.emulator.store.files.values()}
    texts = upload.splitlines()
    train, valid = split_indices(texts, 0.1, 0)
    assert files["big.jsonl"] == b"".join(texts[i] + b"\n" for i in train)
    assert files["big.validation.jsonl"] == b"".join(texts[i] + b"\n" for i in valid)


async def settled(app: object) -> None:
    """Until no pre-flight or model-list worker runs (a model list that arrives can ask for
    one more check)."""
    from textual.app import App
    from textual.worker import WorkerCancelled, WorkerFailed

    assert isinstance(app, App)
    groups = ("launch-preflight", "launch-models", "launch-server-count")
    while running := [w for w in app.workers if w.group in groups and not w.is_finished]:
        for worker in running:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()


async def test_the_launch_form_shows_progress_and_a_newer_check_stops_the_older(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file's pre-flight runs in a worker: the panel says which step runs and how far
    (never a bare "checking…" for a minute); a check asked while one runs supersedes it, and
    only the latest check's upload file is left (removed with the form's check)."""
    import tempfile

    from textual.widgets import Input, Static

    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.screens.launch import LaunchScreen

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    path = tmp_path / "big.jsonl"
    lines = odd_chat_lines(30_000)
    del lines[5]
    path.write_bytes(b"\n".join(lines) + b"\n")
    shown: list[str] = []
    original = LaunchScreen._show_progress

    def spy(self: LaunchScreen, asked: int, text: str) -> None:
        shown.append(text)
        original(self, asked, text)

    monkeypatch.setattr(LaunchScreen, "_show_progress", spy)
    with EmulatorThread(seed=3, env_faults=False) as emu:
        write_emulator_config(isolated_home, emu.base_url, "EMU_KEY")
        monkeypatch.setenv("EMU_KEY", "sk-emulator")
        app = TunebenchApp(load_config(), profile_name="emu")
        async with app.run_test(size=(100, 30)) as pilot:
            launch = LaunchScreen(path)
            await app.push_screen(launch)
            launch.query_one("#f-validation", Input).focus()
            # Asked while the first check runs: this one supersedes it.
            await pilot.press(*"10%", "enter")
            await settled(app)
            await pilot.pause()
            panel = str(launch.query_one("#preflight", Static).render())
            assert panel.startswith("big.jsonl: 30001 examples (chat, supervised)"), panel
            assert "validation: big.validation.jsonl, 3000 examples" in panel
            check = launch.check
            assert check is not None and check.validation is not None
            assert sorted(uploads.iterdir()) == sorted([check.training.path, check.validation.path])
            assert check.training.read_bytes().count(b"\n") == 27001
    steps = [text.split("…")[0] for text in shown]
    assert "pre-flight: checking" in steps and "pre-flight: writing the upload" in steps
    assert "pre-flight: holding out validation examples" in steps
    percents = [int(text.rsplit(" ", 1)[1].rstrip("%")) for text in shown]
    assert max(percents) == 100 and len(set(percents)) > 3  # it advanced, step by step
    del check, launch, app
    gc.collect()
    assert list(uploads.iterdir()) == []  # the upload files went with the check
