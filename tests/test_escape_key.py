"""Esc never combines with the key typed after it (terminals send Alt+key as ESC + key)."""

from __future__ import annotations

from pathlib import Path

from dataset_support import settle
from emulator_support import chat_line
from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import TextArea

from tui.app import TunebenchApp
from tui.config import load_config
from tui.escape_keys import keep_escape_apart
from tui.screens.jobs import JobsScreen


def keys_of(data: str) -> list[tuple[str, str | None]]:
    """The key events Textual's terminal parser makes of bytes typed in one burst."""
    parser = XTermParser()
    parsed = [*parser.feed(data), *parser.feed("")]
    return [(e.key, e.character) for e in parsed if isinstance(e, events.Key)]


def test_esc_then_a_digit_is_not_read_as_a_symbol() -> None:
    keep_escape_apart()
    assert keys_of("\x1b2") == [("alt+2", "2")]  # was ("trade_mark_sign", "™")
    assert keys_of("\x1b[A") == [("up", None)]  # real sequences are untouched
    assert keys_of("\x1bn") == [("alt+n", "n")]
    # Punctuation and space kept their Esc; Esc b / Esc f were Ctrl+Left / Ctrl+Right.
    assert keys_of("\x1b,") == [("alt+comma", ",")]
    assert keys_of("\x1b ") == [("alt+space", " ")]
    assert keys_of("\x1bb") == [("alt+b", "b")]
    assert keys_of("\x1b\x7f") == [("ctrl+w", None)]  # not printable: Alt+Backspace stays


def app_on_a_dataset(directory: Path) -> TunebenchApp:
    path = directory / "pairs.jsonl"
    lines = [chat_line(f"Kot {i}", "Kot śpi.", "Popraw gramatykę zdania.") for i in range(12)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


async def test_esc_then_2_in_a_field_goes_to_jobs_and_types_nothing(tmp_path: Path) -> None:
    app = app_on_a_dataset(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        user = app.screen.query_one("#user", TextArea)
        assert user.has_focus
        app.post_message(events.Key("alt+2", "2"))  # what the terminal sends for Esc, 2
        for _ in range(100):
            if isinstance(app.screen, JobsScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, JobsScreen)
        assert user.text == "Kot 0"


async def test_a_bound_alt_key_still_works(tmp_path: Path) -> None:
    app = app_on_a_dataset(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        app.post_message(events.Key("alt+n", "n"))  # Alt+N: add a message
        for _ in range(100):
            if len(app.screen.query("MessageArea")) == 4:
                break
            await pilot.pause(0.02)
        assert len(app.screen.query("MessageArea")) == 4


ESCAPED = [",", ".", "?", "!", "-", "=", "'", '"', ";", " ", "b", "f", "~", "@", "A"]


def test_esc_then_any_printable_key_in_one_packet_is_kept_apart(tmp_path: Path) -> None:
    """On a real pty, Esc and the key after it arrive in one read (a fast typist, SSH): the
    Esc still leaves the field (back to the list) and the key is not typed into it. Textual
    dropped the Esc before punctuation and space, and read Esc b / Esc f as Ctrl+arrows."""
    import os

    from terminal import PtyApp

    app_on_a_dataset(tmp_path)  # writes pairs.jsonl
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    app = PtyApp([str(tmp_path / "pairs.jsonl")], env=env, cwd=tmp_path)
    try:
        app.wait_for("12 examples")
        app.wait_for("f1 Help")
        for key in ESCAPED:
            app.press("enter")  # open the first example: its fields, the user one focused
            app.wait_for("Tab: next field")
            app.settle()
            app.type("\x1b" + key)  # one write: one read for the app
            app.wait_gone("Tab: next field")  # Esc: back to the list
            app.settle()
            screen = app.text()
            assert " saved" in screen and "unsaved" not in screen, (key, screen)
            first = next(line for line in screen.splitlines() if "   1   Kot 0" in line)
            assert first.rstrip().endswith("Kot 0"), (key, screen)  # nothing typed after
    finally:
        app.close()
