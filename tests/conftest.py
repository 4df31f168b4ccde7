"""Shared fixtures. Every test runs with config, data and cache dirs under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tui.serve.server import ServeThread


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every user dir at tmp_path so tests never touch the developer's files."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    for var in (
        "TUNEBENCH_CONFIG",
        "TUNEBENCH_PROFILE",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


REPO_ROOT = Path(__file__).resolve().parent.parent


class CliResult:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"CliResult(rc={self.returncode}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run `python -m tui ARGS...` in a subprocess, as a user would run `tunebench`."""
    import os
    import subprocess
    import sys

    def run(*args: str, input: str | None = None, timeout: float = 60, **env: str) -> CliResult:
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = str(REPO_ROOT)
        full_env.update(env)
        proc = subprocess.run(
            [sys.executable, "-m", "tui", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            cwd=tmp_path,
            env=full_env,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat model of tests/serve_support.py, built once per test module."""
    from tests.serve_support import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="module")
def serve(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeThread]:
    """One `serve` of the tiny model on the CPU for a test module (modules that run jobs on
    it define their own)."""
    from tui.serve.server import ServeThread

    data = tmp_path_factory.mktemp("serve-data")
    with ServeThread(models=[str(tiny)], data_dir=data, device="cpu") as server:
        yield server
