"""The editor of one example: a pair, a list of messages, or the raw JSONL line.

A simple example (system?, user, assistant) is edited as a pair. A multi-turn example of
plain text messages is edited as a message list (add, remove, re-role, edit). Anything else
(tools, DPO, a line that is not valid JSON) is edited as its raw JSONL text. Every change
posts `PairEditor.Edited` with the line as it would be saved.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Input, Static, TextArea

from tui.core.editing import (
    ROLES_CYCLE,
    Document,
    Entry,
    Pair,
    PlainMessage,
    as_messages,
    as_pair,
    encode_example,
    messages_example,
    pair_example,
)

SOURCE_LINE = "source-line"  # the field of an edit to the line (row) as the file holds it


def _trimmed(pair: Pair) -> Pair:
    return Pair(pair.system, pair.user.strip(), pair.assistant.strip(), pair.weight)


class EditorArea(TextArea):
    """A text field of the editor that takes its keys strictly in the order they came.

    Textual runs a widget's key bindings (End, Ctrl+E, arrows) only after the key has
    bubbled up to the app, while typed characters are inserted at once: in a burst, text
    typed after End landed before the cursor moved. Here the field's own bindings run as
    the field takes the key, in turn with the characters around it.
    """

    async def _on_key(self, event: events.Key) -> None:
        active = self.screen.active_bindings.get(event.key)
        if active is not None and active.node is self and active.enabled:
            event.stop()
            event.prevent_default()
            await self.run_action(active.binding.action)
            return
        await super()._on_key(event)


class MessageArea(EditorArea):
    """The text of one message in the message list; its role is the border title."""

    def __init__(self, message: PlainMessage, index: int) -> None:
        super().__init__(message.content, soft_wrap=True, tab_behavior="focus")
        self.message = message
        self.index = index
        self.set_title()

    def set_title(self) -> None:
        weight = " · weight 0 (not trained)" if self.message.weight == 0 else ""
        self.border_title = f"{self.index + 1}. {self.message.role}{weight}"


class PairEditor(Vertical):
    DEFAULT_CSS = """
    PairEditor { height: 1fr; }
    PairEditor Input { border: tall $border-blurred; height: 3; width: 1fr; }
    PairEditor #system-row { height: auto; }
    PairEditor #system-label { display: none; width: auto; text-style: bold; }
    PairEditor TextArea { height: 1fr; min-height: 3; border: tall $border-blurred; }
    PairEditor TextArea:focus, PairEditor Input:focus { border: tall $border; }
    PairEditor #raw { height: 1fr; }
    PairEditor.-raw #pair-fields { display: none; }
    PairEditor #raw-box { display: none; height: 1fr; }
    PairEditor.-raw #raw-box { display: block; }
    PairEditor #pair-fields { height: 1fr; }
    PairEditor Checkbox { border: none; height: 1; padding: 0; background: $surface; }
    PairEditor #editor-note { height: 1; color: $text-muted; }
    PairEditor #messages-box { display: none; height: 1fr; }
    PairEditor.-messages #pair-fields { display: none; }
    PairEditor.-messages #messages-box { display: block; }
    PairEditor MessageArea { height: auto; min-height: 3; max-height: 12; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("alt+n", "add_message", "Add message", show=False),
        Binding("alt+x", "remove_message", "Remove message", show=False),
        Binding("alt+r", "cycle_role", "Change role", show=False),
    ]

    class Edited(Message):
        def __init__(self, text: bytes, field: str) -> None:
            super().__init__()
            self.text = text
            self.field = field

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entry: Entry | None = None
        self._pair: Pair | None = None
        self._messages: list[PlainMessage] | None = None
        self.mode = "pair"  # "pair", "messages" or "raw"
        self.default_system = ""
        self._focus_after_mount: int | None = None
        # A pairs or CSV file, else None: a broken line opens as a pair to fix, the raw
        # view is the line (row) of the file, and spaces at either end of a text are not
        # edits (the format trims them).
        self.lines_of: Document | None = None
        self._fresh = False  # the entry being loaded is another example than the one shown

    @property
    def raw_mode(self) -> bool:
        return self.mode == "raw"

    def compose(self) -> ComposeResult:
        yield Static("", id="editor-note")
        with Vertical(id="pair-fields"):
            with Horizontal(id="system-row"):
                # The label a short screen shows, where the field has no border to title.
                yield Static("System:", id="system-label")
                system = Input(id="system", placeholder="no system prompt")
                system.border_title = "System"
                yield system
            user = EditorArea(id="user", soft_wrap=True, tab_behavior="focus")
            user.border_title = "User"
            yield user
            assistant = EditorArea(id="assistant", soft_wrap=True, tab_behavior="focus")
            assistant.border_title = "Assistant"
            yield assistant
            yield Checkbox("Train on this answer (weight 1)", True, id="weight")
        yield VerticalScroll(id="messages-box")
        with Vertical(id="raw-box"):
            raw = EditorArea(id="raw", soft_wrap=True, tab_behavior="focus")
            raw.border_title = "Raw JSONL line"
            yield raw

    # ---------------------------------------------------------------- loading

    def load(
        self,
        entry: Entry | None,
        *,
        default_system: str,
        force_raw: bool = False,
        other: bool = False,
    ) -> None:
        """Show an entry. Reloading the same example keeps every cursor where it is (only
        the user moves it); `other` (another example) puts them at the end of each field."""
        self._fresh = other
        if not other and not force_raw and self._typed_since_shown(entry):
            return  # the fields hold newer keys; their own edit follows and reloads then
        self.entry = entry
        self.default_system = default_system
        self.disabled = entry is None
        obj = entry.parse() if entry is not None else None
        pair = None if force_raw or entry is None else as_pair(obj)
        if pair is None and not force_raw and entry is not None and self.lines_of is not None:
            pair = self.lines_of.draft_pair(entry)
        messages = None if force_raw or entry is None or pair else as_messages(obj)
        self._pair, self._messages = pair, messages
        self.mode = "pair" if pair or entry is None else "messages" if messages else "raw"
        if self.has_class("-raw") != (self.mode == "raw") or self.has_class("-messages") != (
            self.mode == "messages"
        ):  # one restyle for both
            self.set_class(self.mode == "raw", "-raw", update=False)
            self.set_class(self.mode == "messages", "-messages", update=False)
            self.update_node_styles()
        if entry is None:
            self._note("")
            return
        raw_area = self.query_one("#raw", TextArea)
        if self.mode == "raw" and self.lines_of is not None and entry.source is not None:
            self._set_text("#raw", entry.source.decode("utf-8", "replace"))
            header = self.lines_of.table is not None and entry.kind == "comment"
            self.disabled = header  # the columns every row is read by: not edited here
            if header:
                raw_area.border_title = "The header row"
                self._note("The file's columns; edit them in another program")
            elif self.lines_of.table is not None:
                raw_area.border_title = f"The row in the {self.lines_of.source_format} file"
                self._note("One example a row, under the file's header · Ctrl+R: form")
            else:
                raw_area.border_title = "The line in the pairs file"
                self._note(f"input{self.lines_of.sep} output, one pair a line · Ctrl+R: form")
            return
        raw_area.border_title = "Raw JSONL line"
        if self.mode == "raw":
            raw = entry.text.decode("utf-8", "replace")
            self._set_text("#raw", raw)
            why = "not valid JSON" if obj is None else "more than the form shows"
            self._note(f"The example's JSON line ({why}) · Ctrl+R: form when possible")
            return
        if self.mode == "messages":
            assert messages is not None
            self._show_messages(messages)
            self._note("Alt+N add · Alt+X remove · Alt+R role · Ctrl+R raw JSON")
            return
        assert pair is not None
        self._set_input(pair.system or "")
        self._set_text("#user", pair.user)
        self._set_text("#assistant", pair.assistant)
        box = self.query_one("#weight", Checkbox)
        with box.prevent(Checkbox.Changed):
            box.value = pair.weight != 0
        self._update_system_title(pair.system)
        raw = "raw JSON"
        if self.lines_of is not None:
            raw = "the row in the file" if self.lines_of.table else "the line in the pairs file"
        self._note(f"Ctrl+R: {raw} · Tab: next field")

    def _typed_since_shown(self, entry: Entry | None) -> bool:
        """The user typed into the fields after the last edit was posted (it is on its way):
        reloading now would put older text back over those keys."""
        if entry is None or self.entry is None:
            return False
        shown = self.current_text()
        return shown != self.entry.text and shown != entry.text

    def adopt(self, entry: Entry, field: str) -> None:
        """Take `entry` as the one shown without touching the fields: the user typed on
        after the edit that produced it, so the fields hold newer text. If what they hold
        now differs from `entry`, that is posted as the next edit, so the dataset always
        ends up with what the fields show."""
        self.entry = entry
        obj = entry.parse()
        if self.mode == "pair":
            self._pair = as_pair(obj) or self._pair
        elif self.mode == "messages":
            self._messages = as_messages(obj) or self._messages
        self._edited(field)

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
        if area.text == text or (self._trims and area.text.strip() == text.strip()):
            if self._fresh:
                area.move_cursor(area.document.end)
            return
        cursor = area.cursor_location
        with area.prevent(TextArea.Changed):
            area.load_text(text)
        if self._fresh:
            area.move_cursor(area.document.end)
            return
        row = min(cursor[0], area.document.line_count - 1)
        col = min(cursor[1], len(area.document.get_line(row)))
        area.cursor_location = (row, col)

    def _set_input(self, text: str) -> None:
        field = self.query_one("#system", Input)
        if field.value != text:
            with field.prevent(Input.Changed):
                field.value = text
        if self._fresh:
            field.cursor_position = len(field.value)

    # ---------------------------------------------------------------- editing

    def current_text(self) -> bytes | None:
        if self.entry is None:
            return None
        if self.mode == "raw":
            return self.query_one("#raw", TextArea).text.encode("utf-8")
        if self.mode == "messages":
            current = self._current_messages()
            if current == self._messages:
                return self.entry.text
            return encode_example(messages_example(current))
        assert self._pair is not None
        system = self.query_one("#system", Input).value
        pair = Pair(
            system if system else None,
            self.query_one("#user", TextArea).text,
            self.query_one("#assistant", TextArea).text,
            self._weight(),
        )
        if pair == self._pair or (self._trims and _trimmed(pair) == _trimmed(self._pair)):
            return self.entry.text  # unchanged: keep the source bytes exactly
        return encode_example(pair_example(pair))

    def _weight(self) -> int | None:
        assert self._pair is not None
        on = self.query_one("#weight", Checkbox).value
        if on:
            return None if self._pair.weight is None else 1
        return 0

    @property
    def _trims(self) -> bool:
        return self.lines_of is not None and self.mode == "pair"

    @property
    def edits_source_line(self) -> bool:
        """The raw view shows the line (row) in the pairs or CSV file (not a JSONL line)."""
        return self.mode == "raw" and self.lines_of is not None

    def _edited(self, field: str) -> None:
        text = self.current_text()
        if self.edits_source_line:
            if text is not None and self.entry is not None and text != self.entry.saved:
                self.post_message(self.Edited(text, SOURCE_LINE))
            return
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

    def focus_field(self, name: str, message: int | None = None) -> None:
        """Focus a field: system/user/assistant, or message `message` of a message list."""
        if self.mode == "messages":
            areas = list(self.query(MessageArea))
            match = [a for a in areas if a.index == message] or [
                a for a in areas if a.message.role == name
            ]
            if match or areas:
                self.screen.set_focus((match or areas)[0])
            return
        # At once (not after the keys already queued): what is typed next lands here.
        self.screen.set_focus(self.query_one("#raw" if self.mode == "raw" else f"#{name}"))

    # ---------------------------------------------------------------- message list

    def _show_messages(self, messages: list[PlainMessage]) -> None:
        box = self.query_one("#messages-box", VerticalScroll)
        areas = list(box.query(MessageArea))
        if [a.message.role for a in areas] == [m.role for m in messages] and len(areas) == len(
            messages
        ):
            for area, message in zip(areas, messages, strict=True):
                area.message = message
                area.set_title()
                if area.text != message.content:
                    with area.prevent(TextArea.Changed):
                        area.load_text(message.content)
            return
        focus = self._focus_after_mount
        self._focus_after_mount = None
        box.remove_children()
        new = [MessageArea(m, i) for i, m in enumerate(messages)]
        box.mount(*new)
        if focus is not None and new:
            self.call_after_refresh(new[min(focus, len(new) - 1)].focus)

    def _current_messages(self) -> list[PlainMessage]:
        return [
            PlainMessage(a.message.role, a.text, a.message.weight) for a in self.query(MessageArea)
        ]

    def _focused_index(self) -> int | None:
        focused = self.screen.focused
        return focused.index if isinstance(focused, MessageArea) else None

    def _post_messages(self, messages: list[PlainMessage], focus: int) -> None:
        self._focus_after_mount = focus
        self.post_message(self.Edited(encode_example(messages_example(messages)), "messages"))

    def action_add_message(self) -> None:
        """Add a message after the focused one (a pair becomes a message list)."""
        if self.entry is None or self.mode == "raw":
            return
        if self.mode == "pair":
            assert self._pair is not None
            system = self.query_one("#system", Input).value
            current = [PlainMessage("system", system)] if system else []
            current += [
                PlainMessage("user", self.query_one("#user", TextArea).text),
                PlainMessage(
                    "assistant", self.query_one("#assistant", TextArea).text, self._weight()
                ),
            ]
            at = len(current)
        else:
            current = self._current_messages()
            focused = self._focused_index()
            at = len(current) if focused is None else focused + 1
        before = current[at - 1].role if at else "assistant"
        current.insert(at, PlainMessage("user" if before == "assistant" else "assistant", ""))
        self._post_messages(current, at)

    def action_remove_message(self) -> None:
        index = self._focused_index()
        if self.mode != "messages" or index is None:
            return
        current = self._current_messages()
        del current[index]
        self._post_messages(current, max(0, index - 1))

    def action_cycle_role(self) -> None:
        index = self._focused_index()
        if self.mode != "messages" or index is None:
            return
        current = self._current_messages()
        message = current[index]
        role = ROLES_CYCLE[(ROLES_CYCLE.index(message.role) + 1) % len(ROLES_CYCLE)]
        weight = message.weight if role == "assistant" else None
        current[index] = PlainMessage(role, message.content, weight)
        self._post_messages(current, index)

    def focused_area(self) -> TextArea | None:
        focused = self.screen.focused
        if isinstance(focused, TextArea) and focused in self.query(TextArea):
            return focused
        return None
