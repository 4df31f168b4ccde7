"""Azure deployments in the app: deploy a tuned model or checkpoint (a dialog that follows
provisioning until the model answers), and the resource's deployments (state, type, the
Developer tier's lifetime, delete after a yes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from tui.appref import tunebench_app
from tui.core.models import short_name
from tui.messages import OpenInPlayground
from tui.screens.base import DIALOG
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from tui.api.arm import ArmDeployments, DeploymentBook
    from tui.api.chat import ModelChoice
    from tui.app import TunebenchApp

SKU_CHOICES = [
    ("Standard (regional)", "standard"),
    ("Global standard", "globalstandard"),
    ("Developer (24-hour lifetime)", "developer"),
]
SKU_NOTES = {
    "standard": "Runs in the resource's region. Hosting is billed per hour while deployed.",
    "globalstandard": "May run in any Azure region. Hosting is billed per hour while deployed.",
    "developer": "Removed after 24 hours; no SLA; no hosting fee, tokens only. For trying a "
    "model out.",
}
WAIT_SECONDS = 1800.0


def is_azure(app: TunebenchApp) -> bool:
    _name, profile = app.loaded.profile(app.profile_name)
    return bool(profile.kind == "azure")


async def deployment_choices(app: TunebenchApp) -> tuple[list[ModelChoice], str]:
    """Azure: the ready deployments as Playground choices (the app's book refreshed), and a
    warning when they cannot be listed (the rest of the model list still works)."""
    from tui.api.chat import ModelChoice
    from tui.errors import describe

    if not is_azure(app):
        return [], ""
    try:
        async with _arm(app) as arm:
            app.deployments.replace(await arm.list())
    except Exception as exc:
        return [], f"deployments not listed: {describe(exc)}"
    ready = [d for d in app.deployments.deployments if d.state == "Succeeded"]
    return [ModelChoice(d.name, "deployment", d.model) for d in ready], ""


def not_deployed(app: TunebenchApp, model: str) -> str | None:
    """Azure: why `model` cannot answer yet (a tuned model without a ready deployment)."""
    from tui.core.models import is_tuned

    if not is_azure(app) or not is_tuned(model):
        return None
    if app.deployments.named(model) is not None:
        return None
    # what to do first: the line is cut at the screen's width, and Azure's ids are long
    return (
        f"Deploy it first: d on its job (Jobs, 2), then pick the deployment (F2) · "
        f"{short_name(model)} is not deployed, and on Azure a tuned model answers only once "
        f"deployed ({model})"
    )


def key_name(screen: Screen[Any], action: str) -> str:
    """The key `action` is bound to on `screen` now (the config's `keys:` may rebind it), as
    the dialog's words say it: `Ctrl+S`, `Esc`, `x`."""
    for active in screen.active_bindings.values():
        if active.binding.action == action:
            key = active.binding.key
            if len(key) == 1:
                return key
            return "+".join("Esc" if p == "escape" else p.capitalize() for p in key.split("+"))
    return "?"


def _arm(app: TunebenchApp) -> ArmDeployments:
    from tui.api.client import arm_deployments, endpoint_for

    return arm_deployments(endpoint_for(app.loaded, app.profile_name))


class DeployScreen(ModalScreen[str | None]):
    """Deploy MODEL under a name; stays open with progress until Succeeded or Failed."""

    CSS_PATH = "deploy.tcss"
    DEFAULT_CLASSES = DIALOG
    AUTO_FOCUS = "#d-name"
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "deploy", "Deploy", id="deploy.go"),
        Binding("escape", "close", "Close", id="deploy.close"),
    ]

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self.deploying = False

    def compose(self) -> ComposeResult:
        from tui.api.arm import default_name

        with Vertical(id="deploy-box"):
            yield Static(f"[b]Deploy[/b] {self.model}", id="d-title", markup=True)
            with Horizontal(classes="d-row"):
                yield Label("name")
                yield Input(default_name(self.model), id="d-name", compact=True)
            with Horizontal(classes="d-row"):
                yield Label("type")
                yield Select(
                    SKU_CHOICES, value="standard", allow_blank=False, compact=True, id="d-sku"
                )
            with Horizontal(classes="d-row"):
                yield Label("capacity")
                yield Input("1", id="d-capacity", type="integer", compact=True)
            yield Static(SKU_NOTES["standard"], id="d-note")
            yield Static("", id="d-progress")
            with Horizontal(id="d-buttons"):
                yield Button("Deploy", id="deploy", variant="primary")
                yield Button("Close", id="close")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#deploy", Button).label = f"Deploy ({key_name(self, 'deploy')})"
        self.query_one("#close", Button).label = f"Close ({key_name(self, 'close')})"

    @on(Select.Changed, "#d-sku")
    def _sku_note(self, event: Select.Changed) -> None:
        self.query_one("#d-note", Static).update(SKU_NOTES.get(str(event.value), ""))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "deploy":
            self.action_deploy()
        else:
            self.action_close()

    def progress(self, text: str) -> None:
        self.query_one("#d-progress", Static).update(text)

    def action_deploy(self) -> None:
        from tui.api.arm import check_name, sku_name
        from tui.errors import UsageError

        try:
            name = check_name(self.query_one("#d-name", Input).value.strip())
            capacity_text = self.query_one("#d-capacity", Input).value.strip()
            capacity = int(capacity_text) if capacity_text else 0
            if capacity < 1:
                raise UsageError("capacity: give a whole number of at least 1")
            sku = sku_name(str(self.query_one("#d-sku", Select).value))
        except UsageError as exc:
            self.progress(str(exc))
            return
        self.query_one("#deploy", Button).disabled = True
        self.deploying = True
        self.deploy(name, sku, capacity)

    @work(exclusive=True, group="deploy", exit_on_error=False)
    async def deploy(self, name: str, sku: str, capacity: int) -> None:
        app = tunebench_app(self)
        try:
            async with _arm(app) as arm:
                self.progress(f"deploying as {name} ({sku}, capacity {capacity})…")
                await arm.create(self.model, name, sku, capacity)
                final = await arm.wait(
                    name,
                    interval=app.settings.ui.poll_interval,
                    timeout=WAIT_SECONDS,
                    on_state=lambda d, s: self.progress(f"{name}: {d.state} ({s:.0f} s)…"),
                )
        except Exception as exc:
            app.report_error(exc, inline=self.query_one("#d-progress", Static))
            self.query_one("#deploy", Button).disabled = False
            return
        finally:
            self.deploying = False
        app.deployments.upsert(final)
        if final.state != "Succeeded":
            self.progress(f"{name}: {final.state}; see the resource's activity log in the portal")
            self.query_one("#deploy", Button).disabled = False
            return
        lifetime = final.lifetime_text(datetime.fromtimestamp(app.clock(), UTC))
        app.notify(
            f"{name} answers now: pick it in the Playground (3, F2)"
            + (f" · {lifetime}" if lifetime else ""),
            title="Deployed",
        )
        self.dismiss(name)

    def action_close(self) -> None:
        if self.deploying:
            self.workers.cancel_group(self, "deploy")
            self.app.notify(
                "stopped waiting; the deployment goes on in Azure (Jobs: d lists deployments)",
                severity="warning",
            )
        self.dismiss(None)


