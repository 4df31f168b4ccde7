"""A keyboard list over any number of rows that renders only the rows on screen."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


class VirtualList(ScrollView, can_focus=True):
    """Rows come from `row_count` and `render_row`; nothing is created per row."""

    BINDINGS = [  # noqa: RUF012
        # Arrow and page keys go without a description, so F1 help lists the actions.
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
        Binding("enter", "select", "Open / jump to", show=False),
    ]
    DEFAULT_CSS = """
    VirtualList { background: $surface; overflow-x: hidden; }
    VirtualList > .virtual-list--cursor { background: $block-cursor-blurred-background; }
    VirtualList:focus > .virtual-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    """
    COMPONENT_CLASSES = {"virtual-list--cursor"}  # noqa: RUF012

    class Highlighted(Message):
        def __init__(self, sender: VirtualList, row: int) -> None:
            super().__init__()
            self.list = sender
            self.row = row

        @property
        def control(self) -> VirtualList:
            return self.list

    class Selected(Highlighted):
        pass

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cursor = 0

    # --------------------------------------------------------------- to override

    @property
    def row_count(self) -> int:
        return 0

    def render_row(self, row: int, width: int) -> Text:
        return Text()

    # --------------------------------------------------------------- behaviour

    def refresh_rows(self) -> None:
        """Call after the rows changed: resizes the scroll area and redraws."""
        count = self.row_count
        self.virtual_size = Size(0, count)
        if self.cursor >= count:
            self.cursor = max(0, count - 1)
        self.refresh()

    def move_to(self, row: int, *, notify: bool = True) -> None:
        count = self.row_count
        if count == 0:
            return
        row = max(0, min(count - 1, row))
        self.cursor = row
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        self.refresh()
        if notify:
            self.post_message(self.Highlighted(self, row))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.move_to(self.cursor + direction * height)

    def action_jump(self, row: int) -> None:
        self.move_to(row if row >= 0 else self.row_count - 1)

    def action_select(self) -> None:
        if self.row_count:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is not None:
            self.move_to(self.scroll_offset.y + int(y))

    def on_resize(self) -> None:
        self.refresh_rows()

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if row >= self.row_count:
            return Strip([Segment(" " * width, base)], width)
        text = self.render_row(row, width)
        text.truncate(width, pad=True)
        style: Style = base
        if row == self.cursor:
            style = base + self.get_component_rich_style("virtual-list--cursor")
        segments = [
            Segment(seg.text, style + seg.style if seg.style else style)
            for seg in text.render(self.app.console)
            if seg.text != "\n"
        ]
        return Strip(segments, width).crop(0, width)
