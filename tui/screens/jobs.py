"""The Jobs screen: the profile's jobs (paged, filtered by status); Enter opens a job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import DataTable, Static

from tui.appref import tunebench_app
from tui.screens.base import MainScreen

if TYPE_CHECKING:
    from openai import AsyncOpenAI

STATUS_STYLES = {
    "validating_files": "yellow",
    "queued": "yellow",
    "running": "bold dodger_blue1",
    "pausing": "magenta",
    "paused": "magenta",
    "succeeded": "bold green3",
    "failed": "bold red",
    "cancelled": "grey50",
}
FILTERS = ("all", "active", "succeeded", "failed", "cancelled")
ACTIVE = frozenset({"validating_files", "queued", "running", "pausing", "paused"})
PAGE_SIZE = 20


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def utc(timestamp: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return time.strftime(fmt, time.gmtime(timestamp)) if timestamp else "—"


def api_client(node: DOMNode, **kwargs: Any) -> AsyncOpenAI:
    """A client for the current profile of the app `node` runs in."""
    from tui.api.client import open_client

    app = tunebench_app(node)
    return open_client(app.loaded, app.profile_name, **kwargs)


def _keep(status: str, wanted: str) -> bool:
    if wanted == "all":
        return True
    if wanted == "active":
        return status in ACTIVE
    return status == wanted


class JobsScreen(MainScreen):
    TITLE = "Jobs"
    DEFAULT_CSS = """
    JobsScreen #jobs-bar { height: 1; padding: 0 1; background: $panel; }
    JobsScreen #jobs-table { height: 1fr; }
    JobsScreen #jobs-message { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("enter", "open", "Open", id="jobs.open", show=False),
        Binding("n", "app.launch_job", "New job", id="jobs.new"),
        Binding("f", "filter", "Filter", id="jobs.filter"),
        Binding("m", "more", "More", id="jobs.more"),
        Binding("r", "reload", "Reload", id="jobs.reload"),
        Binding(
            "d",
            "app.show_deployments",
            "Deployments",
            id="jobs.deployments",
            show=False,  # Azure only; F1 and Ctrl+P list it
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[Any] = []
        self.has_more = False
        self.filter = "all"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="jobs-bar")
        table: DataTable[Any] = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Job", "Status", "Base model", "Created (UTC)", "Tokens", "Tuned model")
        yield table
        yield Static("", id="jobs-message")

    def on_mount(self) -> None:
        self._update_bar()

    def _update_bar(self) -> None:
        shown = sum(1 for j in self.jobs if _keep(j.status, self.filter))
        more = " · m: more" if self.has_more else ""
        self.query_one("#jobs-bar", Static).update(
            f"[b]{shown}[/b] of {len(self.jobs)} jobs loaded · filter: [b]{self.filter}[/b] "
            f"(f){more} · Enter: open · n: new job"
        )

    def _render_table(self) -> None:
        table = self.query_one("#jobs-table", DataTable)
        selected = self._selected_id()
        table.clear()
        for job in self.jobs:
            if not _keep(job.status, self.filter):
                continue
            tokens = f"{job.trained_tokens:,}" if job.trained_tokens else "—"
            table.add_row(
                job.id,
                status_text(job.status),
                job.model,
                utc(job.created_at),
                tokens,
                job.fine_tuned_model or "—",
                key=job.id,
            )
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self._update_bar()
        message = self.query_one("#jobs-message", Static)
        if not self.jobs:
            message.update("No jobs on this profile yet. Press n to launch one.")
        else:
            message.update("")

    def _selected_id(self) -> str | None:
        table = self.query_one("#jobs-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @work(exclusive=True, group="jobs-list", exit_on_error=False)
    async def load_jobs(self, more: bool = False) -> None:
        from tui.api import jobs as api

        message = self.query_one("#jobs-message", Static)
        message.update("loading jobs…")
        try:
            client = api_client(self)
            async with client:
                after = self.jobs[-1].id if more and self.jobs else None
                page = await api.list_jobs(client, after=after, limit=PAGE_SIZE)
        except Exception as exc:
            tunebench_app(self).report_error(exc, inline=message)
            return
        self.jobs = [*self.jobs, *page.jobs] if more else page.jobs
        self.has_more = page.has_more
        self._render_table()

    def palette_commands(self) -> Iterator[SystemCommand]:
        yield SystemCommand(
            "Jobs: open the selected job", "Chart, events, checkpoints", self.action_open
        )
        yield SystemCommand(
            "Jobs: filter by status",
            "all → active → succeeded → failed → cancelled",
            self.action_filter,
        )
        yield SystemCommand("Jobs: load more", "The next page of jobs", self.action_more)
        yield SystemCommand("Jobs: reload", "Fetch the list again", self.action_reload)

    def action_reload(self) -> None:
        self.load_jobs()

    def action_more(self) -> None:
        if self.has_more:
            self.load_jobs(more=True)

    def action_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self._render_table()

    def action_open(self) -> None:
        job_id = self._selected_id()
        if job_id is not None:
            self.open_job(job_id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_job(str(event.row_key.value))

    def open_job(self, job_id: str) -> None:
        from tui.screens.job_detail import JobDetailScreen

        self.app.push_screen(JobDetailScreen(job_id))

    def on_screen_resume(self) -> None:
        """Shown for the first time or again (back from a job): the list is fetched anew."""
        self.load_jobs()
