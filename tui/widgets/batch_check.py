"""Batch check: examples through a model, expected vs got with a word diff, exact-match rate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from tui.api import batch
from tui.appref import tunebench_app
from tui.screens.base import DIALOG, ReportsWorkerErrors
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from openai import AsyncOpenAI

DEFAULT_LIMIT = 20
CELL_WIDTH = 30


DIFF_MARKS = {"same": ("", ""), "removed": ("[-", "-]"), "added": ("{+", "+}")}
DIFF_STYLES = {"same": "", "removed": "strike $text-error", "added": "bold $text-success"}


def diff_content(expected: str, got: str) -> Content:
    """`[-missing-]` words struck in red, `{+added+}` words in green (git's word-diff marks,
    so the diff reads without colour too)."""
    pieces: list[tuple[str, str] | str] = []
    for op, words in batch.word_diff(expected, got):
        if pieces:
            pieces.append(" ")
        start, end = DIFF_MARKS[op]
        pieces.append((f"{start}{words}{end}", DIFF_STYLES[op]) if op != "same" else words)
    return Content.assemble(*pieces)


def _mark(result: batch.CheckResult) -> str:
    return "✓" if result.exact else ("!" if result.error else "✗")


def _cell(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= CELL_WIDTH else flat[: CELL_WIDTH - 1] + "…"


class BatchCheckScreen(ReportsWorkerErrors, ModalScreen[None]):
    DEFAULT_CLASSES = DIALOG
    DEFAULT_CSS = """
    BatchCheckScreen #batch-source { height: 1; }
    BatchCheckScreen #batch-source Label { width: auto; padding: 0 1 0 0; color: $text-muted; }
    BatchCheckScreen #batch-path { width: 1fr; }
    BatchCheckScreen #batch-limit { width: 8; }
    BatchCheckScreen #batch-summary { height: 1; margin-top: 1; }
    BatchCheckScreen DataTable { height: 1fr; }
    BatchCheckScreen #batch-diff {
        height: auto; max-height: 6; border-top: solid $panel-lighten-2;
    }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+r", "run", "Run check", id="batch.run"),
        Binding("ctrl+s", "export", "Export JSONL", id="batch.export"),
        Binding("escape", "close", "Close", id="batch.close"),
    ]

    def __init__(
        self,
        client: Callable[[], AsyncOpenAI],
        model: str,
        *,
        path: Path | None = None,
        limit: int = DEFAULT_LIMIT,
        system: str | None = None,
    ) -> None:
        super().__init__()
        self._client = client
        self.model = model
        self._path = path
        self._limit = limit
        self._system = system
        self.results: list[batch.CheckResult] = []
        self.source: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Batch check · {self.model}"
            with Horizontal(id="batch-source"):
                yield Label("examples")
                yield Input(
                    str(self._path or ""),
                    placeholder="validation split: .jsonl, pairs .txt, .csv",
                    id="batch-path",
                    compact=True,
                )
                yield Label(" first")
                yield Input(str(self._limit), id="batch-limit", type="integer", compact=True)
            yield Static("ctrl+r runs the check", id="batch-summary")
            table: DataTable[str | Content] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_column("line", key="line")
            table.add_column("", key="ok")
            table.add_column("expected", key="expected")
            table.add_column("got", key="got")
            yield table
            yield Static("", id="batch-diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        target = "#batch-path" if not self._path else "#batch-limit"
        self.query_one(target, Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def action_close(self) -> None:
        self.workers.cancel_group(self, "batch")
        self.dismiss(None)

    def action_run(self) -> None:
        raw_path = self.query_one("#batch-path", Input).value.strip()
        raw_limit = self.query_one("#batch-limit", Input).value.strip()
        summary = self.query_one("#batch-summary", Static)
        if not raw_path:
            summary.update("give a dataset file (the validation split, for instance)")
            return
        limit = int(raw_limit) if raw_limit.isdigit() and int(raw_limit) > 0 else None
        self.run_check(Path(raw_path).expanduser(), limit)

    @work(exclusive=True, group="batch", exit_on_error=False)
    async def run_check(self, path: Path, limit: int | None) -> None:
        summary = self.query_one("#batch-summary", Static)
        table = self.query_one(DataTable)
        table.clear()
        self.results = []
        try:
            examples = batch.load_examples(path, limit, system=self._system)
            client = self._client()
        except Exception as exc:
            tunebench_app(self).report_error(exc, inline=summary)
            return
        self.source = path
        for index, example in enumerate(examples):
            table.add_row(str(example.line), "…", _cell(example.expected), "", key=str(index))
        done = 0

        def on_result(index: int, result: batch.CheckResult) -> None:
            nonlocal done
            done += 1
            mark = "✓" if result.exact else ("!" if result.error else "✗")
            table.update_cell(str(index), "ok", mark)
            table.update_cell(
                str(index), "got", _cell(result.error or result.got), update_width=True
            )
            summary.update(f"checked {done}/{len(examples)}…")

        self.results = await batch.run_check(client, self.model, examples, on_result=on_result)
        # rebuilt in order once done, so column widths do not depend on arrival order
        table.clear()
        for index, result in enumerate(self.results):
            table.add_row(
                str(result.example.line),
                _mark(result),
                _cell(result.example.expected),
                _cell(result.error or result.got),
                key=str(index),
            )
        self._show_summary()
        self._show_diff(table.cursor_row)

    def _show_summary(self) -> None:
        n = len(self.results)
        exact = sum(r.exact for r in self.results)
        errors = sum(r.error is not None for r in self.results)
        failed = f" · {errors} failed" if errors else ""
        self.query_one("#batch-summary", Static).update(
            f"exact match {exact}/{n} ({batch.exact_rate(self.results):.0%}){failed}"
            " · ctrl+s exports"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_diff(event.cursor_row)

    def _show_diff(self, row: int) -> None:
        diff = self.query_one("#batch-diff", Static)
        if not 0 <= row < len(self.results):
            diff.update("")
            return
        result = self.results[row]
        head = Content.assemble((f"line {result.example.line}: ", "$text-muted"))
        if result.error:
            diff.update(Content.assemble(head, (result.error, "$text-error")))
            return
        user = Content.assemble(
            ("› ", "$text-muted"), result.example.user_text, ("   expected → got\n", "$text-muted")
        )
        diff.update(Content.assemble(head, user, diff_content(result.example.expected, result.got)))

    def action_export(self) -> None:
        if not self.results or self.source is None:
            self.notify("run the check first (ctrl+r)", severity="warning")
            return
        target = batch.export_path(self.source, self.model)
        try:
            batch.export_results(self.results, self.model, target)
        except OSError as exc:
            tunebench_app(self).report_error(exc)
            return
        self.notify(f"exported {len(self.results)} results to {target}")
