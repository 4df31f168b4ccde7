"""A model picker: tuned models, their checkpoints, then base models."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import Select

from tui.api.chat import ModelChoice
from tui.core.models import short_name, tuned_name

KIND_MARK = {"deployment": "▶", "tuned": "★", "checkpoint": "◆", "base": "○"}


def option_label(choice: ModelChoice) -> Text:
    """Distinct part first: `★ demo:dShFGCnK (gpt-4.1-mini-…)`, `◆ demo:dShFGCnK step 207`;
    Azure's `BASE.ft-HEX` ids as `★ ft-0e208cf3 (gpt-4o-mini-…)`."""
    tuned = tuned_name(choice.id)
    if choice.kind == "deployment":  # Azure: the name chat calls, then what it serves
        text = f"{choice.id}\u00a0({short_name(choice.note)})"
    elif tuned is not None and (choice.id.count(":") >= 4 or not choice.id.startswith("ft:")):
        if choice.kind == "checkpoint":
            text = f"{tuned.label} step {tuned.step or '?'}"
        else:
            text = f"{tuned.label}\u00a0({tuned.base})"  # no break: the overlay wraps at spaces
    else:
        text = choice.id
    return Text(f"{KIND_MARK[choice.kind]} {text}", no_wrap=True, overflow="ellipsis")


def tail(model: str, width: int) -> str:
    """A model id cut to `width` from the left: a tuned id differs at its end (suffix, id)."""
    return model if len(model) <= width else "…" + model[-max(1, width - 1) :]


def default_partner(model: str, choices: Sequence[ModelChoice]) -> str | None:
    """What to compare `model` with: a tuned model's base model (for an Azure deployment, the
    base of the model it serves), else the next other model."""
    ids = [c.id for c in choices]
    served = next((c.note for c in choices if c.id == model and c.kind == "deployment"), model)
    tuned = tuned_name(served)
    if tuned is not None and tuned.base in ids:
        return tuned.base
    return next((i for i in ids if i != model), None)


class ModelPicker(Select[str]):
    """Select one model; `set_choices` keeps the current (or a preferred) model selected."""

    class Picked(Message):
        """The option list closed: the user chose a model (the same one or another)."""

        def __init__(self, picker: ModelPicker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> ModelPicker:
            return self.picker

    DEFAULT_CSS = """
    ModelPicker { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None, prompt: str = "model", blank: bool = False):
        super().__init__([], prompt=prompt, allow_blank=True, compact=True, id=id)
        self._blank = blank
        self.choices: list[ModelChoice] = []

    def set_choices(self, choices: Sequence[ModelChoice], prefer: Sequence[str | None]) -> None:
        """Show `choices`; select the first of `prefer` that is one of them (or added)."""
        self.choices = list(choices)
        known = {c.id for c in self.choices}
        wanted = next((m for m in prefer if m), None)
        if wanted and wanted not in known:
            self.choices.insert(0, ModelChoice(wanted, "tuned", "not listed"))
        self.set_options((option_label(c), c.id) for c in self.choices)
        if wanted:
            self.value = wanted
        elif self.choices and not self._blank:
            self.value = self.choices[0].id

    def on_mount(self) -> None:
        self.watch(self, "expanded", self._list_toggled, init=False)

    def _list_toggled(self, expanded: bool) -> None:
        if not expanded:
            self.post_message(self.Picked(self))

    def choose(self, model: str) -> None:
        """Select `model`, adding it to the list if the API did not list it."""
        if model not in {c.id for c in self.choices}:
            self.set_choices(self.choices, [model])
        else:
            self.value = model

    @property
    def model(self) -> str | None:
        value = self.value
        return value if isinstance(value, str) else None
