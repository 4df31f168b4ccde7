"""The Jobs screen."""

from __future__ import annotations

from textual.app import ComposeResult

from tui.screens.base import EmptyState, MainScreen


class JobsScreen(MainScreen):
    TITLE = "Jobs"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Jobs",
            "Fine-tuning jobs are not built yet. Here you will launch a job after a pre-flight "
            "check, follow its events and loss curve live, and cancel, pause or resume it.",
        )
