"""The conversation: one widget per message; a streaming reply renders from a buffer.

Deltas are appended to a list (cheap, per token); a timer on the log flushes the
streaming messages at most `FLUSH_HZ` times a second, so a fast stream costs a bounded
number of renders no matter how many tokens arrive.
"""

from __future__ import annotations

from typing import Literal

from textual.containers import VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

FLUSH_HZ = 20
Role = Literal["user", "assistant", "error"]
ROLE_LABEL = {"user": "you", "assistant": "model", "error": "error"}


class StreamText(Static):
    """Text that grows from a buffer of deltas and is rendered only when flushed."""

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(Content(text), **kwargs)  # type: ignore[arg-type]
        self._parts: list[str] = [text] if text else []
        self._dirty = False
        self.note = ""
        """A marker shown after the text (stopped, cut off...)."""
        self.renders = 0

    @property
    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def append(self, delta: str) -> None:
        self._parts.append(delta)
        self._dirty = True

    def set_text(self, text: str, note: str = "") -> None:
        self._parts = [text] if text else []
        self.note = note
        self._dirty = True
        self.flush()

    def mark(self, note: str) -> None:
        self.note = note
        self._dirty = True
        self.flush()

    def flush(self) -> bool:
        """Render the buffered text if it changed; True if it did."""
        if not self._dirty:
            return False
        self._dirty = False
        rendered = Content(self.text)
        if self.note:
            sep = "\n" if self.text else ""
            rendered = Content.assemble(rendered, (sep + self.note, "italic $text-warning"))
        self.update(rendered)
        self.renders += 1
        return True


class ChatMessage(StreamText):
    """One turn, with its role in the border title and stats in the subtitle."""

    DEFAULT_CSS = """
    ChatMessage {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    ChatMessage.-user { border: round $primary; margin-left: 4; }
    ChatMessage.-assistant { margin-right: 4; }
    ChatMessage.-error { border: round $error; color: $error; }
    ChatMessage.-partial { border: round $warning; }
    """

    def __init__(self, role: Role, text: str = "", *, title: str | None = None) -> None:
        super().__init__(text, classes=f"-{role}")
        self.role = role
        self.border_title = title or ROLE_LABEL[role]

    def flush(self) -> bool:
        changed = super().flush()
        self.set_class(bool(self.note), "-partial")
        return changed


class ChatLog(VerticalScroll, can_focus=False):
    """The messages, newest at the bottom; follows the stream while scrolled to the end."""

    DEFAULT_CSS = """
    ChatLog { height: 1fr; padding: 0 1; }
    ChatLog > .chat-empty { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, empty_text: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._empty_text = empty_text
        self._streaming: list[StreamText] = []
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / FLUSH_HZ, self.flush, pause=True)
        self.show_empty()

    def show_empty(self) -> None:
        if self._empty_text and not self.children:
            self.mount(Static(self._empty_text, classes="chat-empty"))

    def add(self, role: Role, text: str = "", *, title: str | None = None) -> ChatMessage:
        for empty in self.query(".chat-empty"):
            empty.remove()
        message = ChatMessage(role, text, title=title)
        self.mount(message)
        self.scroll_end(animate=False)
        return message

    def follow(self, target: StreamText) -> None:
        """Flush `target` on the timer until `unfollow`."""
        self._streaming.append(target)
        if self._timer is not None:
            self._timer.resume()

    def unfollow(self, target: StreamText) -> None:
        if target in self._streaming:
            self._streaming.remove(target)
        target.flush()
        self._scroll_if_following()
        if not self._streaming and self._timer is not None:
            self._timer.pause()

    def flush(self) -> None:
        if any([target.flush() for target in self._streaming]):
            self._scroll_if_following()

    def _scroll_if_following(self) -> None:
        if self.max_scroll_y - self.scroll_y <= 3 or self.scroll_y == 0:
            self.call_after_refresh(self.scroll_end, animate=False)

    def clear(self) -> None:
        self._streaming.clear()
        self.remove_children()
        self.call_after_refresh(self.show_empty)

    def messages(self) -> list[ChatMessage]:
        return list(self.query(ChatMessage))
