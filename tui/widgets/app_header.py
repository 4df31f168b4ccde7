"""One header line: the app, the three screens as tabs (current one lit), profile and dataset.

The tabs name the 1/2/3 keys, so the footer can spend its width on the keys of the screen.
When the line is short of room the app name goes first, then the end of the right side.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

SCREEN_TABS = (
    ("1", "dataset", "Dataset"),
    ("2", "jobs", "Jobs"),
    ("3", "playground", "Playground"),
)
APP_NAME = " tunebench "


class AppHeader(Widget):
    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; width: 1fr; background: $panel; color: $foreground; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "sub_title", self._sub_title_changed)

    def _sub_title_changed(self, _value: str) -> None:
        self.refresh()

    def render(self) -> Text:
        current = self.app.current_mode  # a job's detail screen still lights "Jobs"
        tabs = Text()
        for key, mode, title in SCREEN_TABS:
            tabs.append(" ")
            tabs.append(f" {key} {title} ", style="bold reverse" if mode == current else "dim")
        right = Text(f" {self.app.sub_title} ", style="italic")
        width = self.size.width
        line = Text(APP_NAME, style="bold") + tabs
        if line.cell_len + right.cell_len > width:
            line = tabs
        room = width - line.cell_len
        if right.cell_len > room:
            if room <= 4:
                return line
            right.truncate(room - 1)
            right.append("…")
        line.append(" " * (width - line.cell_len - right.cell_len))
        return line + right
