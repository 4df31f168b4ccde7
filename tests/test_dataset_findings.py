"""What the Dataset screen tells the user, at 80x24, driven by real keys: warnings about
what the API would accept but train in wrong, and every message in the user's words."""

from __future__ import annotations

import json
from pathlib import Path

from dataset_support import settle
from emulator_support import chat_line
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from tui.app import TunebenchApp
from tui.config import load_config
from tui.widgets.problems_panel import ProblemsPanel

SYSTEM = "Popraw gramatykę zdania."


def make_app(path: Path) -> TunebenchApp:
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


def write_lines(path: Path, first: list[str]) -> None:
    rest = [chat_line(f"Mama, ja, chcieć, ciastko {i}", "Mamo, chcę.", SYSTEM) for i in range(11)]
    path.write_text("\n".join([*first, *rest]) + "\n", encoding="utf-8")


def problem_rows(pilot: Pilot) -> list[str]:  # type: ignore[type-arg]
    panel = pilot.app.screen.query_one(ProblemsPanel)
    return [panel.render_row(i, 200).plain for i in range(panel.row_count)]


async def wait_for_row(pilot: Pilot, text: str) -> str:  # type: ignore[type-arg]
    for _ in range(250):
        rows = [row for row in problem_rows(pilot) if text in row]
        if rows:
            return rows[0]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
    raise AssertionError(f"no problem row with {text!r}: {problem_rows(pilot)}")


async def test_a_line_break_typed_at_the_end_of_an_answer_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_lines(path, [chat_line("Kot, spać, kanapa", "Kot śpi na kanapie.", SYSTEM)])
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not any("line break" in row for row in problem_rows(pilot))
        await pilot.press("enter", "tab", "end", "enter")
        assistant = app.screen.query_one("#assistant", TextArea)
        assert assistant.text == "Kot śpi na kanapie.\n"
        row = await wait_for_row(pilot, "trailing_newline")
        assert row.split()[0] == "1"  # pinned to the file's first line
        assert "trained in" in row
        await pilot.press("backspace")
        for _ in range(250):
            if not any("trailing_newline" in r for r in problem_rows(pilot)):
                break
            await pilot.pause(0.02)
        assert not any("trailing_newline" in r for r in problem_rows(pilot))


def tool_line(name: str, arguments: str) -> str:
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}
    return json.dumps(
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Pogoda w Krakowie?"},
                {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "12°C"},
                {"role": "assistant", "content": "W Krakowie jest 12°C."},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
        },
        ensure_ascii=False,
    )


async def test_tool_calls_that_do_not_match_the_tools_are_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    write_lines(
        path,
        [tool_line("get_weather", '{"city": "Kraków"}'), tool_line("get_wether", '{"city": ')],
    )
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        undeclared = await wait_for_row(pilot, "undeclared_function")
        arguments = await wait_for_row(pilot, "invalid_arguments")
        assert undeclared.split()[0] == arguments.split()[0] == "2"
        assert "'get_wether'" in undeclared and "get_weather" in undeclared
        assert "not valid JSON" in arguments
        assert not any(row.split()[0] == "1" for row in problem_rows(pilot))


async def test_messages_on_screen_use_the_users_words(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(
        f"# system: {SYSTEM}\n"
        + "".join(f"Mama, ja, chcieć, ciastko {i}; Mamo, chcę.\n" for i in range(11))
        + "Ala; ma; kota\n",
        encoding="utf-8",
    )
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = await wait_for_row(pilot, "multiple_separators")
        assert "--sep" not in row
        assert "dataset.separator" in row


async def test_an_example_with_tools_says_why_it_is_edited_as_json(tmp_path: Path) -> None:
    path = tmp_path / "tools.jsonl"
    write_lines(path, [tool_line("get_weather", "{}")])
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        note = str(app.screen.query_one("#editor-note", Static).render())
        assert "Raw JSON" not in note and "plain text" not in note
        assert "more than the form shows" in note
