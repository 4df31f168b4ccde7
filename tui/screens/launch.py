"""The launch form: choices on the left, the pre-flight check below; Confirm uploads (once)
and creates the job. Dismisses with the new job's id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from tui.api.options import (
    AUTO,
    TRAINING_TYPES,
    parse_auto,
    parse_metadata,
    parse_validation,
)
from tui.appref import tunebench_app
from tui.core.models import MODELS, is_checkpoint, is_tuned
from tui.errors import UsageError, describe
from tui.screens.base import DIALOG, ReportsWorkerErrors
from tui.widgets.key_footer import KeyFooter


class _Superseded(Exception):
    """A newer pre-flight was asked: the running one stops."""


class LaunchScreen(ReportsWorkerErrors, ModalScreen[str | None]):
    """Profile, model, method, hyperparameters, suffix, seed, validation, metadata; pre-flight."""

    DEFAULT_CLASSES = DIALOG
    # Under 24 rows the form scrolls in fewer rows so the pre-flight (what the job costs,
    # what blocks it) stays readable; the buttons' keys are in the footer.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]  # noqa: RUF012
    DEFAULT_CSS = """
    LaunchScreen #launch-form { height: auto; max-height: 60vh; }
    LaunchScreen.-short #launch-form { max-height: 25vh; }
    LaunchScreen.-short #launch-buttons { display: none; }
    LaunchScreen .row { height: 1; }
    LaunchScreen .row Label { width: 16; padding: 0 1 0 0; text-align: right; }
    LaunchScreen .row Input, LaunchScreen .row Select { width: 1fr; }
    LaunchScreen #preflight {
        height: auto; max-height: 12; border-top: solid $primary-darken-2; padding: 0 1;
    }
    LaunchScreen #launch-message { height: auto; padding: 0 1; color: $warning; }
    LaunchScreen #launch-progress { display: none; padding: 0 1; }
    LaunchScreen #launch-progress.-uploading { display: block; }
    LaunchScreen #launch-buttons { height: 1; align-horizontal: right; }
    LaunchScreen Button { margin-left: 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "check", "Pre-flight", id="launch.check"),
        Binding("ctrl+s,ctrl+j", "confirm", "Confirm", id="launch.confirm"),
    ]

    def __init__(self, dataset_path: Path | None) -> None:
        super().__init__()
        self.dataset_path = dataset_path
        self.check: Any = None  # the last Preflight
        self._asked = 0
        """The number of the latest pre-flight asked for: only its answer is shown. A cancelled
        thread worker still runs to its end, and the first check (on the default model) can
        finish after the one asked when the server's model list arrived."""
        self._checking = False  # a pre-flight is running: Ctrl+S waits for it
        self._launching: Any = None  # the Preflight whose files a launch is sending
        self._confirm_when_checked = False

    def compose(self) -> ComposeResult:
        app = tunebench_app(self)
        settings = app.settings
        profiles = [(name, name) for name in settings.profiles]
        models = [
            (f"{m.name} (shuts down {m.shutdown_date or '—'})", m.name)
            for m in MODELS
            if "supervised" in m.methods or "dpo" in m.methods
        ]
        default_model = settings.defaults.model
        if default_model not in [value for _, value in models]:
            models.insert(0, (default_model, default_model))
        epochs = str(settings.defaults.epochs)
        with Vertical():
            yield Static("[b]Launch a fine-tuning job[/b]  (Esc: cancel · Ctrl+S: confirm)")
            with VerticalScroll(id="launch-form"):
                yield from _row(
                    "Dataset", Input(compact=True, value=str(self.dataset_path or ""), id="f-path")
                )
                yield from _row(
                    "Profile",
                    Select(
                        compact=True,
                        options=profiles,
                        value=app.profile_name,
                        allow_blank=False,
                        id="f-profile",
                    ),
                )
                yield from _row(
                    "Base model",
                    Select(
                        compact=True,
                        options=models,
                        value=default_model,
                        allow_blank=False,
                        id="f-model",
                    ),
                )
                yield from _row(
                    "Method",
                    Select(
                        compact=True,
                        options=[("supervised", "supervised"), ("dpo", "dpo")],
                        value="supervised",
                        allow_blank=False,
                        id="f-method",
                    ),
                )
                yield from _row(
                    "Training type",  # Azure only: shown for azure profiles
                    Select(
                        compact=True,
                        options=[(t, t) for t in TRAINING_TYPES],
                        value="standard",
                        allow_blank=False,
                        id="f-training-type",
                    ),
                )
                yield from _row("Epochs", Input(compact=True, value=epochs, id="f-epochs"))
                yield from _row("Batch size", Input(compact=True, value=AUTO, id="f-batch"))
                yield from _row("LR multiplier", Input(compact=True, value=AUTO, id="f-lr"))
                yield from _row("DPO beta", Input(compact=True, value=AUTO, id="f-beta"))
                yield from _row(
                    "Suffix", Input(compact=True, value="", placeholder="optional", id="f-suffix")
                )
                yield from _row(
                    "Seed",
                    Input(compact=True, value="", placeholder="optional number", id="f-seed"),
                )
                yield from _row(
                    "Validation",
                    Input(
                        compact=True,
                        value="",
                        placeholder="file path, or a split like 10%",
                        id="f-validation",
                    ),
                )
                yield from _row(
                    "Metadata",
                    Input(
                        compact=True, value="", placeholder="key=value, key=value", id="f-metadata"
                    ),
                )
            yield Static("pre-flight: checking…", id="preflight")
            yield Static("", id="launch-message")
            yield ProgressBar(id="launch-progress", show_eta=False)
            with Horizontal(id="launch-buttons"):
                yield Button(compact=True, label="Check (Ctrl+R)", id="check")
                yield Button(
                    compact=True,
                    label="Confirm (Ctrl+S)",
                    id="confirm",
                    variant="success",
                    disabled=True,
                )
                yield Button(compact=True, label="Cancel (Esc)", id="cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_training_type()
        self.query_one("#f-path", Input).focus()
        self.run_preflight()
        self.load_models()

    # --- reading the form -----------------------------------------------------------------

    def _value(self, field_id: str) -> str:
        widget = self.query_one(f"#{field_id}")
        if isinstance(widget, Select):
            return str(widget.value)
        assert isinstance(widget, Input)
        return widget.value.strip()

    def _epochs(self) -> int | None:
        value = parse_auto(self._value("f-epochs"), int, "epochs")
        return None if value == AUTO else int(value)

    def _validation(self) -> tuple[Path | None, float | None]:
        return parse_validation(self._value("f-validation"))

    def _seed(self) -> int | None:
        text = self._value("f-seed")
        if not text:
            return None
        if not text.isdigit():
            raise UsageError(f"seed: expected a whole number, got {text!r}")
        return int(text)

    def spec(self) -> Any:
        from tui.api.jobs import LaunchSpec

        method = self._value("f-method")
        return LaunchSpec(
            model=self.check.model if self.check else self._value("f-model"),
            method=method,
            n_epochs=parse_auto(self._value("f-epochs"), int, "epochs"),
            batch_size=parse_auto(self._value("f-batch"), int, "batch size"),
            learning_rate_multiplier=parse_auto(self._value("f-lr"), float, "LR multiplier"),
            beta=parse_auto(self._value("f-beta"), float, "DPO beta"),
            suffix=self._value("f-suffix") or None,
            seed=self._seed(),
            metadata=parse_metadata([self._value("f-metadata")]),
            training_type=self._value("f-training-type") if self._azure_profile() else None,
        )

    # --- pre-flight -----------------------------------------------------------------------

    def on_input_submitted(self) -> None:
        self.run_preflight()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("f-model",) and self.is_mounted:
            self.run_preflight()
        if event.select.id == "f-profile" and self.is_mounted:
            self._show_training_type()
            self.run_preflight()  # a local trainer counts and prices differently

    def _profile_kind(self) -> str | None:
        chosen = tunebench_app(self).settings.profiles.get(self._value("f-profile"))
        return None if chosen is None else chosen.kind

    def _azure_profile(self) -> bool:
        return self._profile_kind() == "azure"

    def _show_training_type(self) -> None:
        row = self.query_one("#f-training-type").parent
        if row is not None:
            row.display = self._azure_profile()

    def action_check(self) -> None:
        self.run_preflight()

    def run_preflight(self) -> None:
        """Read the form here, check in a thread (tokenizing can take a moment)."""
        app = tunebench_app(self)
        self._asked += 1  # whatever an older check finds now is out of date
        self._drop(self.check)
        self.check = None  # Ctrl+S waits for this one
        self._checking = False
        try:
            path_text = self._value("f-path")
            if not path_text:
                raise UsageError("choose a dataset file first")
            validation, split = self._validation()
            kwargs = {
                "epochs": self._epochs(),
                "validation_path": validation,
                "split_percent": split,
                "seed": self._seed() or 0,
                "system": app.settings.dataset.system_prompt or None,
                "sep": app.settings.dataset.separator,
                "local": self._profile_kind() == "local",
            }
        except UsageError as exc:
            self._set_confirm(False, f"[red]{exc}[/red]")
            return
        self._set_confirm(False, "pre-flight: checking…")
        self._checking = True
        self._preflight(self._asked, Path(path_text).expanduser(), self._value("f-model"), kwargs)

    @work(group="launch-preflight", thread=True, exit_on_error=False)
    def _preflight(self, asked: int, path: Path, model: str, kwargs: dict[str, Any]) -> None:
        """A big file takes a while (about a minute at 500 MB): the panel shows each step's
        progress, and a check asked later stops this one at its next block (not exclusive:
        a thread worker cannot be cancelled, so each waits for its own end)."""
        from tui.api.preflight import preflight

        shown: tuple[str, int] | None = None

        def progress(step: str, done: int, total: int) -> None:
            nonlocal shown
            if asked != self._asked:
                raise _Superseded
            percent = done * 100 // total if total else 100
            if shown != (step, percent):
                shown = (step, percent)
                text = f"pre-flight: {step}… {percent}%"
                self.app.call_from_thread(self._show_progress, asked, text)

        try:
            check = preflight(path, model, progress=progress, **kwargs)
        except _Superseded:
            return
        except (UsageError, OSError) as exc:
            self.app.call_from_thread(self._show_failure, asked, f"[red]{describe(exc)}[/red]")
            return
        self.app.call_from_thread(self._show_check, asked, check)

    def _show_progress(self, asked: int, text: str) -> None:
        if asked == self._asked:
            self._set_confirm(False, text)

    def _show_failure(self, asked: int, text: str) -> None:
        if asked == self._asked:
            self._checking = self._confirm_when_checked = False
            self._set_confirm(False, text)

    def _drop(self, check: Any) -> None:
        """Remove a check's temporary upload files now, unless a launch is sending them."""
        if check is not None and check is not self._launching:
            check.remove()

    def on_unmount(self) -> None:
        self._drop(self.check)

    def _show_check(self, asked: int, check: Any) -> None:
        if asked != self._asked:
            check.remove()
            return  # an older check (another model or file) finished late
        self.check = check
        self._checking = False
        method = self.query_one("#f-method", Select)
        if method.value != check.method:
            method.value = check.method
        if check.local and not check.blocked:
            from tui.api.preflight import ASKING

            check.server_note = ASKING
            self._ask_server(asked, check)
        self._render_check(check)
        if self._confirm_when_checked:
            self._confirm_when_checked = False
            self.action_confirm()

    @work(exclusive=True, group="launch-server-count", exit_on_error=False)
    async def _ask_server(self, asked: int, check: Any) -> None:
        """A local trainer counts with its model's own tokenizer (it may be on another
        machine, behind an SSH tunnel); a server without that route leaves the count
        approximate, and says so."""
        from tui.api.client import endpoint_for
        from tui.api.preflight import ask_server

        app = tunebench_app(self)
        async with endpoint_for(app.loaded, self._value("f-profile")).async_client() as client:
            await ask_server(client, check, self._epochs())
        if asked == self._asked:
            self._render_check(check)

    def _render_check(self, check: Any) -> None:
        lines = check.summary()
        body = "\n".join(lines)
        if check.blocked:
            body = f"[red]{body}[/red]"
        self._set_confirm(not check.blocked, body)

    def _set_confirm(self, enabled: bool, text: str) -> None:
        self.query_one("#confirm", Button).disabled = not enabled
        self.query_one("#preflight", Static).update(text)

    @work(exclusive=True, group="launch-models", exit_on_error=False)
    async def load_models(self) -> None:
        """Merge the endpoint's /models into the list; models it does not list are marked."""
        from tui.screens.jobs import api_client

        try:
            async with api_client(self) as client:
                page = await client.models.list()
        except Exception as exc:
            self.query_one("#launch-message", Static).update(
                f"model list unavailable: {describe(exc)}"
            )
            return
        offered = {m.id for m in page.data}
        select = self.query_one("#f-model", Select)
        current = select.value
        options = []
        app = tunebench_app(self)
        if app.settings.profiles[app.profile_name].kind == "local":
            # A `tunebench serve` trains the open models it was started with, and only those.
            bases = sorted(m for m in offered if not is_tuned(m))
            options = [(f"{m} (local)", m) for m in bases]
            if bases and current not in bases:
                current = bases[0]
        for m in MODELS if not options else []:
            if "supervised" not in m.methods and "dpo" not in m.methods:
                continue
            note = "" if m.name in offered else ", not listed by this endpoint"
            options.append((f"{m.name} (shuts down {m.shutdown_date or '—'}{note})", m.name))
        for model_id in sorted(offered):
            if is_tuned(model_id) and not is_checkpoint(model_id):
                options.append((f"{model_id} (train further)", model_id))
        select.set_options(options)
        if current in [value for _, value in options]:
            select.value = current

    # --- launching ------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"check": self.action_check, "confirm": self.action_confirm, "cancel": self.action_cancel}[
            str(event.button.id)
        ]()

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "launch-go")
        self.dismiss(None)

    def action_confirm(self) -> None:
        if self.check is None and self._checking:  # asked again (e.g. the model list came)
            self._confirm_when_checked = True
            self.query_one("#launch-message", Static).update("confirming after the pre-flight…")
            return
        if self.check is None or self.check.blocked:
            self.query_one("#launch-message", Static).update("run a clean pre-flight first")
            return
        try:
            spec = self.spec()
        except UsageError as exc:
            self.query_one("#launch-message", Static).update(str(exc))
            return
        self.query_one("#confirm", Button).disabled = True
        # The check confirmed, not whatever self.check is when the worker starts: a new
        # pre-flight (the model list arriving) may have cleared it by then.
        self._launching = self.check  # its files stay while they are sent
        self.launch(spec, self.check)

    @work(exclusive=True, group="launch-go", exit_on_error=False)
    async def launch(self, spec: Any, check: Any) -> None:
        from tui.api import jobs as api
        from tui.api.client import endpoint_for
        from tui.api.store import shared_store

        app = tunebench_app(self)
        message = self.query_one("#launch-message", Static)
        profile_name = self._value("f-profile")
        bar = self.query_one("#launch-progress", ProgressBar)

        def shown(sent: int, total: int) -> None:
            bar.add_class("-uploading")
            bar.update(total=total, progress=sent)

        try:
            endpoint = endpoint_for(app.loaded, profile_name)
            name = endpoint.name
            async with endpoint.async_client() as client:
                message.update("uploading…")
                training, job = await api.launch(
                    client,
                    shared_store(),
                    name,
                    check,
                    spec,
                    notify=message.update,
                    progress=shown,
                    poll_interval=app.settings.ui.poll_interval,
                )
        except Exception as exc:
            text = app.report_error(exc, inline=message)
            confirm = self.query_one("#confirm", Button)
            confirm.disabled = False
            if isinstance(exc, api.CreateNotConfirmed):
                confirm.label = "Create again (Ctrl+S)"
                message.update(text)
            return
        finally:
            self._launching = None
            if check is not self.check or not self.is_mounted:
                check.remove()  # checked again (or closed) while it was sent
        reused = "reusing" if training.reused else "uploaded"
        app.notify(f"created {job.id} ({reused} {training.file_id})", title="Job launched")
        if name != app.profile_name:  # the job lives on that profile: follow it there
            app.profile_name = name
            app._refresh_subtitle()
        self.dismiss(job.id)


def _row(label: str, widget: Any) -> ComposeResult:
    with Horizontal(classes="row"):
        yield Label(label)
        yield widget
