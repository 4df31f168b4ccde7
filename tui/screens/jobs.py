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

from tui.api.job_info import JobInfo
from tui.appref import tunebench_app
from tui.screens.base import MainScreen

if TYPE_CHECKING:
    from openai import AsyncOpenAI

STATUS_STYLES = {
    "validating_files": "yellow",
    "queued": "yellow",
    "pending": "yellow",  # Azure OpenAI's job before it runs
    "running": "bold dodger_blue1",
    "pausing": "magenta",
    "paused": "magenta",
    "succeeded": "bold green3",
    "failed": "bold red",
    "cancelled": "grey50",
}
FILTERS = ("all", "active", "succeeded", "failed", "cancelled")
ACTIVE = frozenset({"validating_files", "queued", "pending", "running", "pausing", "paused"})
PAGE_SIZE = 20


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def utc(timestamp: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not timestamp:
        return "—"
    try:
        return time.strftime(fmt, time.gmtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return "—"


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
    JobsScreen #jobs-detail { height: auto; padding: 0 1; }
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
        Binding("y", "copy_id", "Copy id", id="jobs.copy", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[JobInfo] = []
        self.has_more = False
        self.paging_note = ""
        """Why "more" is no longer offered although the server said there were more."""
        self.filter = "all"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="jobs-bar")
        table: DataTable[Any] = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Job", "Status", "Base model", "Created (UTC)", "Tokens", "Tuned model")
        yield table
        yield Static("", id="jobs-detail", markup=False)
        yield Static("", id="jobs-message", markup=False)

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
                job.model or "—",
                utc(job.created_at),
                tokens,
                job.fine_tuned_model or "—",
                key=job.id,
            )
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self._update_bar()
        self._show_detail()
        message = self.query_one("#jobs-message", Static)
        if not self.jobs:
            message.update("No jobs on this profile yet. Press n to launch one.")
        else:
            message.update(self.paging_note)

    def _show_detail(self) -> None:
        """The selected job's full id and tuned model: the table cuts them at 80 columns."""
        job_id = self._selected_id()
        job = next((j for j in self.jobs if j.id == job_id), None)
        text = ""
        if job is not None:
            text = f"{job.id}  (y copies it)\n{job.fine_tuned_model or 'no tuned model yet'}"
        self.query_one("#jobs-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def action_copy_id(self) -> None:
        job_id = self._selected_id()
        if job_id is not None:
            self.app.copy_to_clipboard(job_id)
            self.app.notify(f"copied {job_id}")

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
        known = {job.id for job in self.jobs} if more else set()
        fresh: list[JobInfo] = []
        for job in page.jobs:
            if job.id not in known:
                known.add(job.id)
                fresh.append(job)
        self.jobs = [*self.jobs, *fresh] if more else fresh
        self.has_more = page.has_more and bool(fresh)
        self.paging_note = ""
        if more and page.jobs and not fresh:
            self.paging_note = "the server sent the same jobs again; there are no more to load"
        elif more and not page.jobs:
            self.paging_note = "the server said there were more jobs but sent none"
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
