"""The literal-key warning is said once, by the runs that use that profile, and `--demo`
does not depend on the user's config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_support import run_main
from spec_stub import Scenario, SpecStub
from terminal import PtyApp

from tui.launch import demo_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub() -> Iterator[SpecStub]:
    with SpecStub(Scenario()).running() as server:
        yield server


def write_two_profiles(home: Path, base_url: str) -> Path:
    path = home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: envkey\n"
        "profiles:\n"
        f"  literal: {{kind: openai, base_url: '{base_url}', api_key: sk-literal-0123456789}}\n"
        f"  envkey: {{kind: openai, base_url: '{base_url}', api_key_env: STUB_KEY}}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_literal_key_warning_only_where_that_profile_is_used(
    stub: SpecStub, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_two_profiles(isolated_home, stub.base_url)
    monkeypatch.setenv("STUB_KEY", "sk-stub")
    other = run_main("jobs", "list")
    assert other.code == 0, other
    assert "literal api_key" not in other.err
    used = run_main("jobs", "list", "--profile", "literal")
    assert used.code == 0, used
    warnings = [line for line in used.err.splitlines() if "literal api_key" in line]
    assert warnings == [warnings[0]] and "profile literal has a literal api_key" in warnings[0]


BROKEN = "profiles:\n  openai:\n    kind: opnai\n"


def test_demo_settings_ignore_a_broken_user_config(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN, encoding="utf-8")
    loaded = demo_config()
    assert loaded.config.ui.poll_interval == 2.0  # the defaults
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {path}:3:5: profiles.openai.kind")
    assert err[0].endswith("; the demo does not use it")
    assert path.read_text(encoding="utf-8") == BROKEN  # left as the user wrote it


def test_demo_starts_with_a_broken_user_config(isolated_home: Path, tmp_path: Path) -> None:
    path = isolated_home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm-256color", LANG="C.UTF-8")
    app = PtyApp(["--demo"], env=env, cwd=tmp_path)
    try:
        app.wait_for("profile: demo")
        app.press("ctrl+q")
        assert app.wait_exit() == 0
    finally:
        app.close()
