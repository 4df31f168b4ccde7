"""The problems panel lists each repeated example on its own line, as `tunebench validate`
does (issue 12: the panel showed one whole-file row for them all)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from emulator_support import chat_line
from test_dataset_screen import loaded, make_app, preview_text, problem_rows, wait_until

from tui.screens.dataset import DatasetScreen
from tui.widgets.problems_panel import ProblemsPanel
from tui.widgets.stats_line import StatsLine

SYSTEM = "Popraw gramatykę zdania."


def validate_json(path: Path) -> dict:  # type: ignore[type-arg]
    """What `tunebench validate --json` prints for the file, run as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "tui", "validate", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def opened_at(screen: DatasetScreen, line: int) -> Callable[[], bool]:
    return lambda: preview_text(screen).startswith(f"line {line}")


async def test_each_repeated_example_is_a_row_that_jumps_to_its_line(tmp_path: Path) -> None:
    lines = [chat_line(f"Kot {i}, spać", f"Kot {i} śpi.", SYSTEM) for i in range(12)]
    lines[4] = lines[7] = lines[10] = lines[1]  # three repeats of line 2
    lines[11] = lines[3]  # one of line 4
    path = tmp_path / "grammar.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate_json(path)
    reported = [
        (p["line"], p["message"]) for p in report["problems"] if p["code"] == "duplicate_example"
    ]
    assert [line for line, _ in reported] == [5, 8, 11, 12]
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        rows = [r for r in problem_rows(screen) if "duplicate_example" in r]
        shown = [(int(r.split()[0]), r.split("duplicate_example")[1].strip()) for r in rows]
        assert shown == reported  # the same lines, the same words
        warnings = sum(p["severity"] == "warning" for p in report["problems"])
        assert f"{warnings} warnings" in str(screen.query_one(StatsLine).render())
        await pilot.press("f4")
        panel = screen.query_one(ProblemsPanel)
        for line, message in reported:  # each row opens its line, which says what it repeats
            row = next(
                i
                for i in range(panel.row_count)
                if panel.render_row(i, 200).plain
                == (f"{line:>6} warning duplicate_example  {message}")
            )
            panel.move_to(row)
            await pilot.press("enter")
            await wait_until(pilot, opened_at(screen, line))
            assert f"! duplicate_example: {message}" in preview_text(screen)
            await pilot.press("f4")
        # Editing a repeat away takes its row away, at once.
        await pilot.press("f2", "home", "down", "down", "down", "down", "enter", "end", *" x")
        await wait_until(
            pilot,
            lambda: (
                [int(r.split()[0]) for r in problem_rows(screen) if "duplicate_ex" in r]
                == [8, 11, 12]
            ),
        )
