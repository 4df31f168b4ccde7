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
    """A compact Footer whose keys always fit on its one row.

    Textual's footer is built again (its keys mounted and styled) on every change of the
    screen's bindings, several times while a screen starts (each focus move); this one only
    when the keys it would show differ from those it shows.
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._fitted_for = -1
        self._shown: tuple[object, ...] | None = None  # what the keys shown say (see _keys_of)

    def compose(self) -> ComposeResult:
        yield from self._fitted()

    def _fitted(self) -> list[Widget]:
        self._fitted_for = width = self.app.size.width
        widgets = list(fit(compose(self, super().compose()), width))
        for widget in widgets:  # styled compact from the start, not restyled when bound
            widget.add_class("-compact", update=False)
        self._shown = _keys_of(widgets)
        return widgets

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._shown
        widgets = self._fitted()
        if shown is not None and self._shown == shown:
            return
        async with self.batch():
            await self.query_children("*").exclude(".-textual-system").remove()
            if self.is_attached:
                await self.mount_all(widgets)

    def on_resize(self, event: events.Resize) -> None:
        if self._fitted_for != self.app.size.width:
            self.call_after_refresh(self.recompose)


def _keys_of(widgets: list[Widget]) -> tuple[object, ...] | None:
    """What the footer's widgets show, to compare two builds; None (never equal) when it
    holds anything but plain keys (a group of keys)."""
    if not all(shown_key(w) for w in widgets):
        return None
    return tuple(
        (
            tuple(sorted(w.classes)),
            getattr(w, "key_display", ""),
            getattr(w, "description", ""),
            getattr(w, "action", ""),
            w.disabled,
            str(w.tooltip),
        )
        for w in widgets
    )


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
