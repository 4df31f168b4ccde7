"""The app on a real pseudo-terminal of 80x24, as over SSH: keys only, no mouse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal import PtyApp

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["xterm-256color", "linux"])
def term(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def demo(term: str, tmp_path: Path) -> Iterator[PtyApp]:
    env = dict(os.environ)
    env.update(TERM=term, PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    env.pop("COLORTERM", None)
    app = PtyApp(["--demo"], env=env, cwd=tmp_path)
    try:
        yield app
    finally:
        app.close()


def test_demo_walk_by_keys(demo: PtyApp) -> None:
    demo.wait_for("f1 Help")  # the footer is drawn last
    screen = demo.wait_for("profile: demo")
    assert "polish_grammar.txt" in screen
    demo.wait_for_tab("1 Dataset")
    demo.press("2")
    demo.wait_for_tab("2 Jobs")
    demo.press("3")
    demo.wait_for_tab("3 Playground")
    demo.press("f1")
    demo.wait_for("Keys: Playground")
    demo.wait_for("Quit")
    demo.press("escape")  # a lone Esc: wait, or the next key would read as Alt+key
    demo.wait_gone("Keys: Playground")
    demo.press("1")
    demo.wait_for_tab("1 Dataset")
    demo.press("ctrl+q")
    assert demo.wait_exit() == 0
