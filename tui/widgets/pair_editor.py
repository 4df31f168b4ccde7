"""The editor of one example: system prompt, user and assistant text, weight; or raw JSON.

A simple example (system?, user, assistant) is edited as a pair; anything else (multi-turn,
tools, DPO, a line that is not valid JSON) is edited as its raw JSONL text. Every change
posts `PairEditor.Edited` with the line as it would be saved.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Checkbox, Input, Static, TextArea

from tui.core.editing import Entry, Pair, as_pair, encode_example, pair_example


class PairEditor(Vertical):
    DEFAULT_CSS = """
    PairEditor { height: 1fr; }
    PairEditor Input { border: tall $border-blurred; height: 3; }
    PairEditor TextArea { height: 1fr; min-height: 3; border: tall $border-blurred; }
    PairEditor TextArea:focus, PairEditor Input:focus { border: tall $border; }
    PairEditor #raw { height: 1fr; }
    PairEditor.-raw #pair-fields { display: none; }
    PairEditor #raw-box { display: none; height: 1fr; }
    PairEditor.-raw #raw-box { display: block; }
    PairEditor #pair-fields { height: 1fr; }
    PairEditor Checkbox { border: none; height: 1; padding: 0; background: $surface; }
    PairEditor #editor-note { height: 1; color: $text-muted; }
    """

    class Edited(Message):
        def __init__(self, text: bytes, field: str) -> None:
            super().__init__()
            self.text = text
            self.field = field

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entry: Entry | None = None
        self._pair: Pair | None = None
        self.raw_mode = False
        self.default_system = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-note")
        with Vertical(id="pair-fields"):
            system = Input(id="system", placeholder="no system prompt")
            system.border_title = "System"
            yield system
            user = TextArea(id="user", soft_wrap=True, tab_behavior="focus")
            user.border_title = "User"
            yield user
            assistant = TextArea(id="assistant", soft_wrap=True, tab_behavior="focus")
            assistant.border_title = "Assistant"
            yield assistant
            yield Checkbox("Train on this answer (weight 1)", True, id="weight")
        with Vertical(id="raw-box"):
            raw = TextArea(id="raw", soft_wrap=True, tab_behavior="focus")
            raw.border_title = "Raw JSONL line"
            yield raw

    # ---------------------------------------------------------------- loading

    def load(self, entry: Entry | None, *, default_system: str, force_raw: bool = False) -> None:
        """Show an entry; keeps the cursor where it was when the same field is reloaded."""
        self.entry = entry
        self.default_system = default_system
        self.disabled = entry is None
        obj = entry.parse() if entry is not None else None
        pair = None if force_raw or entry is None else as_pair(obj)
        self._pair = pair
        self.raw_mode = entry is not None and pair is None
        self.set_class(self.raw_mode, "-raw")
        if entry is None:
            self._note("")
            return
        if self.raw_mode:
            raw = entry.text.decode("utf-8", "replace")
            self._set_text("#raw", raw)
            why = "not valid JSON" if obj is None else "not a simple pair"
            self._note(f"Raw JSON ({why}) · Ctrl+R: pair form when possible")
            return
        assert pair is not None
        self._set_input(pair.system or "")
        self._set_text("#user", pair.user)
        self._set_text("#assistant", pair.assistant)
        box = self.query_one("#weight", Checkbox)
        with box.prevent(Checkbox.Changed):
            box.value = pair.weight != 0
        self._update_system_title(pair.system)
        self._note("Ctrl+R: raw JSON · Tab: next field")

    def _note(self, text: str) -> None:
        note = self.query_one("#editor-note", Static)
        if getattr(note, "_note_text", None) != text:
            note._note_text = text  # type: ignore[attr-defined]
            note.update(text, layout=False)

    def _update_system_title(self, system: str | None) -> None:
        field = self.query_one("#system", Input)
        if system is None:
            title = "System (none)"
        elif system == self.default_system:
            title = "System (dataset default)"
        else:
            title = "System (override for this example)"
        if field.border_title != title:
            field.border_title = title

    def _set_text(self, selector: str, text: str) -> None:
        area = self.query_one(selector, TextArea)
        if area.text == text:
            return
        cursor = area.cursor_location
        with area.prevent(TextArea.Changed):
            area.load_text(text)
        row = min(cursor[0], area.document.line_count - 1)
        col = min(cursor[1], len(area.document.get_line(row)))
        area.cursor_location = (row, col)

    def _set_input(self, text: str) -> None:
        field = self.query_one("#system", Input)
        if field.value != text:
            with field.prevent(Input.Changed):
                field.value = text

    # ---------------------------------------------------------------- editing

    def current_text(self) -> bytes | None:
        if self.entry is None:
            return None
        if self.raw_mode:
            return self.query_one("#raw", TextArea).text.encode("utf-8")
        assert self._pair is not None
        system = self.query_one("#system", Input).value
        pair = Pair(
            system if system else None,
            self.query_one("#user", TextArea).text,
            self.query_one("#assistant", TextArea).text,
            self._weight(),
        )
        if pair == self._pair:
            return self.entry.text  # unchanged: keep the source bytes exactly
        return encode_example(pair_example(pair))

    def _weight(self) -> int | None:
        assert self._pair is not None
        on = self.query_one("#weight", Checkbox).value
        if on:
            return None if self._pair.weight is None else 1
        return 0

    def _edited(self, field: str) -> None:
        text = self.current_text()
        if text is None or self.entry is None or text == self.entry.text:
            return
        self.post_message(self.Edited(text, field))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._edited(event.text_area.id or "text")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        value = event.value
        self._update_system_title(value if value else None)
        self._edited("system")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._edited("weight")

    def focus_field(self, name: str) -> None:
        target = "#raw" if self.raw_mode else f"#{name}"
        self.query_one(target).focus()

    def focused_area(self) -> TextArea | None:
        focused = self.screen.focused
        if isinstance(focused, TextArea) and focused in self.query(TextArea):
            return focused
        return None
