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


@pytest.fixture
def fast_demo(term: str, tmp_path: Path) -> Iterator[PtyApp]:
    env = dict(os.environ)
    env.update(TERM=term, PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    env.pop("COLORTERM", None)
    env["TUNEBENCH_DEMO_SPEED"] = "200"
    app = PtyApp(["--demo"], env=env, cwd=tmp_path)
    try:
        yield app
    finally:
        app.close()


def test_demo_path_from_pairs_to_tuned_answer_by_keys(fast_demo: PtyApp) -> None:
    """The README's promise: add your own pair → launch → loss chart → the tuned model
    answers your pair, by keys only."""
    demo = fast_demo
    demo.wait_for("f1 Help")
    demo.wait_for("69 examples")
    demo.press("ctrl+n")  # a new pair at the end, the input field focused
    demo.wait_for("empty_input")  # an empty pairs line: the preview says what is missing
    demo.settle()
    demo.type("Pies, lubić, kość")
    demo.wait_for("empty_output")
    demo.press("tab")
    demo.settle()
    demo.type("Pies lubi kość.")
    demo.wait_for('"content": "Pies lubi kość."')  # the JSONL line it will be uploaded as
    demo.press("ctrl+l")  # launch job from the Dataset screen: saved as pairs first
    demo.wait_for("estimated cost")  # the pre-flight panel
    demo.press("ctrl+s")  # confirm
    demo.wait_for("succeeded", timeout=60)
    demo.wait_for("train")  # the chart's legend
    demo.press("o")  # open the tuned model in the Playground
    demo.wait_for_tab("3 Playground")
    demo.wait_for("Popraw gramatykę zdania.")  # the training system prompt, pre-filled
    demo.wait_for("1 tuned model")  # the model list has loaded
    demo.press("enter")
    demo.settle()  # as a person would: the input has focus before the first letter
    demo.type("Pies, lubić, kość")
    demo.wait_for("Pies, lubić, kość")
    demo.press("enter")
    demo.wait_for("Pies lubi kość.")
    demo.press("ctrl+q")
    assert demo.wait_exit() == 0
