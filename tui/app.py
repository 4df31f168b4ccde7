"""The Textual app: three screens (Dataset, Jobs, Playground), keys, palette, help."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from tui.api.arm import DeploymentBook
from tui.config import LoadedConfig
from tui.core.models import find_model, resolve_model
from tui.core.workspace import OPENED, SAVED, Workspace
from tui.errors import describe
from tui.escape_keys import escape_then_key, keep_escape_apart
from tui.messages import OpenInPlayground, WorkspaceChanged
from tui.screens.base import MainScreen
from tui.screens.dataset import DatasetScreen

if TYPE_CHECKING:
    from tui.config_schema import Config

SCREEN_TITLES = {"dataset": "Dataset", "jobs": "Jobs", "playground": "Playground"}


# The Jobs and Playground screens (and their widgets, the API layer behind them) are
# imported when first shown: the first screen is the Dataset, and start-up stays short.


def _jobs_screen() -> Screen:
    from tui.screens.jobs import JobsScreen

    return JobsScreen()


def _playground_screen() -> Screen:
    from tui.screens.playground import PlaygroundScreen

    return PlaygroundScreen()


class TunebenchApp(App[int]):
    """Fine-tuning workbench: dataset → job → playground."""

    TITLE = "tunebench"
    CSS_PATH = "app.tcss"
    MODES = {  # noqa: RUF012 - Textual reads these as class attributes
        "dataset": DatasetScreen,
        "jobs": _jobs_screen,
        "playground": _playground_screen,
    }
    DEFAULT_MODE = "dataset"
    BINDINGS = [  # noqa: RUF012
        # Hidden from the footer: the header's tabs name these keys.
        Binding("1", "switch_mode('dataset')", "Dataset", id="screen.dataset", show=False),
        Binding("2", "switch_mode('jobs')", "Jobs", id="screen.jobs", show=False),
        Binding("3", "switch_mode('playground')", "Playground", id="screen.playground", show=False),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        loaded: LoadedConfig,
        *,
        profile_name: str,
        dataset_path: Path | None = None,
        debug: bool = False,
        startup_warnings: Iterable[str] = (),
    ) -> None:
        keep_escape_apart()
        super().__init__()
        self.loaded = loaded
        self.profile_name = profile_name
        self.dataset_path = dataset_path  # the file to open first; then the workspace's
        self.show_tracebacks = debug
        self.crash: BaseException | None = None
        self.first_frame_shown = False  # Textual's Ready: the first frame is displayed
        self.clock: Callable[[], float] = time.time  # tests freeze it for snapshots
        self._startup_warnings = list(startup_warnings)
        startup = loaded.startup  # the full config is checked when first used
        self.workspace = Workspace(
            system_prompt=startup.system_prompt,
            separator=startup.separator,
            model=find_model(startup.model) or resolve_model(None),
        )
        self.workspace.listen(self._workspace_changed)
        self._observers: list[MessagePump] = []
        self.deployments = DeploymentBook()  # Azure: what Jobs, Playground and the list share
        self._refresh_subtitle()

    @property
    def settings(self) -> Config:
        """The full, typed config (checked when first used; see tui.config)."""
        return self.loaded.config

    def _refresh_subtitle(self) -> None:
        path = self.workspace.path or self.dataset_path
        dataset = path.name if path else "no dataset"
        self.sub_title = f"profile: {self.profile_name} · {dataset}"

    # --- the open dataset, for every screen ------------------------------------------------

    def observe_workspace(self, observer: MessagePump) -> None:
        """`observer` gets a WorkspaceChanged message after every change to the dataset."""
        self._observers.append(observer)

    def _workspace_changed(self, what: str, index: int | None) -> None:
        if what in (OPENED, SAVED):
            self.dataset_path = self.workspace.path
            self._refresh_subtitle()
        for observer in self._observers:
            observer.post_message(WorkspaceChanged(what, index))

    async def action_quit(self) -> None:
        if self.workspace.dirty:
            await self.switch_mode("dataset")
            screen = self.screen
            if isinstance(screen, DatasetScreen):
                screen.confirm_quit()
                return
        self.exit()

    def on_mount(self) -> None:
        theme = self.loaded.startup.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(
                f"{self.loaded.path}: unknown ui.theme {theme!r}; using textual-dark",
                severity="warning",
            )
        self._apply_keymap()
        for warning in self._startup_warnings:
            self.notify(warning, severity="warning", timeout=10)

    def on_ready(self) -> None:
        self.first_frame_shown = True
        screen = self.screen
        if isinstance(screen, DatasetScreen):
            # What waited for the first frame (the other panes, the check) runs after it.
            screen.call_after_refresh(screen.after_first_frame)
        self.call_after_refresh(gc.enable)  # paused by launch while the app starts

    def _apply_keymap(self) -> None:
        """The config's `keys:` (binding id → keys) over the built-in keys; an unknown id is
        reported, not silently ignored. Without a keymap nothing is checked: knowing every
        binding id means importing every screen, which the first screen does not need."""
        keys = self.loaded.startup.keys
        if not keys:
            return
        from tui.keymap import binding_ids

        unknown = sorted(set(keys) - binding_ids())
        if unknown:
            self.notify(
                f"{self.loaded.path}: keys: unknown binding id(s) {', '.join(unknown)}; "
                "the README's Keys section lists them",
                severity="warning",
                timeout=10,
            )
        self.set_keymap({k: v for k, v in keys.items() if k not in unknown})

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, title in SCREEN_TITLES.items():
            yield SystemCommand(
                f"Go to {title}",
                f"Switch to the {title} screen",
                lambda mode=mode: self.switch_mode(mode),  # type: ignore[misc]
            )
        yield SystemCommand(
            "Launch fine-tuning job",
            "Pre-flight the dataset, upload it once and create a job",
            self.action_launch_job,
        )
        yield SystemCommand(
            "Azure: deployments",
            "The resource's model deployments: state, type, delete",
            self.action_show_deployments,
        )
        yield SystemCommand("Help", "Keys of the current screen", self.action_help)
        screen_commands = getattr(screen, "palette_commands", None)
        if screen_commands is not None:  # a screen's own actions (Dataset, Jobs, ...)
            yield from screen_commands()
        yield from super().get_system_commands(screen)

    def action_launch_job(self) -> None:
        """Open the launch form for the current dataset; on success, show the new job."""
        from tui.screens.launch import LaunchScreen

        def launched(job_id: str | None) -> None:
            if job_id:
                self.switch_mode("jobs")
                from tui.screens.job_detail import JobDetailScreen

                self.push_screen(JobDetailScreen(job_id))

        self.push_screen(LaunchScreen(self.workspace.saved_path or self.dataset_path), launched)

    def action_show_deployments(self) -> None:
        from tui.screens.deploy import DeploymentsScreen, is_azure

        if not is_azure(self):
            self.notify("deployments are Azure's: choose an azure profile", severity="warning")
            return
        self.push_screen(DeploymentsScreen())

    def action_deploy(self, model: str) -> None:
        """Open the deploy dialog for a tuned model or checkpoint (Azure profiles)."""
        from tui.screens.deploy import DeployScreen, is_azure

        if not is_azure(self):
            self.notify(
                "deploying is for Azure profiles; on OpenAI a tuned model answers at once",
                severity="warning",
            )
            return
        self.push_screen(DeployScreen(model))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    async def on_open_in_playground(self, message: OpenInPlayground) -> None:
        """Show the Playground with the model (a tuned model or checkpoint) selected."""
        await self.switch_mode("playground")
        screen = self.screen
        from tui.screens.playground import PlaygroundScreen

        if isinstance(screen, PlaygroundScreen):
            screen.select_model(message.model)

    # --- keys ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Esc followed quickly by a key arrives from the terminal as Alt+key; unless this
        screen binds that Alt+key, it is what the user typed: Esc, then the key."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if isinstance(self.screen, MainScreen):
                await self.screen.ready_for_keys()
            parts = escape_then_key(event, self.screen.active_bindings)
            if parts is not None:
                *escape, event = parts
                if escape:
                    await self._press_escape(escape[0])
            screen = self.screen
            if isinstance(screen, MainScreen) and (
                await screen.take_key(event) or await self._switch_screen_at_once(event.key)
            ):
                return
        await super().on_event(event)

    async def _switch_screen_at_once(self, key: str) -> bool:
        """A screen key (1/2/3, or the keymap's) switches as it arrives, not after the keys
        queued behind it: those were typed for the new screen and must land there."""
        bound = self.screen.active_bindings.get(key)
        if (
            bound is None
            or not bound.enabled
            or bound.node is not self
            or not bound.binding.action.startswith("switch_mode(")
            or _in_text_field(self.focused)  # typed text, not a screen key
        ):
            return False
        await self.run_action(bound.binding.action, self)
        return True

    async def action_switch_mode(self, mode: str) -> None:
        """Switch, and wait until the screen is mounted: a key typed right after the screen
        key then finds the screen it was typed for."""
        await self.switch_mode(mode)

    async def _press_escape(self, escape: events.Key) -> None:
        """Esc, done before the key after it is routed: its binding's action, else leave the
        focused field (what Esc does on every screen), else the key as usual."""
        bound = self.screen.active_bindings.get("escape")
        if bound is not None and bound.enabled:
            await self.run_action(bound.binding.action, bound.node)
        elif _in_text_field(self.focused):
            self.screen.set_focus(None)
        else:
            await super().on_event(escape)

    # --- the one error path in the TUI -------------------------------------------------

    def report_error(self, error: BaseException, *, inline: Widget | None = None) -> str:
        """Show an error as one human line: a notification, and inline where given."""
        message = describe(error)
        self.notify(message, title="Error", severity="error", timeout=10)
        if inline is not None and hasattr(inline, "update"):
            inline.update(message)
        return message

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers run with exit_on_error=False; their failures arrive here."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def _handle_exception(self, error: Exception) -> None:
        self.crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Without --debug the launcher prints one line instead of Textual's traceback.
        if self.show_tracebacks:
            super()._fatal_error()
            return
        self.bell()
        self._close_messages_no_wait()


def _in_text_field(widget: Widget | None) -> bool:
    """The focus is in a field that takes text (an Input or a TextArea)."""
    if isinstance(widget, Input):
        return True
    from textual.widgets import TextArea  # loaded with the editor, after the first frame

    return isinstance(widget, TextArea)
