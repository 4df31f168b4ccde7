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
from textual.widgets import Button, DataTable, Footer, Log, Static, TabbedContent, TabPane

from tui.appref import tunebench_app
from tui.messages import OpenInPlayground
from tui.screens.base import MainScreen
from tui.screens.jobs import api_client, status_text, utc
from tui.widgets.loss_chart import LossChart

WIDE = 140  # columns from which events sit beside the chart
TABS = ("tab-chart", "tab-events", "tab-checkpoints", "tab-results")
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

    AUTO_FOCUS = "#no"

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60; max-width: 100%; height: auto; border: round $warning;
        background: $surface; padding: 0 1;
    }
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
        yield Footer(compact=True)

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
    """

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Jobs", id="job.back"),
        Binding("t", "next_tab", "Tab", id="job.tab"),
        Binding("c", "control('cancel')", "Cancel", id="job.cancel"),
        Binding("p", "control('pause')", "Pause", id="job.pause"),
        Binding("u", "control('resume')", "Resume", id="job.resume"),
        Binding("o", "open_model", "Playground", id="job.open"),
        Binding("d", "deploy", "Deploy", id="job.deploy"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.job: Any = None
        self.events_seen = 0
        self.checkpoints: list[Any] = []
        self.results: list[dict[str, str]] = []
        self.reconnecting: str | None = None
        self._status_markup = ""
        self._hyper_text = ""

    def compose_body(self) -> ComposeResult:
        yield Static(f"{self.job_id} · loading…", id="job-status")
        yield Static("", id="job-hyper")
        with TabbedContent(initial="tab-chart"):
            with TabPane("Chart", id="tab-chart"), Horizontal():
                yield LossChart(id="job-chart")
                yield Log(id="job-events-side", max_lines=2_000, auto_scroll=True)
            with TabPane("Events", id="tab-events"):
                yield Log(id="job-events", max_lines=20_000, auto_scroll=True)
            with TabPane("Checkpoints", id="tab-checkpoints"):
                table: DataTable[Any] = DataTable(id="job-checkpoints", cursor_type="row")
                table.add_columns("Step", "Train loss", "Valid loss", "Accuracy", "Model")
                yield table
            with TabPane("Results", id="tab-results"):
                results: DataTable[Any] = DataTable(id="job-results", zebra_stripes=True)
                yield results

    def on_mount(self) -> None:
        self._fit(self.app.size.width)
        self.query_one(LossChart).focus()
        self.set_interval(1.0, self._tick)  # elapsed time moves between polls
        self.follow()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        """Wide terminals show the latest events beside the chart; narrow ones use a tab."""
        self.query_one("#job-events-side", Log).display = width >= WIDE

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
                if update.reconnecting:
                    self.reconnecting = update.reconnecting
                    self._show_status()
                    continue
                self.reconnecting = None
                was_active = self.job is not None and self.job.status not in api.TERMINAL
                self.job = update.job
                self._apply_events(update.events)
                if first or any("heckpoint" in e.message for e in update.events):
                    await self._load_checkpoints(client)
                first = False
                if self.job.status in api.TERMINAL:
                    await self._load_checkpoints(client)
                    await self._load_results(client)
                    if was_active:
                        self._announce_end()
                self._show_status()

    def _apply_events(self, events: list[Any]) -> None:
        """One batch: one log write and one chart refresh."""
        if not events:
            return
        from tui.api.jobs import metric_point

        lines = [_event_line(e) for e in events]
        self.query_one("#job-events", Log).write_lines(lines)
        self.query_one("#job-events-side", Log).write_lines(lines[-2_000:])
        points = []
        total = 0
        for event in events:
            point = metric_point(event)
            if point is not None:
                points.append((point.step, point.values))
                total = max(total, int(event.data.get("total_steps") or 0))
        chart = self.query_one(LossChart)
        chart.set_total_steps(total)
        chart.add_points(points)
        self.events_seen += len(events)

    async def _load_checkpoints(self, client: Any) -> None:
        from tui.api.jobs import list_checkpoints

        self.checkpoints = await list_checkpoints(client, self.job_id)
        table = self.query_one("#job-checkpoints", DataTable)
        table.clear()
        for ckpt in self.checkpoints:
            m = ckpt.metrics
            table.add_row(
                str(ckpt.step_number),
                _num(getattr(m, "train_loss", None)),
                _num(getattr(m, "valid_loss", None) or getattr(m, "full_valid_loss", None)),
                _num(getattr(m, "train_mean_token_accuracy", None)),
                _short(ckpt.fine_tuned_model_checkpoint),
                key=ckpt.fine_tuned_model_checkpoint,
            )
        self.query_one(LossChart).set_checkpoints([c.step_number for c in self.checkpoints])

    async def _load_results(self, client: Any) -> None:
        from tui.api.jobs import fetch_results

        if self.results or not self.job.result_files:
            return
        self.results = await fetch_results(client, self.job)
        table = self.query_one("#job-results", DataTable)
        table.clear(columns=True)
        if not self.results:
            return
        table.add_columns(*self.results[0].keys())
        for row in self.results:
            table.add_row(*row.values())

    def _announce_end(self) -> None:
        from tui.api.jobs import failure_text

        job = self.job
        if job.status == "succeeded":
            self.app.notify(f"{job.id} succeeded: {job.fine_tuned_model}", title="Job finished")
        else:
            self.app.notify(failure_text(job), title="Job ended", severity="error", timeout=15)
        if tunebench_app(self).settings.ui.bell_on_job_end:
            self.app.bell()

    def _tick(self) -> None:
        if self.job is not None and self.job.finished_at is None:
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
        end = job.finished_at or self._now()
        line.append(f" · elapsed {duration(end - job.created_at)}")
        if job.estimated_finish and not job.finished_at:
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
        parts = [job.model, f"method {getattr(job.method, 'type', None) or 'supervised'}"]
        if hp is not None:
            parts += [
                f"epochs {hp.n_epochs}",
                f"batch {hp.batch_size}",
                f"lr× {hp.learning_rate_multiplier}",
            ]
        parts += [f"seed {job.seed}", f"suffix {job.user_provided_suffix or '—'}"]
        parts += [f"train {job.training_file}"]
        if job.validation_file:
            parts.append(f"valid {job.validation_file}")
        hyper = " · ".join(str(p) for p in parts)
        if hyper != self._hyper_text:
            self._hyper_text = hyper
            self.query_one("#job-hyper", Static).update(hyper)

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
        tabs = self.query_one(TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + 1) % len(TABS)]

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

        async with api_client(self) as client:
            job = await control(client, self.job_id, action)
        self.app.notify(f"{job.id}: {job.status}")
        self.job = job
        self._show_status()  # the follower keeps polling and picks up the new state

    def selected_model(self) -> str | None:
        """The selected checkpoint in the Checkpoints tab, else the tuned model."""
        tabs = self.query_one(TabbedContent)
        model = self.job.fine_tuned_model if self.job is not None else None
        table = self.query_one("#job-checkpoints", DataTable)
        if (tabs.active == "tab-checkpoints" or not model) and table.row_count:
            row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            model = str(row.value)
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

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "job-checkpoints":
            self.app.post_message(OpenInPlayground(str(event.row_key.value)))


def _short(model: str, keep: int = 44) -> str:
    """Long `ft:` names keep their start and their distinguishing end."""
    return model if len(model) <= keep else f"{model[:14]}…{model[-(keep - 15) :]}"


def _num(value: float | None) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "—"


def _event_line(event: Any) -> str:
    level = "" if event.level == "info" else f"{event.level.upper()} "
    return f"{utc(event.created_at, '%H:%M:%S')} {level}{event.message}"
