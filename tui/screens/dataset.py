"""The Dataset screen."""

from __future__ import annotations

from textual.app import ComposeResult

from tui.screens.base import EmptyState, MainScreen


class DatasetScreen(MainScreen):
    TITLE = "Dataset"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "Dataset",
            "The pair editor is not built yet. Here you will write training pairs, see the "
            "exact JSONL that will be uploaded with every problem pinned to its line, and "
            "check token counts and cost.\n\nUntil then: `tunebench --help` lists what works.",
        )
