"""Waiting for the Dataset screen to be still, for snapshots of it or of dialogs over it."""

from __future__ import annotations

from textual.pilot import Pilot

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
