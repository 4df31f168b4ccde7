"""Messages that cross screens. Posted to the app, which routes them."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class AddTrainingExample(Message):
    """Add an example (chat messages, system first if any) to the open dataset.

    Posted by the Playground's "save as training example"; handled by the Dataset screen.
    """

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        super().__init__()
        self.messages = messages


class OpenInPlayground(Message):
    """Open a model (a tuned model or a checkpoint) in the Playground screen."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
