"""The Textual app: three screens (Dataset, Jobs, Playground), keys, palette, help."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tui.config import LoadedConfig
from tui.errors import describe
from tui.messages import AddTrainingExample, OpenInPlayground
from tui.screens.dataset import DatasetScreen
from tui.screens.help import HelpScreen
from tui.screens.jobs import JobsScreen
from tui.screens.playground import PlaygroundScreen

SCREEN_TITLES = {"dataset": "Dataset", "jobs": "Jobs", "playground": "Playground"}


class TunebenchApp(App[int]):
    """Fine-tuning workbench: dataset → job → playground."""

    TITLE = "tunebench"
    CSS_PATH = "app.tcss"
    MODES = {  # noqa: RUF012 - Textual reads these as class attributes
        "dataset": DatasetScreen,
        "jobs": JobsScreen,
        "playground": PlaygroundScreen,
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
        super().__init__()
        self.loaded = loaded
        self.settings = loaded.config
        self.profile_name = profile_name
        self.dataset_path = dataset_path
        self.show_tracebacks = debug
        self.crash: BaseException | None = None
        self.clock: Callable[[], float] = time.time  # tests freeze it for snapshots
        self._startup_warnings = list(startup_warnings)
        self.dataset_screen: DatasetScreen | None = None  # set when the screen mounts
        self._system_prompt = ""  # a pinned value, see dataset_system_prompt
        self._refresh_subtitle()

    def _refresh_subtitle(self) -> None:
        dataset = self.dataset_path.name if self.dataset_path else "no dataset"
        self.sub_title = f"profile: {self.profile_name} · {dataset}"

    # --- the open dataset, for the other screens ----------------------------------------

    @property
    def dataset_system_prompt(self) -> str:
        """The open dataset's default system prompt (else the configured one).

        Assigning pins a value that wins over both (for callers and tests that know better).
        """
        if self._system_prompt:
            return self._system_prompt
        screen = self.dataset_screen
        if screen is not None and screen.doc is not None and screen.doc.default_system:
            return screen.doc.default_system
        return self.settings.dataset.system_prompt

    @dataset_system_prompt.setter
    def dataset_system_prompt(self, value: str) -> None:
        self._system_prompt = value

    @property
    def saved_dataset_path(self) -> Path | None:
        """The dataset file as saved (JSONL, no unsaved edits), for launching a job."""
        screen = self.dataset_screen
        if screen is None or screen.doc is None or screen.doc.dirty:
            return None
        return screen.save_path

    async def on_add_training_example(self, message: AddTrainingExample) -> None:
        """Add the example to the open dataset; the user stays where they are (the
        Playground, usually) and is told where it went."""
        if self.dataset_screen is None:  # not mounted yet: the dataset mode mounts it
            current = self.current_mode
            await self.switch_mode("dataset")
            await self.switch_mode(current)
        if self.dataset_screen is not None:
            self.dataset_screen.add_messages(message.messages)

    async def action_quit(self) -> None:
        screen = self.dataset_screen
        if screen is not None and screen.has_unsaved():
            if not isinstance(self.screen, DatasetScreen):
                await self.switch_mode("dataset")
            screen.confirm_quit()
            return
        self.exit()

    def on_mount(self) -> None:
        theme = self.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(
                f"{self.loaded.path}: unknown ui.theme {theme!r}; using textual-dark",
                severity="warning",
            )
        for warning in self._startup_warnings:
            self.notify(warning, severity="warning", timeout=10)

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

        self.push_screen(LaunchScreen(self.dataset_path), launched)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    async def on_open_in_playground(self, message: OpenInPlayground) -> None:
        """Show the Playground with the model (a tuned model or checkpoint) selected."""
        await self.switch_mode("playground")
        screen = self.screen
        if isinstance(screen, PlaygroundScreen):
            screen.select_model(message.model)

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
