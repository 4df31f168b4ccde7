"""What holds user data is readable by the user only: files 0600 in 0700 folders."""

from __future__ import annotations

import stat
from pathlib import Path

from tui.api.last_choice import remember_model, state_path
from tui.api.store import Store, default_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_local_store_is_private(isolated_home: Path) -> None:
    await Store().find_upload("openai", "0" * 64)
    assert mode(default_path()) == 0o600
    assert mode(default_path().parent) == 0o700


def test_the_remembered_playground_model_is_private(isolated_home: Path) -> None:
    remember_model("openai", "ft:gpt-4.1-mini:me::x")
    assert mode(state_path()) == 0o600
    assert mode(state_path().parent) == 0o700
