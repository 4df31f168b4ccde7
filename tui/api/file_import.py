"""Wait until an uploaded fine-tuning file may be used by a job.

Azure OpenAI imports an upload first: the file is `pending`, then `running`, and ends
`processed` or `error` (with `status_details`); a job on a file that is not `processed` is
refused. OpenAI answers `processed` at once, so nothing waits there. The wait is bounded,
polls with a growing interval and says each state it sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tui.errors import UsageError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

IMPORTING = ("pending", "running")  # Azure's states while it imports a file
WAIT_SECONDS = 1800.0  # as long as the openai SDK's own files.wait_for_processing
MAX_INTERVAL = 10.0
Notify = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]


class ImportFailed(UsageError):
    """The service refused the file at import (status `error`): the file needs fixing."""


async def wait_until_processed(
    client: AsyncOpenAI,
    file_id: str,
    status: str | None,
    details: str | None,
    *,
    filename: str,
    notify: Notify,
    interval: float,
    timeout: float = WAIT_SECONDS,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Return once `file_id` (last seen with `status`) is usable; raise ImportFailed when
    its import ends in `error`, UsageError (exit 1) when it is still importing after
    `timeout` seconds."""
    started = time.monotonic()
    wait = max(interval, 0.01)
    if status in IMPORTING:
        notify(f"{filename}: {file_id} is {status}: the service imports it before training…")
    while status in IMPORTING:
        elapsed = time.monotonic() - started
        if elapsed + wait > timeout:
            raise UsageError(
                f"{filename}: {file_id} is still {status} after {elapsed:.0f} s; the import "
                "goes on: run the same launch again later (the upload is reused)",
                exit_code=1,
            )
        await sleep(wait)
        wait = min(wait * 1.5, MAX_INTERVAL)
        remote = await client.files.retrieve(file_id)
        if remote.status != status:
            notify(f"{filename}: {file_id} is {remote.status} ({time.monotonic() - started:.0f} s)")
        status, details = remote.status, remote.status_details
    if status == "error":
        raise ImportFailed(
            f"{filename}: the service could not import it ({file_id}): "
            f"{' '.join((details or 'it gave no reason').split())}"
        )
