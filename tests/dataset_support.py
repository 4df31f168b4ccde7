"""Waiting for the Dataset screen to be still, for snapshots of it or of dialogs over it."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot

from tui.core.validate import ValidationReport, validate_bytes
from tui.screens.dataset import DatasetScreen


async def settle(pilot: Pilot) -> None:  # type: ignore[type-arg]
    """Wait (bounded) for the load, the background check and token count, and the views."""
    for _ in range(250):
        screen = next((s for s in pilot.app.screen_stack if isinstance(s, DatasetScreen)), None)
        if (
            screen is not None
            and screen.doc is not None
            and screen.doc.tokens_ready
            and screen._refresh_timer is None
        ):
            break
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
    await pilot.app.workers.wait_for_complete()  # the edited example's token count
    await pilot.pause()


def assert_shows_validate(app: App, data: bytes) -> ValidationReport:  # type: ignore[type-arg]
    """The stats and problems the app shows are what `validate` says of `data` (the bytes
    Ctrl+S writes, or the file on disk): examples, errors, warnings, token total, and each
    problem at its line."""
    workspace = app.workspace  # type: ignore[attr-defined]
    report = validate_bytes(data, workspace.model.name)
    figures = workspace.stats()
    assert figures is not None
    assert (figures.examples, figures.errors, figures.warnings, figures.tokens) == (
        report.n_examples,
        len(report.errors),
        len(report.warnings),
        report.tokens.total,
    )
    shown = sorted((p.line, p.code) for p in workspace.doc.problems())
    assert shown == sorted((p.line, p.code) for p in [*report.errors, *report.warnings])
    return report
