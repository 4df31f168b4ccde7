"""Every modal screen takes its look from app.tcss's one dialog rule set (issue 12: modal CSS
in app.tcss once, not copied per modal): each has the dialog class, and none carries its
own copy of the centring and the box."""

from __future__ import annotations

import importlib
import pkgutil

from textual.screen import ModalScreen

import tui
from tui.screens.base import DIALOG


def modal_screens() -> list[type[ModalScreen]]:  # type: ignore[type-arg]
    for module in pkgutil.walk_packages(tui.__path__, "tui."):
        if module.name.startswith(("tui.emulator", "tui.serve")) or module.name.endswith(
            "__main__"
        ):
            continue
        importlib.import_module(module.name)
    found, todo = [], list(ModalScreen.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("tui."):
            found.append(cls)
    return found


def test_every_modal_is_a_dialog_without_its_own_copy_of_the_box() -> None:
    screens = modal_screens()
    names = {cls.__name__ for cls in screens}
    assert {"HelpScreen", "LaunchScreen", "ConfirmScreen", "SaveExampleScreen"} <= names
    assert {"BatchCheckScreen", "PathModal", "ChoiceModal", "DeployScreen"} <= names
    for cls in screens:
        assert DIALOG in cls.DEFAULT_CLASSES.split(), cls.__name__
        css = cls.DEFAULT_CSS
        assert "align: center middle" not in css and "border: round" not in css, cls.__name__
