"""F1 help: the keys that work on the screen underneath."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tui.screens.base import DIALOG
from tui.widgets.key_footer import KeyFooter


def screen_keys(screen: Screen) -> list[tuple[str, str]]:
    """(key, description) for the bindings that matter on a screen, app-wide ones included.

    Shown bindings always count; hidden ones only when tunebench itself declared them, so
    Textual's built-in scrolling keys do not bury the keys of the screen.
    """
    rows: list[tuple[str, str]] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        if not binding.show and not _declared_by_tunebench(active.node, binding):
            continue
        rows.append((screen.app.get_key_display(binding), binding.description))
    return rows


def _declared_by_tunebench(node: object, binding: Binding) -> bool:
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("tui."):
            continue
        for declared in cls.__dict__.get("BINDINGS", []):
            keys = declared.key if isinstance(declared, Binding) else declared[0]
            if binding.key in keys.split(","):
                return True
    return False


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen it was opened over. Esc or F1 closes it."""

    DEFAULT_CLASSES = DIALOG
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen DataTable { height: auto; max-height: 18; }
    """

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self._rows = screen_keys(underneath)
        self._title = getattr(underneath, "TITLE", None) or type(underneath).__name__

    def compose(self) -> ComposeResult:
        with Vertical():
            # The hint shares the title's line: below the table, 80x24 had no row left for it.
            title = Text.assemble(
                (f"Keys: {self._title}", "bold"), "  ", ("Ctrl+P: every action · Esc: close", "dim")
            )
            yield Static(title, id="help-title")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action")
            for key, description in self._rows:
                table.add_row(key, description)
            yield table
        yield KeyFooter()
