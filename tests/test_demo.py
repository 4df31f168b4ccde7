"""`tunebench --demo`: the built-in emulator behind an in-memory profile, and the demo pairs."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

from tui.api.client import open_client
from tui.config import load_config
from tui.launch import _start_demo, demo_dataset_copy


def test_demo_profile_talks_to_the_embedded_emulator(isolated_home: Path) -> None:
    loaded = load_config()
    with ExitStack() as stack:
        name = _start_demo(loaded, stack)
        profile = loaded.config.profiles[name]
        assert name == "demo" and profile.kind == "emulator"
        assert profile.base_url and profile.base_url.startswith("http://127.0.0.1:")

        async def listed() -> list[str]:
            async with open_client(loaded, name) as client:
                return [m.id async for m in client.models.list()]

        models = asyncio.run(listed())
        assert "gpt-4.1-mini-2025-04-14" in models
    # The demo's key lives in memory only: the config file never learns of it.
    config_text = loaded.path.read_text()
    assert "demo" not in config_text.split("profiles:")[1].split("dataset:")[0]


def test_demo_dataset_is_an_editable_copy(isolated_home: Path) -> None:
    path = demo_dataset_copy()
    assert path.is_relative_to(isolated_home)
    text = path.read_text(encoding="utf-8")
    assert text.count(";") >= 50
    assert "Popraw gramatykę zdania." in text
    path.write_text(text + "Ja, mieć, kot; Mam kota.\n", encoding="utf-8")
    assert demo_dataset_copy().read_text(encoding="utf-8").endswith("Mam kota.\n")


def test_demo_refuses_a_profile(run_cli) -> None:
    result = run_cli("--demo", "--profile", "openai")
    assert result.returncode == 2
    assert "drop --profile" in result.stderr
