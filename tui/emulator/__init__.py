"""An OpenAI-compatible local server for the offline demo and the tests (never imports textual).

It speaks the fine-tuning part of the API, over real HTTP on loopback: files and uploads in
parts, fine-tuning jobs (events, checkpoints, pause/resume/cancel, checkpoint permissions),
models, and chat completions (plain and SSE, with the options other clients send); bad
requests get OpenAI's 4xx error bodies, never a 500. Any non-empty bearer key is accepted
unless `api_key` names one. Jobs really train a small bigram model on the uploaded
examples, so the loss curve comes from the data; a tuned model answers a trained input as
trained, a similar one with the nearest example's transformation, anything else with an
honest `[emulated]` reply (see `tui.emulator.chat`).

Start it:
- async:  `async with Emulator(seed=0, speed=100.0) as emu: emu.base_url`
- thread: `with EmulatorThread(seed=0, speed=20.0) as emu: emu.base_url`
- shell:  `tunebench emulator [--host 127.0.0.1] [--port N] [--speed X] [--seed S]`

`speed` divides every duration (validation 3 s, queue 2 s, 0.5 s per training step, 30 ms
per streamed chunk at speed 1).

Faults on demand, for recovery tests (constructor `faults=[...]`, env var
`TUNEBENCH_EMULATOR_FAULTS="429:2,slow:0.5"`, `--fault SPEC`, or `emu.inject(kind, count,
seconds)` at runtime): the kinds are listed in `tui.emulator.faults.FAULT_KINDS` and by
`tunebench emulator --help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.emulator.demo import demo_dataset_path

if TYPE_CHECKING:
    from tui.emulator.http import RemoteBindRefused
    from tui.emulator.server import Emulator, EmulatorThread

__all__ = ["Emulator", "EmulatorThread", "RemoteBindRefused", "demo_dataset_path"]


def __getattr__(name: str) -> Any:
    """The server classes import aiohttp; load them only when asked for."""
    if name in ("Emulator", "EmulatorThread", "RemoteBindRefused"):
        from tui.emulator import http, server

        return getattr(http if name == "RemoteBindRefused" else server, name)
    raise AttributeError(f"module 'tui.emulator' has no attribute {name!r}")
