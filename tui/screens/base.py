"""What every main screen shares: header, footer, and an honest placeholder body."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui.appref import tunebench_app
from tui.widgets.app_header import AppHeader
from tui.widgets.key_footer import KeyFooter


class ReportsWorkerErrors:
    """Worker.StateChanged goes to the node that started the worker and does not bubble: a
    screen with workers hands their failures to the app's one error handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            assert isinstance(self, Screen)
            tunebench_app(self).report_error(event.worker.error)


# The class of every modal screen: its look (a centred, bordered box) is in app.tcss once.
DIALOG = "dialog"

MIN_WIDTH, MIN_HEIGHT = 60, 20  # below this the screens cannot show what they are for


class MainScreen(ReportsWorkerErrors, Screen[None]):
    """A top-level screen with the app header (profile, dataset) and a footer of keys."""

    def compose(self) -> ComposeResult:
        yield Static(f"enlarge the terminal to {MIN_WIDTH}x{MIN_HEIGHT}", id="too-small")
        yield AppHeader()
        yield from self.compose_body()
        yield KeyFooter()

    @on(events.Resize)
    def _fit_terminal(self, event: events.Resize) -> None:
        width, height = event.size
        self.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        # Every main screen hears about changes to the open dataset (WorkspaceChanged).
        tunebench_app(self).observe_workspace(self)

    async def ready_for_keys(self) -> None:
        """Return when the screen can take keys (called before each key is routed)."""

    async def take_key(self, event: events.Key) -> bool:
        """Act on a key at once, as it arrives, instead of after the keys queued behind it
        (for keys that move the focus, so what is typed next lands in the right place).
        True: the key was handled; False: it is routed as usual (to the focus of then)."""
        return False


class EmptyState(VerticalScroll):
    """Says what will be on a screen that has nothing to show yet."""

    DEFAULT_CSS = """
    EmptyState { align: center middle; padding: 1 2; }
    EmptyState > Static { width: auto; max-width: 72; }
    """

    def __init__(self, title: str, body: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        yield Static(f"[b]{self._title}[/b]\n\n{self._body}", classes="empty-state")
