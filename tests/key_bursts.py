"""Keys that arrive together, as a terminal delivers a fast typist's keys or a slow SSH link's."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot


async def burst(pilot: Pilot, *keys: str) -> None:  # type: ignore[type-arg]
    """Keys arriving together, as from the terminal: all queued before the first is handled."""
    for key in keys:
        character = key if len(key) == 1 else " " if key == "space" else None
        pilot.app.post_message(events.Key(key, character))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
