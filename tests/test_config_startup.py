"""The app's start reads the config without pydantic, the SDK or the tokenizer: a plainly
valid file is read as the full check reads it, and anything else gets the full check (and
its exact error) before the app starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO_ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.config import DEFAULT_CONFIG_TEXT, Startup, load_config, startup_of
from tui.config_schema import check_config
from tui.errors import UsageError

_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 700),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "\n", "5", "auto", "1BAD"]),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=1),
)


def _now_and_then(usual: Any, rare: Any) -> st.SearchStrategy[Any]:
    """`usual` 15 times in 16, else `rare` (one_of alone would draw each side as often)."""
    return st.integers(0, 15).flatmap(lambda i: rare if i == 0 else usual)


def _mostly(*good: object, bad: tuple[object, ...] = ()) -> st.SearchStrategy[Any]:
    """Mostly one of `good`; now and then one of `bad`, or an odd value of any type."""
    return _now_and_then(st.sampled_from(good), st.sampled_from(bad) | _ODD if bad else _ODD)


def _section(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """A mapping of some of `fields`; now and then an unknown key, or not a mapping at all."""
    mapping = st.fixed_dictionaries({}, optional=fields)
    return _now_and_then(mapping, mapping.map(lambda d: {**d, "colour": 1}) | _ODD)


_PROFILE = _section(
    {
        "kind": _mostly("openai", "emulator", bad=("azure", "local", "bedrock")),
        "base_url": _mostly(None, "http://127.0.0.1:8321/v1", bad=("",)),
        "api_key_env": _mostly("OPENAI_API_KEY", "KEY_2", bad=("2KEY", "a-b", "")),
        "api_key": _mostly(None, "sk-1"),
        "organization": _mostly(None, "org-1"),
        "project": _mostly(None, "p"),
        "endpoint": _mostly(None, "https://x.openai.azure.com", bad=("",)),
        "api_version": _mostly(None, "v1"),
        "auth": _mostly("key", "entra", bad=("token",)),
        "subscription_id": _mostly(None, "s"),
        "resource_group": _mostly(None, "g"),
        "account": _mostly(None, "a"),
        "arm_url": _mostly("https://management.azure.com"),
        "arm_token_env": _mostly(None, "ARM", bad=("bad name",)),
    }
)
_NAMES = st.sampled_from(["openai", "a"])
_CONFIGS = _section(
    {
        "default_profile": _mostly("openai", "a"),
        "profiles": _now_and_then(st.dictionaries(_NAMES, _PROFILE, min_size=1, max_size=2), _ODD),
        "dataset": _section(
            {
                "system_prompt": _mostly("", "Popraw."),
                "separator": _mostly(";", "|", bad=(" ", "\n")),
            }
        ),
        "defaults": _section(
            {
                "model": _mostly("gpt-4o-mini", "x"),
                "base_model": _mostly("gpt-4.1-mini-2025-04-14"),
                "epochs": _mostly("auto", 1, 50, bad=(51, 0, True, 2.0)),
            }
        ),
        "ui": _section(
            {
                "theme": _mostly("nord", "textual-dark"),
                "poll_interval": _mostly(1, 2.5, 600, bad=(601, 0, -1.0, True, "2")),
                "bell_on_job_end": _mostly(True, False, bad=(1, "yes")),
            }
        ),
        "keys": _now_and_then(
            st.dictionaries(st.sampled_from(["dataset.new", "app.quit"]), _mostly("ctrl+e")), _ODD
        ),
    }
)


@settings(max_examples=1000, deadline=None)
@given(_CONFIGS)
def test_a_plain_reading_is_the_full_checks_reading(data: dict[str, Any]) -> None:
    """Whatever the plain reader accepts, the full check accepts too, with equal values; so
    deferring the full check of such a file never turns into a late error."""
    text = yaml.safe_dump(data, allow_unicode=True)
    plain = startup_of(yaml.safe_load(text))
    try:
        full = Startup.of(check_config(text, Path("config.yaml")))
    except UsageError:
        full = None
    if plain is not None:
        assert plain == full


@pytest.mark.parametrize(
    "text",
    [
        DEFAULT_CONFIG_TEXT,
        "",
        "defaults:\n  base_model: gpt-4o-mini\n",
        "default_profile: az\nprofiles:\n  az:\n    kind: azure\n    endpoint: https://x\n"
        "    api_version: v1\n    auth: entra\n    arm_token_env: ARM\n",
        "profiles:\n  openai: {}\n  gpu:\n    kind: local\n    base_url: http://127.0.0.1:8321/v1\n"
        "keys:\n  dataset.new: ctrl+e\nui:\n  poll_interval: 1\n  bell_on_job_end: true\n",
    ],
)
def test_usual_files_are_read_plainly(text: str) -> None:
    """The file `config init` writes, and the README's kinds of profile, take the fast way."""
    assert startup_of(yaml.safe_load(text)) == Startup.of(check_config(text, Path("c.yaml")))


def test_the_file_the_first_run_writes_is_read_as_its_defaults(isolated_home: Path) -> None:
    """The unedited file is not parsed at start (its values are Startup's defaults): the
    two readings must stay equal, and the full check still runs on first use."""
    assert startup_of(yaml.safe_load(DEFAULT_CONFIG_TEXT)) == Startup()
    loaded = load_config()
    assert loaded.startup == Startup() and loaded.checked is None
    assert Startup.of(loaded.config) == Startup()


def test_a_plain_file_gets_its_full_check_on_first_use(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated_home / "config.yaml"
    path.write_text("defaults:\n  epochs: 3\nui:\n  poll_interval: 5\n", encoding="utf-8")
    loaded = load_config(path)
    assert loaded.checked is None  # not yet
    assert loaded.config.defaults.epochs == 3 and loaded.config.ui.poll_interval == 5.0


_START_PATH = """
import asyncio
import sys
from pathlib import Path

from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.dataset_view import DatasetView
from tui.widgets.examples_list import ExamplesList

HEAVY = {"openai", "pydantic", "tiktoken"}
seen = []


def first_screen_painted(screen, doc):
    # Called once the first screen with the file's examples has been refreshed, just
    # before the background check and count start: what is loaded by then.
    rows = screen.query_one(ExamplesList).row_count
    seen.append(f"{rows} rows; " + (" ".join(sorted(HEAVY & set(sys.modules))) or "none"))
    screen.app.exit()


DatasetView._check_and_count = first_screen_painted


async def main():
    loaded = load_config()
    name = loaded.checked_profile_name()
    app = TunebenchApp(loaded, profile_name=name, dataset_path=Path(sys.argv[1]))
    async with app.run_test(size=(int(sys.argv[2]), int(sys.argv[3]))) as pilot:
        while not seen:
            await pilot.pause()


asyncio.run(main())
print(seen[0])
"""


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_the_way_to_the_first_screen_imports_no_sdk_pydantic_or_tokenizer(
    isolated_home: Path, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Guards the start-up target (issue 16): up to the first screen with the examples
    painted, the SDK, the config schema's pydantic and the tokenizer are not loaded; they
    load after it, when something needs them."""
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"messages": []}\n' * 3, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    load_config()  # the file a first run writes
    result = subprocess.run(
        [sys.executable, "-c", _START_PATH, str(dataset), *map(str, size)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 rows; none"
