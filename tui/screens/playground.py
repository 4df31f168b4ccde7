"""The Playground screen."""

from __future__ import annotations

from textual.app import ComposeResult

from tui.screens.base import EmptyState, MainScreen


class PlaygroundScreen(MainScreen):
    TITLE = "Playground"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Playground",
            "Chat is not built yet. Here you will talk to tuned models and their checkpoints "
            "with the training system prompt, compare them side by side, and run a batch check.",
        )
