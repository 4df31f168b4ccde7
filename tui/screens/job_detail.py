"""One job: status, hyperparameters, live loss chart, events, checkpoints, results, controls.

Opening a job rebuilds everything from its full event history (re-attach after a restart),
then follows it: each poll's new events are applied as one batch (one chart redraw, one log
write), never one redraw per event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, RichLog, Static, TabbedContent, TabPane

from tui.api.job_info import CheckpointInfo, JobInfo, int_or_none
from tui.appref import tunebench_app
from tui.messages import OpenInPlayground
from tui.screens.base import DIALOG, MainScreen
from tui.screens.jobs import api_client, status_text, utc
from tui.widgets.key_footer import KeyFooter
from tui.widgets.loss_chart import LossChart

WIDE = 140  # columns from which events sit beside the chart
TABS = ("tab-chart", "tab-events", "tab-checkpoints", "tab-results")
TAB_FOCUS = {
    "tab-chart": "#job-chart",
    "tab-events": "#job-events",
    "tab-checkpoints": "#job-checkpoints",
    "tab-results": "#job-results",
}
CONTROL_WORDS = {
    "cancel": ("Cancel", "stops training for good; checkpoints already made stay usable"),
    "pause": ("Pause", "stops training after the current step; resume later"),
    "resume": ("Resume", "continues training from where it paused"),
}


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no for an action that changes a job. No has the focus: Enter never cancels a job."""

    DEFAULT_CLASSES = DIALOG
    AUTO_FOCUS = "#no"

    DEFAULT_CSS = """
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="confirm-question")
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")
        yield KeyFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class JobDetailScreen(MainScreen):
    TITLE = "Job"
    DEFAULT_CSS = """
    JobDetailScreen #job-status { height: auto; padding: 0 1; background: $panel; }
    JobDetailScreen #job-status.reconnecting { background: $warning 30%; }
    JobDetailScreen #job-hyper { height: auto; padding: 0 1; color: $text-muted; }
    JobDetailScreen TabbedContent { height: 1fr; }
    JobDetailScreen TabPane { padding: 0; }
    JobDetailScreen #job-results { height: 1fr; }
    JobDetailScreen #job-chart { width: 1fr; }
    JobDetailScreen #job-events-side { width: 42%; border-left: vkey $panel; }
    JobDetailScreen #job-checkpoint-detail { height: auto; padding: 0 1; color: $text-muted; }
    JobDetailScreen #job-notice { height: auto; padding: 0 1; color: $text-warning; display: none; }
    """

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Jobs", id="job.back"),
        Binding("t", "next_tab", "Tab", id="job.tab"),
        Binding("c", "control('cancel')", "Cancel", id="job.cancel"),
        Binding("p", "control('pause')", "Pause", id="job.pause"),
        Binding("u", "control('resume')", "Resume", id="job.resume"),
        Binding("o", "open_model", "Playground", id="job.open"),
        Binding("d", "deploy", "Deploy", id="job.deploy"),
        Binding("y", "copy_id", "Copy id", id="job.copy", show=False),  # F1 lists it
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.job: JobInfo | None = None
        self.events_seen = 0
        self.checkpoints: list[CheckpointInfo] = []
        self.ended_at: float | None = None
        """When a job that ended without a `finished_at` was first seen ended: its clock stops."""
        self.notice: str | None = None
        self.results: list[dict[str, str]] = []
        self.reconnecting: str | None = None
        self._last_event_at: int | None = None
        self._status_markup = ""
        self._hyper_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static(f"{self.job_id} · loading…", id="job-status")
        yield Static("", id="job-hyper")
        yield Static("", id="job-notice", markup=False)
        with TabbedContent():
            with TabPane("Chart", id="tab-chart"), Horizontal():
                yield LossChart(id="job-chart")
                yield RichLog(id="job-events-side", max_lines=2_000, wrap=True, markup=False)
            with TabPane("Events", id="tab-events"):
                yield RichLog(id="job-events", max_lines=20_000, wrap=True, markup=False)
            with TabPane("Checkpoints", id="tab-checkpoints"):
                table: DataTable[Any] = DataTable(id="job-checkpoints", cursor_type="row")
                table.add_columns("Step", "Train loss", "Valid loss", "Accuracy", "Model")
                yield table
                yield Static("", id="job-checkpoint-detail", markup=False)
            with TabPane("Results", id="tab-results"):
                results: DataTable[Any] = DataTable(id="job-results", zebra_stripes=True)
                yield results

    def on_mount(self) -> None:
        self._fit(self.app.size.width)
        # query, not query_one: when the app quits while the tabs mount, they are gone
        self.query(LossChart).focus()
        self.set_interval(1.0, self._tick)  # elapsed time moves between polls
        self.follow()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Wide terminals show the latest events beside the chart; narrow ones use a tab."""
        self.query("#job-events-side").set(display=width >= WIDE)

    # --- following ---------------------------------------------------------------------

    @work(exclusive=True, group="job-follow", exit_on_error=False)
    async def follow(self) -> None:
        """Poll until the job ends; a lasting failure (404, 401, no key) is shown in place."""
        try:
            await self._follow()
        except Exception as exc:
            status = self.query_one("#job-status", Static)
            tunebench_app(self).report_error(exc, inline=status)

    async def _follow(self) -> None:
        from tui.api import jobs as api

        interval = tunebench_app(self).settings.ui.poll_interval
        client = api_client(self, max_retries=0)
        first = True
        async with client:
            async for update in api.watch(client, self.job_id, interval=interval):
                if update.reconnecting or update.job is None:
                    self.reconnecting = update.reconnecting
                    self._show_status()
                    continue
                self.reconnecting = None
                was_active = self.job is not None and self.job.status not in api.TERMINAL
                self.job = update.job
                self._apply_events(update.events)
                self._show_notice(update.notice)
                if first or any("heckpoint" in e.message for e in update.events):
                    await self._load_checkpoints(client)
                first = False
                if self.job.status in api.TERMINAL:
                    if self.ended_at is None:
                        self.ended_at = self.job.finished_at or self._last_event_at or self._now()
                    await self._load_checkpoints(client)
                    await self._load_results(client, self.job)
                    if was_active:
                        self._announce_end(self.job)
                self._show_status()

    def _show_notice(self, notice: str | None) -> None:
        """One line for what the server did that the screen had to work around."""
        if notice is not None:
            self.notice = notice
            line = self.query_one("#job-notice", Static)
            line.update(notice)
            line.display = True

    def _apply_events(self, events: list[Any]) -> None:
        """One batch: one log write and one chart refresh."""
        if not events:
            return
        from tui.api.jobs import metric_point

        lines = [_event_line(e) for e in events]
        self.query_one("#job-events", RichLog).write(Text("\n".join(lines[-20_000:])))
        self.query_one("#job-events-side", RichLog).write(Text("\n".join(lines[-2_000:])))
        points = []
        total = 0
        for event in events:
            point = metric_point(event)
            if point is not None:
                points.append((point.step, point.values))
                total = max(total, int_or_none(event.data.get("total_steps")) or 0)
        chart = self.query_one(LossChart)
        chart.set_total_steps(total)
        chart.add_points(points)
        self.events_seen += len(events)
        self._last_event_at = max(e.created_at for e in events) or self._last_event_at

    async def _load_checkpoints(self, client: Any) -> None:
        """The checkpoints, and the tuned model as its own last row; the cursor stays on the
        model it was on."""
        from tui.api.jobs import list_checkpoints

        found = await list_checkpoints(client, self.job_id)
        self._show_notice(found.stopped)
        self.checkpoints = found.items
        table = self.query_one("#job-checkpoints", DataTable)
        selected = self._selected_checkpoint()
        table.clear()
        for ckpt in self.checkpoints:
            if ckpt.model is None or ckpt.model in table.rows:
                continue
            table.add_row(
                str(ckpt.step) if ckpt.step is not None else "?",
                _num(ckpt.train_loss),
                _num(ckpt.valid_loss),
                _num(ckpt.accuracy),
                _short(ckpt.model),
                key=ckpt.model,
            )
        final = self.job.fine_tuned_model if self.job is not None else None
        if final and final not in table.rows:
            table.add_row("final", "", "", "", _short(final), key=final)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self._show_checkpoint_detail()
        steps = [c.step for c in self.checkpoints if c.step is not None]
        self.query_one(LossChart).set_checkpoints(steps)

    def _selected_checkpoint(self) -> str | None:
        table = self.query_one("#job-checkpoints", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _show_checkpoint_detail(self) -> None:
        """The selected row's full model id (the table shortens it), to read and copy."""
        model = self._selected_checkpoint()
        detail = self.query_one("#job-checkpoint-detail", Static)
        detail.update(f"{model}\no: open it in the Playground · y: copy it" if model else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "job-checkpoints":
            self._show_checkpoint_detail()

    async def _load_results(self, client: Any, job: JobInfo) -> None:
        from tui.api.jobs import fetch_results

        if self.results or not job.result_files:
            return
        self.results = await fetch_results(client, job)
        table = self.query_one("#job-results", DataTable)
        table.clear(columns=True)
        if not self.results:
            return
        table.add_columns(*self.results[0].keys())
        for row in self.results:
            table.add_row(*row.values())

    def _announce_end(self, job: JobInfo) -> None:
        from tui.api.jobs import failure_text

        if job.status == "succeeded":
            self.app.notify(f"{job.id} succeeded: {job.fine_tuned_model}", title="Job finished")
        else:
            self.app.notify(failure_text(job), title="Job ended", severity="error", timeout=15)
        if tunebench_app(self).settings.ui.bell_on_job_end:
            self.app.bell()

    def _tick(self) -> None:
        if self.job is not None and self.ended_at is None:
            self._show_status()

    def _now(self) -> float:
        return tunebench_app(self).clock()

    def _show_status(self) -> None:
        status = self.query_one("#job-status", Static)
        status.set_class(self.reconnecting is not None, "reconnecting")
        job = self.job
        if job is None:
            status.update(f"{self.job_id} · {self.reconnecting or 'loading…'}")
            return
        line = Text.assemble((job.id, "bold"), " · ", status_text(job.status))
        chart = self.query_one(LossChart)
        if chart.total_steps:
            line.append(
                f" · step {chart.series['train_loss'].steps[-1] if chart.n_points else 0}"
                f"/{chart.total_steps}"
            )
        if job.created_at is not None:
            end = self.ended_at if self.ended_at is not None else self._now()
            line.append(f" · elapsed {duration(end - job.created_at)}")
        if job.estimated_finish and self.ended_at is None:
            left = job.estimated_finish - self._now()
            line.append(f" · finish ≈ {utc(job.estimated_finish, '%H:%M')} UTC")
            if left > 0:
                line.append(f" (in {duration(left)})")
        if job.fine_tuned_model:
            line.append(f" · {job.fine_tuned_model}", style="green3")
        if job.status == "failed":
            from tui.api.jobs import failure_text

            line.append(f"\n{failure_text(job)}", style="red")
        if self.reconnecting:
            line.append(f"\n{self.reconnecting}", style="bold yellow")
        if line.markup != self._status_markup:  # most polls change nothing
            self._status_markup = line.markup
            status.update(line)
        hp = job.hyperparameters
        parts = [job.model or "model ?", f"method {job.method or 'supervised'}"]
        parts += [
            f"{label} {hp[name]}"
            for name, label in (
                ("n_epochs", "epochs"),
                ("batch_size", "batch"),
                ("learning_rate_multiplier", "lr×"),
                ("beta", "beta"),
            )
            if name in hp
        ]
        if job.seed is not None:
            parts.append(f"seed {job.seed}")
        if job.training_file:
            parts.append(f"train {job.training_file}")
        if job.validation_file:
            parts.append(f"valid {job.validation_file}")
        hyper = " · ".join(parts)
        if hyper != self._hyper_text:
            self._hyper_text = hyper
            self.query_one("#job-hyper", Static).update(Text(hyper))

    # --- actions -----------------------------------------------------------------------

    def palette_commands(self) -> Iterator[SystemCommand]:
        chart = self.query_one(LossChart)
        yield SystemCommand(
            "Job: cancel", "Stop training (asks first)", lambda: self.action_control("cancel")
        )
        yield SystemCommand(
            "Job: pause", "Pause training (asks first)", lambda: self.action_control("pause")
        )
        yield SystemCommand(
            "Job: resume", "Resume a paused job (asks first)", lambda: self.action_control("resume")
        )
        yield SystemCommand(
            "Job: open in playground",
            "The selected checkpoint or the tuned model",
            self.action_open_model,
        )
        yield SystemCommand(
            "Job: deploy (Azure)",
            "Deploy the tuned model or the selected checkpoint so it answers",
            self.action_deploy,
        )
        yield SystemCommand(
            "Job: next tab", "Chart, events, checkpoints, results", self.action_next_tab
        )
        yield SystemCommand(
            "Chart: accuracy / loss",
            "Toggle what the chart shows",
            lambda: chart.action_flip("accuracy"),
        )
        yield SystemCommand(
            "Chart: EMA smoothing", "Toggle smoothing", lambda: chart.action_flip("smooth")
        )
        yield SystemCommand(
            "Chart: log scale", "Toggle a log y axis", lambda: chart.action_flip("log_scale")
        )
        yield SystemCommand("Job: back to the list", "", self.action_back)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_tab(self) -> None:
        """The next tab, with the keys going to what it shows (arrows move its rows)."""
        tabs = self.query_one(TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + 1) % len(TABS)]
        self.query_one(TAB_FOCUS[tabs.active]).focus()

    def action_control(self, action: str) -> None:
        if self.job is None:
            return
        verb, effect = CONTROL_WORDS[action]
        question = f"{verb} {self.job_id}?\nThis {effect}."

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_control(action)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="job-control", exit_on_error=False)
    async def run_control(self, action: str) -> None:
        from tui.api.jobs import control

        try:
            async with api_client(self) as client:
                job = await control(client, self.job_id, action)
        except Exception as exc:
            tunebench_app(self).report_error(exc)
            return
        self.app.notify(f"{job.id}: {job.status}")
        self.job = job
        self._show_status()  # the follower keeps polling and picks up the new state

    def _chosen_model(self) -> str | None:
        """The selected row on the Checkpoints tab, else the tuned model, else any checkpoint."""
        tabs = self.query_one(TabbedContent)
        selected = self._selected_checkpoint()
        if tabs.active == "tab-checkpoints" and selected:
            return selected
        model = self.job.fine_tuned_model if self.job is not None else None
        return model or selected

    def selected_model(self) -> str | None:
        """The model `o` opens and `d` deploys; says so when there is none yet."""
        model = self._chosen_model()
        if not model:
            self.app.notify("no tuned model or checkpoint yet", severity="warning")
        return model

    def action_open_model(self) -> None:
        model = self.selected_model()
        if model:
            self.app.post_message(OpenInPlayground(model))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "deploy":  # Azure only: elsewhere a tuned model answers at once
            from tui.screens.deploy import is_azure

            return is_azure(tunebench_app(self))
        return True

    def action_deploy(self) -> None:
        """Azure: deploy the tuned model, or the checkpoint selected in its tab."""
        model = self.selected_model()
        if model:
            tunebench_app(self).action_deploy(model)

    def action_copy_id(self) -> None:
        """Copy (OSC 52) the model `o` would open, else the job id: ids too long to select."""
        text = self._chosen_model() or self.job_id
        self.app.copy_to_clipboard(text)
        self.app.notify(f"copied {text}")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "job-checkpoints":
            self.app.post_message(OpenInPlayground(str(event.row_key.value)))


def _short(model: str, keep: int = 32) -> str:
    """Long `ft:` names keep their start and their distinguishing end."""
    return model if len(model) <= keep else f"{model[:14]}…{model[-(keep - 15) :]}"


def _num(value: float | None) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "—"


def _event_line(event: Any) -> str:
    level = "" if event.level == "info" else f"{event.level.upper()} "
    return f"{utc(event.created_at, '%H:%M:%S')} {level}{event.message}"
