"""Every problem of the dataset: line, severity, code, message. Enter jumps to it."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from tui.core.editing import Document
from tui.core.problems import Finding
from tui.widgets.virtual_list import VirtualList


class ProblemsPanel(VirtualList):
    """Virtualised over `Document.problem_rows()` (rebuilt only on structural edits)."""

    BINDINGS = [  # noqa: RUF012
        *VirtualList.BINDINGS,
        Binding("f", "filter_code", "Filter by this code", show=False),
    ]

    class FilterByCode(Message):
        """Show only the examples with this problem code (`f` on a problem)."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def action_filter_code(self) -> None:
        if self._rows:
            self.post_message(self.FilterByCode(self._rows[self.cursor][1].code))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.document: Document | None = None
        self._rows: list[tuple[int, Finding]] = []
        self._shown: tuple[object, int, int] | None = None

    def show(self, document: Document | None, *, force: bool = False) -> None:
        """Show the document's problems; a no-op when they did not change since last time."""
        key = (
            (document, document.problems_version, len(document.dataset_findings()))
            if document is not None
            else None
        )
        if key == self._shown and not force:
            return
        self._shown = key
        self.document = document
        self._rows = document.problem_rows() if document is not None else []
        self.refresh_rows()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row(self, row: int) -> tuple[int, Finding]:
        return self._rows[row]

    def render_row(self, row: int, width: int) -> Text:
        index, finding = self._rows[row]
        line = "file" if index < 0 or self.document is None else str(self.document.line_of(index))
        text = Text(f"{line:>6} ", style="dim")
        if finding.is_error:
            text.append("error   ", style="bold red")
        else:
            text.append("warning ", style="bold yellow")
        text.append(finding.code, style="bold")
        text.append(f"  {finding.message}")
        return text
