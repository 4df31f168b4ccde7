"""A big JSONL file in the Dataset screen: shown at once from its first lines, checked and
counted in the background ("counting… N%", never a partial figure), editable meanwhile,
and exact at the end: the stats are `validate`'s for the bytes Ctrl+S writes."""

from __future__ import annotations

from pathlib import Path

from dataset_support import assert_shows_validate
from emulator_support import chat_line
from test_dataset_screen import make_app, wait_until

from tui.core.lazydoc import LazyDocument
from tui.screens.dataset import DatasetScreen
from tui.widgets.problems_panel import ProblemsPanel
from tui.widgets.stats_line import StatsLine


async def test_a_big_file_is_shown_at_once_and_counted_exactly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    lines = [chat_line(f"Kot, spać, kanapa {i}", "Kot śpi.", "Popraw.") for i in range(70_000)]
    lines[60_000] = "not json"
    lines[50_000] = lines[1]  # a duplicate
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    app = make_app(path)
    shown: list[str] = []
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        stats = screen.query_one(StatsLine)

        def seen() -> bool:
            shown.append(str(stats.render()))
            return isinstance(screen.doc, LazyDocument)

        await wait_until(pilot, seen)
        doc = screen.doc
        assert isinstance(doc, LazyDocument)
        await pilot.press("enter")  # the first example, in the editor
        await pilot.press(*" zzz")
        await wait_until(pilot, lambda: seen() and "tokens" in shown[-1], tries=2000)
        assert doc.checked
        counting = [text for text in shown if "counting…" in text]
        assert counting and not any("tokens" in text for text in counting)
        report = assert_shows_validate(app, app.workspace.save_bytes())
        assert f"{report.tokens.total:,} tokens" in shown[-1]
        rows = screen.query_one(ProblemsPanel)._rows
        assert [index for index, _ in rows] == sorted(index for index, _ in rows)
        assert (60_000, "invalid_json") in [(i, f.code) for i, f in rows]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: b"zzz" in path.read_bytes()[:1000], tries=2000)
        saved = path.read_bytes().split(b"\n")
        assert b"kanapa 0 zzz" in saved[0]
        assert saved[1:] == data.split(b"\n")[1:]
        assert not doc.dirty
