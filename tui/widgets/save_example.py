"""Save a playground exchange as a training example, with the reply editable first."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

Message = dict[str, Any]


class SaveExampleScreen(ModalScreen[list[Message] | None]):
    """Shows the example that will be added; the reply (the trained answer) can be edited."""

    DEFAULT_CSS = """
    SaveExampleScreen { align: center middle; }
    SaveExampleScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    SaveExampleScreen .context { color: $text-muted; height: auto; max-height: 8; }
    SaveExampleScreen TextArea { height: auto; min-height: 3; max-height: 10; }
    SaveExampleScreen TextArea { border-title-color: $text-accent; }
    SaveExampleScreen .hint { color: $text-muted; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save example", id="save_example.save"),
        Binding("ctrl+j", "save", "Save example", show=False, id="save_example.save_alt"),
        Binding("escape", "cancel", "Cancel", id="save_example.cancel"),
    ]

    def __init__(self, messages: list[Message]) -> None:
        super().__init__()
        self._messages = messages

    def compose(self) -> ComposeResult:
        *context, reply = self._messages
        with Vertical() as box:
            box.border_title = "Save as training example"
            lines = [f"{m['role']}: {m['content']}" for m in context]
            yield Static("\n".join(lines), classes="context", markup=False)
            editor = TextArea(reply["content"], id="reply", soft_wrap=True)
            editor.border_title = "assistant (edit the answer to train)"
            yield editor
            yield Static("ctrl+s adds it to the open dataset · esc cancels", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#reply", TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one("#reply", TextArea).text.strip()
        if not text:
            self.notify("the answer is empty; write the reply to train", severity="warning")
            return
        *context, _reply = self._messages
        self.dismiss([*context, {"role": "assistant", "content": text}])

    def action_cancel(self) -> None:
        self.dismiss(None)
