"""Save a playground conversation as a training example, with the reply editable first.

With more than one exchange, the example is the whole conversation by default: the reply
was given in that context, so that is what it should be trained in. The earlier replies
stay as context with weight 0 (not trained). Ctrl+T switches to the last exchange alone.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui.screens.base import DIALOG
from tui.widgets.key_footer import KeyFooter

Message = dict[str, Any]
CONTEXT_LINES = 8  # messages shown above the reply; longer conversations are elided


class SaveExampleScreen(ModalScreen[list[Message] | None]):
    """Shows the example that will be added; the reply (the trained answer) can be edited."""

    DEFAULT_CLASSES = DIALOG
    DEFAULT_CSS = """
    SaveExampleScreen .context { color: $text-muted; height: auto; max-height: 8; }
    SaveExampleScreen TextArea { height: auto; min-height: 3; max-height: 10; }
    SaveExampleScreen TextArea { border-title-color: $text-accent; }
    SaveExampleScreen .hint { color: $text-muted; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save example", id="save_example.save"),
        Binding("ctrl+j", "save", "Save example", show=False, id="save_example.save_alt"),
        Binding("ctrl+t", "toggle_context", "Conversation/exchange", id="save_example.context"),
        Binding("escape", "cancel", "Cancel", id="save_example.cancel"),
    ]

    def __init__(self, messages: list[Message]) -> None:
        """messages: the system prompt (if any), the conversation, and the reply last."""
        super().__init__()
        self._messages = messages
        self.whole = True

    @property
    def turns(self) -> int:
        """User turns in the conversation."""
        return sum(1 for m in self._messages if m["role"] == "user")

    def context(self) -> list[Message]:
        """What the example holds before the reply: the whole conversation (earlier replies
        with weight 0) or the system prompt and the last user turn."""
        *context, _reply = self._messages
        if self.whole:
            return [{**m, "weight": 0} if m["role"] == "assistant" else m for m in context]
        system = [m for m in context[:1] if m["role"] == "system"]
        return [*system, context[-1]]

    def compose(self) -> ComposeResult:
        reply = self._messages[-1]
        with Vertical() as box:
            box.border_title = "Save as training example"
            yield Static(self._context_text(), classes="context", markup=False)
            editor = TextArea(reply["content"], id="reply", soft_wrap=True)
            editor.border_title = "assistant (edit the answer to train)"
            yield editor
            yield Static(self._hint(), classes="hint", markup=False)
        yield KeyFooter()

    def _context_text(self) -> str:
        lines = []
        for m in self.context():
            trained = " (context, not trained)" if m.get("weight") == 0 else ""
            lines.append(f"{m['role']}{trained}: {m['content']}")
        if len(lines) > CONTEXT_LINES:  # the first (the system prompt) and the newest
            hidden = len(lines) - CONTEXT_LINES + 1
            lines = [lines[0], f"… {hidden} earlier messages …", *lines[-(CONTEXT_LINES - 2) :]]
        return "\n".join(lines)

    def _hint(self) -> str:
        hint = "ctrl+s adds it to the open dataset · esc cancels"
        if self.turns < 2:
            return hint
        scope = (
            f"the whole conversation ({self.turns} turns) · ctrl+t: the last exchange only"
            if self.whole
            else f"the last exchange only · ctrl+t: the whole conversation ({self.turns} turns)"
        )
        return f"{scope}\n{hint}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_context":
            return self.turns > 1
        return True

    def on_mount(self) -> None:
        self.query_one("#reply", TextArea).focus()

    def action_toggle_context(self) -> None:
        self.whole = not self.whole
        self.query_one(".context", Static).update(self._context_text())
        self.query_one(".hint", Static).update(self._hint())

    def action_save(self) -> None:
        text = self.query_one("#reply", TextArea).text.strip()
        if not text:
            self.notify("the answer is empty; write the reply to train", severity="warning")
            return
        self.dismiss([*self.context(), {"role": "assistant", "content": text}])

    def action_cancel(self) -> None:
        self.dismiss(None)
