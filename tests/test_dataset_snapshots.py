"""Snapshots of the Dataset screen and its dialogs, with a dataset that has errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_support import settle
from textual.pilot import Pilot

from tui.app import TunebenchApp
from tui.config import load_config
from tui.core.recovery import recovery_path
from tui.screens.dataset_modals import ChoiceModal

SIZES = [(80, 24), (160, 48)]


def dataset_with_errors(directory: Path) -> Path:
    lines = []
    for i in range(12):
        lines.append(
            json.dumps(
                {
                    "messages": [
                        {"role": "system", "content": "Popraw gramatykę zdania."},
                        {"role": "user", "content": f"Mama, ja, chcieć, ciastko {i}"},
                        {"role": "assistant", "content": "Mamo, chcę dostać ciastko."},
                    ]
                },
                ensure_ascii=False,
            )
        )
    lines[2] = lines[2].replace('"assistant"', '"asistant"')
    lines[5] = '{"messages": [{"role": "user", "content": "cistko'
    lines[8] = lines[7]
    path = directory / "grammar.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_app(path: Path | None) -> TunebenchApp:
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [(), ("down", "down", "enter"), ("f4",), ("ctrl+f", *"code:invalid_json")],
    ids=["list", "error-example", "problems", "filter"],
)
def test_dataset_screen(snap_compare, tmp_path: Path, size: tuple[int, int], keys: tuple) -> None:
    app = make_app(dataset_with_errors(tmp_path))

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [("ctrl+t",), ("f9",), ("ctrl+o",), ("enter", "x", "ctrl+q")],
    ids=["system-prompt", "split", "open", "confirm-quit"],
)
def test_dataset_modals(snap_compare, tmp_path: Path, size: tuple[int, int], keys: tuple) -> None:
    app = make_app(dataset_with_errors(tmp_path))

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(*keys[:-1])  # edits first, settled (tokens counted)
        await settle(pilot)
        await pilot.press(keys[-1])  # then the key that opens the dialog
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_restore_offer(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    path = dataset_with_errors(tmp_path)
    from tui.core.editing import Document
    from tui.core.recovery import snapshot, source_digest, write_recovery

    data = path.read_bytes()
    doc = Document.from_bytes(data, "chat")
    doc.replace(0, doc.entries[0].text.replace(b"ciastko 0", b"ciastko zero"))
    write_recovery(snapshot(doc, path, source_digest(data)), recovery_path(path))
    app = make_app(path)

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for _ in range(250):
            if isinstance(pilot.app.screen, ChoiceModal) and pilot.app.screen.focused:
                break
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_new_dataset(snap_compare, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(None), run_before=run_before, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_big_file_system_prompt_dialog(
    snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Ctrl+T on a lazily opened file says, before applying, that it rewrites the file."""
    from tui.core import workspace

    monkeypatch.setattr(workspace, "LAZY_MIN_BYTES", 1024)
    app = make_app(dataset_with_errors(tmp_path))

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=size)
