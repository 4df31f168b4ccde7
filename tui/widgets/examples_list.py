"""The examples of the open dataset: number, first words of the user turn, a problem marker."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip

from tui.core.editing import Document, Entry, first_words
from tui.widgets.virtual_list import VirtualList

_LABEL_CACHE_LIMIT = 4096


class ExamplesList(VirtualList):
    """Virtualised: only visible rows are labelled (each parses one line, cached)."""

    BINDINGS = [  # noqa: RUF012
        *VirtualList.BINDINGS,
        Binding("slash", "screen.filter", "Filter", show=False),
        Binding("d", "screen.duplicate", "Duplicate example", show=False),
        Binding("delete", "screen.delete", "Delete example", show=False),
        Binding("alt+up", "screen.move(-1)", "Move example up", show=False),
        Binding("alt+down", "screen.move(1)", "Move example down", show=False),
    ]

    class Painted(Message):
        """The rows of the document last shown are being painted (once per document): the
        frame that shows them is on its way to the terminal."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.document: Document | None = None
        self.view: list[int] | None = None  # filtered entry indices, or None for all
        self._labels: dict[Entry, str] = {}
        self._painted: Document | None = None

    def show(self, document: Document | None, view: list[int] | None = None) -> None:
        self.document = document
        self.view = view
        self._labels.clear()
        self.refresh_rows()

    def render_line(self, y: int) -> Strip:
        if self._painted is not self.document:
            self._painted = self.document
            self.post_message(self.Painted())  # handled after this frame is written
        return super().render_line(y)

    @property
    def row_count(self) -> int:
        if self.document is None:
            return 0
        return len(self.view) if self.view is not None else len(self.document)

    def entry_index(self, row: int) -> int:
        return self.view[row] if self.view is not None else row

    def row_of(self, index: int) -> int | None:
        if self.view is None:
            return index
        try:
            return self.view.index(index)
        except ValueError:
            return None

    def refresh_entry(self, index: int) -> None:
        """Redraw the row of one entry, if it is on screen."""
        row = self.row_of(index)
        if row is not None:
            y = row - self.scroll_offset.y
            if 0 <= y < self.size.height:
                self.refresh_line(y)

    def label(self, entry: Entry) -> str:
        label = self._labels.get(entry)
        if label is None:
            if len(self._labels) > _LABEL_CACHE_LIMIT:
                self._labels.clear()
            label = self._labels[entry] = first_words(entry, 200)
        return label

    def render_row(self, row: int, width: int) -> Text:
        assert self.document is not None
        index = self.entry_index(row)
        entries = self.document.entries
        if index >= len(entries):
            return Text()
        entry = entries[index]
        digits = max(4, len(str(len(entries))))
        number = f"{self.document.line_of(index):>{digits}} "  # the line of the file
        if any(f.is_error for f in entry.findings):
            marker = Text("✗ ", style="bold red")
        elif entry.findings:
            marker = Text("! ", style="bold yellow")
        else:
            marker = Text("  ")
        text = Text(number, style="dim")
        text.append_text(marker)
        label = self.label(entry)
        text.append(label, style="dim italic" if entry.kind in ("blank", "comment") else "")
        return text
