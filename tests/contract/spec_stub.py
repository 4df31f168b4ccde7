"""A stub OpenAI-compatible server (aiohttp, 127.0.0.1) that answers with the bodies a test
gives it: usually drawn from the spec's response schemas (`spec_bodies`), sometimes hand-made
traps (a `has_more` page that never moves, a chat stream answered with plain JSON).

Every request is recorded, so a test can assert the client stopped on its own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Body = Any
Answer = Body | Callable[[web.Request], Body]


@dataclass
class Scenario:
    """What each endpoint answers. A callable is called with the request (for sequences)."""

    jobs_page: Answer = field(
        default_factory=lambda: {"object": "list", "data": [], "has_more": False}
    )
    job: Answer = None
    events_page: Answer = field(
        default_factory=lambda: {"object": "list", "data": [], "has_more": False}
    )
    checkpoints_page: Answer = field(
        default_factory=lambda: {"object": "list", "data": [], "has_more": False}
    )
    models_page: Answer = field(default_factory=lambda: {"object": "list", "data": []})
    chat_chunks: list[Body] | None = None
    """Streamed as server-sent events; None: `chat_completion` as one JSON body instead."""
    chat_completion: Answer = None
    results_csv: bytes = b"step,train_loss\n1,2.0\n"
    uploads: bool = True
    """Whether /v1/uploads exists (else 404, as servers without the Uploads API answer)."""


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    at: float


class SpecStub:
    """The stub's aiohttp app; run it in this loop (`async with`) or in a thread (`running`)."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario or Scenario()
        self.requests: list[Seen] = []
        self.files: dict[str, bytes] = {}
        self.upload_parts: dict[str, list[bytes]] = {}
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    # --- serving -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/v1/fine_tuning/jobs", self._answer("jobs_page"))
        r.add_post("/v1/fine_tuning/jobs", self._answer("job"))
        r.add_get("/v1/fine_tuning/jobs/{id}", self._answer("job"))
        for action in ("cancel", "pause", "resume"):
            r.add_post(f"/v1/fine_tuning/jobs/{{id}}/{action}", self._answer("job"))
        r.add_get("/v1/fine_tuning/jobs/{id}/events", self._answer("events_page"))
        r.add_get("/v1/fine_tuning/jobs/{id}/checkpoints", self._answer("checkpoints_page"))
        r.add_get("/v1/models", self._answer("models_page"))
        r.add_post("/v1/chat/completions", self._chat)
        r.add_get("/v1/files/{id}/content", self._content)
        r.add_get("/v1/files/{id}", self._file)
        r.add_post("/v1/files", self._create_file)
        r.add_post("/v1/uploads", self._create_upload)
        r.add_post("/v1/uploads/{id}/parts", self._add_part)
        r.add_post("/v1/uploads/{id}/complete", self._complete_upload)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(
            Seen(request.method, request.path, dict(request.query), time.monotonic())
        )
        return await handler(request)

    def _answer(self, name: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            answer = getattr(self.scenario, name)
            body = answer(request) if callable(answer) else answer
            if body is None:
                return _error(404, f"no {name} in this scenario")
            return web.json_response(body, dumps=_dumps)

        return handler

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        chunks = self.scenario.chat_chunks
        if chunks is None:
            answer = self.scenario.chat_completion
            body = answer(request) if callable(answer) else answer
            return web.json_response(body, dumps=_dumps)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(f"data: {_dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _content(self, request: web.Request) -> web.Response:
        return web.Response(body=self.scenario.results_csv, content_type="text/csv")

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        if file_id not in self.files:
            return _error(404, f"no file {file_id}")
        return web.json_response(_file_object(file_id, len(self.files[file_id])))

    async def _create_file(self, request: web.Request) -> web.Response:
        data = b""
        async for part in await request.multipart():
            if getattr(part, "name", None) == "file":
                data = await part.read()  # type: ignore[union-attr]
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return web.json_response(_file_object(file_id, len(data)))

    async def _create_upload(self, request: web.Request) -> web.Response:
        if not self.scenario.uploads:
            return _error(404, "Invalid URL (POST /v1/uploads)")
        spec = await request.json()
        upload_id = f"upload_{len(self.upload_parts) + 1}"
        self.upload_parts[upload_id] = []
        return web.json_response(
            {
                "id": upload_id,
                "object": "upload",
                "bytes": spec["bytes"],
                "created_at": 1,
                "expires_at": 3601,
                "filename": spec["filename"],
                "purpose": spec["purpose"],
                "status": "pending",
            }
        )

    async def _add_part(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["id"]
        async for part in await request.multipart():
            if getattr(part, "name", None) == "data":
                self.upload_parts[upload_id].append(await part.read())  # type: ignore[union-attr]
        part_id = f"part_{upload_id}_{len(self.upload_parts[upload_id])}"
        return web.json_response(
            {"id": part_id, "object": "upload.part", "created_at": 1, "upload_id": upload_id}
        )

    async def _complete_upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["id"]
        order = (await request.json())["part_ids"]
        parts = self.upload_parts[upload_id]
        data = b"".join(parts[int(p.rsplit("_", 1)[1]) - 1] for p in order)
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return web.json_response(
            {
                "id": upload_id,
                "object": "upload",
                "bytes": len(data),
                "created_at": 1,
                "expires_at": 3601,
                "filename": "upload.jsonl",
                "purpose": "fine-tune",
                "status": "completed",
                "file": _file_object(file_id, len(data)),
            }
        )

    # --- running -------------------------------------------------------------------------

    async def __aenter__(self) -> SpecStub:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @contextmanager
    def running(self) -> Iterator[SpecStub]:
        """Serve from a background thread (for code that runs its own event loop)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop = asyncio.Event()

        async def serve() -> None:
            async with self:
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        if not ready.wait(30):
            raise RuntimeError("the stub server did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)
            loop.close()

    # --- what the client did -------------------------------------------------------------

    def count(self, suffix: str) -> int:
        return sum(1 for r in self.requests if r.path.endswith(suffix))


def page(data: list[Any], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more}


def _file_object(file_id: str, size: int) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": 1,
        "filename": "train.jsonl",
        "purpose": "fine-tune",
        "status": "processed",
    }


def _error(status: int, message: str) -> web.Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }
    return web.json_response(body, status=status)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=True)
