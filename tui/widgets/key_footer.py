"""The footer of keys, made to fit the terminal's width instead of being cut.

Textual's footer lays its keys out in one row and cuts what does not fit; its palette key,
docked right, is drawn over the last keys (at 80 columns a job's footer read `f1 Hel▏^p
palette`, at 60 the Dataset's `f1 He`). Here, in turn, until the keys fit: the palette key
goes (Ctrl+P still works), descriptions keep their first word, then the screen's last keys
go. Quit and Help always stay: F1 lists every key left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual import events
from textual.app import ComposeResult
from textual.compose import compose
from textual.widget import Widget
from textual.widgets import Footer

ALWAYS = ("quit", "help")  # the actions whose keys are never left out
PALETTE_WIDTH = 11  # "^p palette" and its border


def shown_key(widget: Widget) -> bool:
    """A key of the footer (Textual's FooterKey: a key, its description and action)."""
    return all(hasattr(widget, name) for name in ("key_display", "description", "action"))


def key_width(key: Widget) -> int:
    """Columns of a key in the compact footer: `KEY DESCRIPTION` and a space after it."""
    return len(getattr(key, "key_display", "")) + len(getattr(key, "description", "")) + 2


class KeyFooter(Footer):
    """A compact Footer whose keys always fit on its one row."""

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted_for = -1

    def compose(self) -> ComposeResult:
        self._fitted_for = width = self.app.size.width
        yield from fit(compose(self, super().compose()), width)

    def on_resize(self, event: events.Resize) -> None:
        if self._fitted_for != self.app.size.width:
            self.call_after_refresh(self.recompose)


def fit(widgets: list[Widget], width: int) -> Iterator[Widget]:
    """The footer's widgets that fit in `width` columns, descriptions shortened if need be."""
    palette = [w for w in widgets if w.has_class("-command-palette")]
    keys = [w for w in widgets if shown_key(w) and w not in palette]

    def needed() -> int:
        return sum(map(key_width, keys))

    if needed() + PALETTE_WIDTH > width:
        palette = []
    if needed() > width:
        for key in keys:
            key.description = key.description.split(" ")[0]  # type: ignore[attr-defined]
    while needed() > width:
        droppable = [k for k in keys if getattr(k, "action", "").rpartition(".")[2] not in ALWAYS]
        if not droppable:
            break
        keys.remove(droppable[-1])
    kept = set(map(id, keys + palette))
    yield from (w for w in widgets if id(w) in kept or not shown_key(w))
