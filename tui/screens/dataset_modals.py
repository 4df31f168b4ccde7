"""Small dialogs of the Dataset screen: paths, system prompt, split, model, confirmations."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui.screens.base import DIALOG
from tui.widgets.key_footer import KeyFooter

# The dialog look (centred, bordered, title/hint/error lines, buttons on the right) is in
# app.tcss once, for every screen with the "dialog" class; a dialog adds only its own rules.


class _SubmitOrCancel:
    """Enter in a field or the OK button submits; the other button cancels."""

    def _submit(self) -> None:
        raise NotImplementedError

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)  # type: ignore[attr-defined]


class PathModal(_SubmitOrCancel, ModalScreen[str | None]):
    """Asks for a file path (open, import, export, save as)."""

    DEFAULT_CLASSES = DIALOG
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]  # noqa: RUF012

    def __init__(self, title: str, hint: str, initial: str = "", button: str = "OK") -> None:
        super().__init__()
        self._title, self._hint, self._initial, self._button = title, hint, initial, button

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="modal-title")
            yield Input(self._initial, id="path", placeholder="path/to/file")
            yield Static(self._hint, classes="modal-hint")
            yield Static("", id="error", classes="modal-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self._button, id="ok", variant="primary")
        yield KeyFooter()

    def _submit(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if not value:
            self.query_one("#error", Static).update("Type a path, or Esc to cancel.")
            return
        self.dismiss(value)


class SystemPromptModal(_SubmitOrCancel, ModalScreen[str | None]):
    """Edits the dataset's default system prompt.

    big: for a big file, what applying does instead of an undoable edit (it rewrites the
    file; see DatasetScreen._system_big), said before the user applies it."""

    DEFAULT_CLASSES = DIALOG
    DEFAULT_CSS = """
    SystemPromptModal TextArea { height: 6; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s,ctrl+j", "apply", "Apply", priority=True),
    ]

    def __init__(self, current: str, users: int | None = None, big: str = "") -> None:
        super().__init__()
        self._current = current
        self._users = users
        self._big = big

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("System prompt for all examples", classes="modal-title")
            yield TextArea(self._current, id="prompt", soft_wrap=True)
            rule = (
                "Applies to every example that uses the dataset default or has none; "
                "overrides stay."
            )
            if self._big:
                yield Static(f"{rule} {self._big}", id="big", classes="modal-hint")
                yield Static("Ctrl+S or Ctrl+J: apply · Esc: cancel", classes="modal-hint")
            else:
                yield Static(
                    f"{rule} Undo with Ctrl+Z. Ctrl+S or Ctrl+J: apply · Esc: cancel",
                    classes="modal-hint",
                )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Apply to all", id="ok", variant="primary")
        yield KeyFooter()

    def action_apply(self) -> None:
        self._submit()

    def _submit(self) -> None:
        self.dismiss(self.query_one("#prompt", TextArea).text.strip())


class ProgressModal(ModalScreen[None]):
    """A long operation on the open file: its share done, and Esc to stop it (the caller
    stops the work, then dismisses this)."""

    DEFAULT_CLASSES = DIALOG
    BINDINGS = [Binding("escape", "stop", "Stop")]  # noqa: RUF012

    def __init__(self, title: str, hint: str, on_stop: Callable[[], object]) -> None:
        super().__init__()
        self._title, self._hint, self._on_stop = title, hint, on_stop
        self.stopping = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="modal-title")
            yield Static("starting…", id="progress")
            yield Static(self._hint, id="hint", classes="modal-hint")
        yield KeyFooter()

    def show(self, text: str) -> None:
        if not self.stopping:
            self.query_one("#progress", Static).update(text)

    def action_stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.query_one("#progress", Static).update("stopping…")
            self._on_stop()


class SplitModal(_SubmitOrCancel, ModalScreen[tuple[float, int] | None]):
    """Validation share and seed for a train/validation split."""

    DEFAULT_CLASSES = DIALOG
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]  # noqa: RUF012

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Split into train and validation files", classes="modal-title")
            yield Input("0.1", id="share", placeholder="validation share, e.g. 0.1")
            yield Input("42", id="seed", placeholder="seed (a whole number)")
            yield Static(
                f"Writes {self._target}. The same seed gives the same split; identical "
                "examples always go to the same side. Lines with errors are left out.",
                classes="modal-hint",
            )
            yield Static("", id="error", classes="modal-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Split", id="ok", variant="primary")
        yield KeyFooter()

    def _submit(self) -> None:
        error = self.query_one("#error", Static)
        try:
            share = float(self.query_one("#share", Input).value)
            seed = int(self.query_one("#seed", Input).value)
        except ValueError:
            error.update("The share is a number like 0.1 and the seed a whole number.")
            return
        if not 0 < share < 1:
            error.update("The validation share must be between 0 and 1, e.g. 0.1.")
            return
        self.dismiss((share, seed))


class ChoiceModal(ModalScreen[str | None]):
    """A question with a few answers (confirm quit, restore, overwrite).

    The last answer is drawn as the main one; `focus` names the answer Enter gives (default:
    the last). Where the main answer loses work (discard, overwrite), focus the safe one.
    """

    DEFAULT_CLASSES = DIALOG
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]  # noqa: RUF012

    def __init__(
        self, title: str, body: str, choices: list[tuple[str, str]], focus: str | None = None
    ) -> None:
        super().__init__()
        self._title, self._body, self._choices = title, body, choices
        self._focus = focus if focus is not None else choices[-1][0]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="modal-title")
            yield Static(self._body, id="body")
            with Horizontal(classes="buttons"):
                for n, (answer, label) in enumerate(self._choices):
                    last = n == len(self._choices) - 1
                    yield Button(
                        label, id=f"choice-{answer}", variant="primary" if last else "default"
                    )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self._focus}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "")[len("choice-") :])


class ModelModal(ModalScreen[str | None]):
    """Picks the base model the token limits and cost estimate are computed for."""

    DEFAULT_CLASSES = DIALOG
    DEFAULT_CSS = """
    ModelModal OptionList { height: auto; max-height: 14; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]  # noqa: RUF012

    def __init__(self, models: list[tuple[str, str]], current: str) -> None:
        super().__init__()
        self._models, self._current = models, current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Base model for tokens and cost", classes="modal-title")
            yield OptionList(*[Option(label, id=name) for name, label in self._models])
            yield Static("Enter: choose · Esc: cancel", classes="modal-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        for n, (name, _) in enumerate(self._models):
            if name == self._current:
                options.highlighted = n

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