class DeploymentsScreen(ModalScreen[None]):
    """The profile's Azure deployments: Enter talks to one, x deletes (asks first)."""

    CSS_PATH = "deploy.tcss"
    DEFAULT_CLASSES = DIALOG
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "close", "Close", id="deployments.close"),
        Binding("enter,o", "open", "Playground", id="deployments.open"),
        Binding("x", "delete", "Delete", id="deployments.delete"),
        Binding("r", "reload", "Reload", id="deployments.reload"),
    ]

    def compose(self) -> ComposeResult:
        app = tunebench_app(self)
        with Vertical(id="deployments-box"):
            yield Static(
                f"[b]Deployments[/b] · profile {app.profile_name} · a tuned model answers only "
                "once deployed",
                id="dep-title",
            )
            table: DataTable[Any] = DataTable(id="dep-table", cursor_type="row")
            table.add_columns("Name", "State", "Type", "Cap.", "Lifetime", "Model")
            yield table
            yield Static("", id="dep-detail")
            yield Static("loading…", id="dep-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._fill_table()
        self.load()

    @property
    def book(self) -> DeploymentBook:
        return tunebench_app(self).deployments

    def _fill_table(self) -> None:
        table = self.query_one("#dep-table", DataTable)
        table.clear()
        now = datetime.fromtimestamp(tunebench_app(self).clock(), UTC)
        for d in self.book.deployments:
            table.add_row(
                d.name,
                d.state,
                d.sku,
                "—" if d.capacity is None else str(d.capacity),
                d.time_left(now) or "—",
                short_name(d.model),  # the full id is on the detail line below
                key=d.name,
            )
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """The selected deployment's full model id (cut in the table at 80 columns)."""
        name = self._selected()
        found = self.book.named(name) if name else None
        text = ""
        if found is not None:
            now = datetime.fromtimestamp(tunebench_app(self).clock(), UTC)
            lifetime = found.lifetime_text(now)
            text = f"{found.name} serves {found.model}" + (f"\n{lifetime}" if lifetime else "")
        self.query_one("#dep-detail", Static).update(text)

    @work(exclusive=True, group="deployments", exit_on_error=False)
    async def load(self) -> None:
        message = self.query_one("#dep-message", Static)
        try:
            async with _arm(tunebench_app(self)) as arm:
                self.book.replace(await arm.list())
        except Exception as exc:
            tunebench_app(self).report_error(exc, inline=message)
            return
        self._fill_table()
        count = len(self.book.deployments)
        message.update(
            "No deployments yet: press d on a succeeded job or a checkpoint to deploy it."
            if not count
            else f"{count} deployment{'s' if count != 1 else ''} · Enter: talk to it · "  # the row
            f"{key_name(self, 'delete')}: delete · {key_name(self, 'reload')}: reload"
        )

    def _selected(self) -> str | None:
        table = self.query_one("#dep-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_reload(self) -> None:
        self.load()

    def action_open(self) -> None:
        name = self._selected()
        if name is None:
            return
        self.dismiss(None)
        self.app.post_message(OpenInPlayground(name))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_delete(self) -> None:
        from tui.screens.job_detail import ConfirmScreen

        name = self._selected()
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(name)

        question = (
            f"Delete deployment {name}?\nIt stops answering at once; the tuned model itself "
            "stays and can be deployed again."
        )
        self.app.push_screen(ConfirmScreen(question), answered)

    @work(exclusive=True, group="deployments", exit_on_error=False)
    async def delete(self, name: str) -> None:
        message = self.query_one("#dep-message", Static)
        message.update(f"deleting {name}…")
        try:
            async with _arm(tunebench_app(self)) as arm:
                await arm.delete(name)
        except Exception as exc:
            tunebench_app(self).report_error(exc, inline=message)
            return
        self.book.remove(name)
        self._fill_table()
        message.update(f"deleted {name}")
        self.app.notify(f"deleted deployment {name}")

    def action_close(self) -> None:
        self.dismiss(None)
