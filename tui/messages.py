"""Messages that cross screens. Posted to the app, which routes them."""

from __future__ import annotations

from textual.message import Message


class WorkspaceChanged(Message):
    """The open dataset (the app's Workspace) changed: posted by the app to every screen.

    what: one of tui.core.workspace's OPENED, EDITED, ADDED, SAVED; index: the entry
    concerned, if one.
    """

    def __init__(self, what: str, index: int | None) -> None:
        super().__init__()
        self.what = what
        self.index = index


class OpenInPlayground(Message):
    """Open a model (a tuned model or a checkpoint) in the Playground screen."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
