"""`emulator --azure`: a fine-tuning file is imported before a job may use it.

Azure OpenAI answers an upload with `status: pending`; the file goes `running`, then ends
`processed` (usable) or `error` (with `status_details`), and creating a job with a file that
is not `processed` is refused. Here each GET of the file moves it one state on (pending →
running → processed or error), so clients that poll see every state and tests need no
clock. A file is refused at import when its lines are not fine-tuning examples (chat or
preference lines, judged by the project's validator); how many examples it has is judged
by the job, as Azure does. The `import-error` fault fails the next import of any file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tui.emulator.faults import Faults
from tui.emulator.store import Store
from tui.emulator.validation import N_EXAMPLES, check_file

IMPORT_MODEL = "gpt-4.1-mini-2025-04-14"  # the rules a file is checked by before any job
INJECTED = "The file could not be imported: an internal error occurred (injected by the emulator)."
STATES = ("pending", "running")  # then the import's outcome


@dataclass
class FileImport:
    polls: int = 0
    error: str | None = None  # why the import fails, if it does

    def state(self) -> str:
        if self.polls < len(STATES):
            return STATES[self.polls]
        return "error" if self.error is not None else "processed"


def import_error(content: bytes) -> str | None:
    """Why Azure would refuse the file at import: the first problem of its lines when they
    are neither chat examples nor preference pairs."""
    found = None
    for method in ("supervised", "dpo"):
        check = check_file(content, IMPORT_MODEL, param="training_file", method=method)
        if check.error is None or check.error.code == N_EXAMPLES:
            return None
        found = found or check.error.message.removeprefix(
            "The job failed due to an invalid training file. "
        )
    return f"The file could not be imported: {found}"


class FileImports:
    """The import state of each fine-tuning file uploaded in Azure mode."""

    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self.imports: dict[str, FileImport] = {}

    async def started(self, meta: dict[str, Any]) -> None:
        """A fine-tuning file was uploaded: it starts `pending`."""
        file_id = str(meta.get("id"))
        stored = self.store.files.get(file_id)
        if stored is None or meta.get("purpose") != "fine-tune":
            return
        error = await asyncio.to_thread(import_error, stored.content)
        if self.faults.take("import-error") is not None:
            error = INJECTED
        self.imports[file_id] = FileImport(error=error)
        self._show(file_id)

    def polled(self, file_id: str) -> None:
        """The file was asked for: its import moves one state on."""
        found = self.imports.get(file_id)
        if found is None or found.polls >= len(STATES):
            return
        found.polls += 1
        self._show(file_id)

    def _show(self, file_id: str) -> None:
        stored = self.store.files.get(file_id)
        found = self.imports[file_id]
        if stored is None:
            return
        stored.meta["status"] = found.state()
        if found.state() == "error":
            stored.meta["status_details"] = found.error

    def not_ready(self, file_id: object) -> web.Response | None:
        """Azure's refusal of a job whose file is not `processed`, if it is not."""
        found = self.imports.get(str(file_id))
        if found is None or found.state() == "processed":
            return None
        return web.json_response(
            {
                "error": {
                    "code": "invalidPayload",
                    "message": f"The input file '{file_id}' is in '{found.state()}' state. "
                    "Only files with status 'processed' are accepted for fine-tuning. "
                    "Please check the file status and try again.",
                }
            },
            status=400,
        )
