"""The aiohttp application: middlewares (ids, headers, auth, faults, errors) and routes."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tui.emulator import completions, sse
from tui.emulator.errors import ApiError, invalid, missing, model_not_found
from tui.emulator.examples import Example
from tui.emulator.faults import Faults
from tui.emulator.http import STARTED, Handler, openai_app
from tui.emulator.jobs import build_job
from tui.emulator.permissions import PermissionRoutes
from tui.emulator.runner import JobRunner, RunConfig
from tui.emulator.store import (
    ALIASES,
    BASE_MODELS,
    FILE_PURPOSES,
    ORG,
    Job,
    Store,
    now,
    resolve_base,
)
from tui.emulator.store import page as cursor_page
from tui.emulator.uploads import UploadRoutes
from tui.emulator.validation import check_upload
from tui.emulator.wire import clean_text, form_body, json_body, json_response, limit

REQUESTS_PER_MINUTE = 10_000
TOKENS_PER_MINUTE = 2_000_000
STREAM_CHUNK_SECONDS = 0.03
CUT_AFTER_CHUNKS = 3
_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)


class RateWindow:
    """Requests in the current minute, for the x-ratelimit-* headers."""

    def __init__(self) -> None:
        self.minute = 0
        self.count = 0

    def headers(self) -> dict[str, str]:
        minute = int(time.time() // 60)
        if minute != self.minute:
            self.minute, self.count = minute, 0
        self.count += 1
        reset = 60 - int(time.time()) % 60
        return {
            "x-ratelimit-limit-requests": str(REQUESTS_PER_MINUTE),
            "x-ratelimit-remaining-requests": str(max(0, REQUESTS_PER_MINUTE - self.count)),
            "x-ratelimit-reset-requests": f"{reset}s",
            "x-ratelimit-limit-tokens": str(TOKENS_PER_MINUTE),
            "x-ratelimit-remaining-tokens": str(TOKENS_PER_MINUTE),
            "x-ratelimit-reset-tokens": "0s",
        }


class EmulatorApp:
    """Routes over a `Store`; jobs run as tasks owned by this object (see `shutdown`)."""

    def __init__(
        self, *, seed: int, speed: float, faults: Faults, api_key: str | None, base64_results: bool
    ) -> None:
        self.store = Store(seed)
        self.faults = faults
        self.speed = speed
        self.api_key = api_key
        self.runner = JobRunner(self.store, faults, RunConfig(speed, base64_results))
        self.rate = RateWindow()
        self.deployments: dict[str, str] = {}  # Azure mode: deployment name → model it serves
        self.uploads = UploadRoutes(self.store)
        self.permissions = PermissionRoutes(self.store)

    # -- application --------------------------------------------------------------------------

    def build(self) -> web.Application:
        app = openai_app(self, [self._auth_and_faults], "emulator")
        app.on_response_prepare.append(self._headers)
        self.uploads.register(app.router)
        self.permissions.register(app.router)
        return app

    async def shutdown(self) -> None:
        """Cancel running jobs and wait for them, so nothing outlives the server."""
        tasks = [job.task for job in self.store.jobs.values() if job.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["openai-organization"] = ORG
        response.headers["openai-version"] = "2020-10-01"
        started = request.get(STARTED, time.monotonic())
        response.headers["openai-processing-ms"] = str(int((time.monotonic() - started) * 1000))
        response.headers.update(self.rate.headers())

    @web.middleware
    async def _auth_and_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, _NO_KEY)
        if self.api_key is not None and key != self.api_key:
            masked = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
            raise ApiError(
                401,
                f"Incorrect API key provided: {masked}. You can find your API "
                "key at https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        delay = self.faults.take("slow")
        if delay:
            await asyncio.sleep(delay)
        retry = self.faults.take("429")
        if retry is not None:
            raise ApiError(
                429,
                "Rate limit reached for requests",
                type="requests",
                code="rate_limit_exceeded",
                headers={
                    "retry-after": str(math.ceil(retry)),
                    "retry-after-ms": str(int(retry * 1000)),
                },
            )
        if self.faults.take("drop") is not None:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never reaches the client: the connection is gone
        if self.faults.take("500") is not None:
            raise ApiError(
                500,
                "The server had an error while processing your request. Sorry about that!",
                type="server_error",
            )
        response = await handler(request)
        if self.faults.take("lost-reply") is not None and request.transport is not None:
            request.transport.abort()  # done, but the client never hears about it
        return response

    # -- files ---------------------------------------------------------------------------------

    async def create_file(self, request: web.Request) -> web.Response:
        form = await form_body(request)
        purpose = form.get("purpose")
        upload = form.get("file")
        if not isinstance(purpose, str) or not purpose:
            raise missing("purpose")
        if purpose not in FILE_PURPOSES:
            raise invalid(
                "purpose",
                f"expected one of {', '.join(FILE_PURPOSES)}, but got {purpose!r} instead.",
            )
        if not isinstance(upload, web.FileField):
            raise missing("file")
        expires_at = None
        seconds = form.get("expires_after[seconds]")
        if isinstance(seconds, str):
            if not seconds.isdigit() or not 3600 <= int(seconds) <= 2_592_000:
                raise invalid("expires_after.seconds", "expected 3600 to 2592000 seconds.")
            expires_at = now() + int(seconds)
        filename = clean_text(upload.filename or "upload")
        content = upload.file.read()
        if purpose == "fine-tune":
            await asyncio.to_thread(check_upload, filename, content)
        meta = self.store.add_file(filename, purpose, content, expires_at)
        return json_response(meta)

    async def list_files(self, request: web.Request) -> web.Response:
        order = request.query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid("order", f"expected 'asc' or 'desc', but got {order!r} instead.")
        files = [f.meta for f in self.store.files.values()]
        if order == "desc":
            files.reverse()
        purpose = request.query.get("purpose")
        return json_response(
            page(
                files,
                request,
                default=10_000,
                maximum=10_000,
                with_ids=True,
                keep=(lambda f: f["purpose"] == purpose) if purpose else None,
            )
        )

    def _file(self, request: web.Request) -> Any:
        file_id = request.match_info["file_id"]
        stored = self.store.files.get(file_id)
        if stored is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return stored

    async def retrieve_file(self, request: web.Request) -> web.Response:
        return json_response(self._file(request).meta)

    async def delete_file(self, request: web.Request) -> web.Response:
        stored = self._file(request)
        del self.store.files[stored.meta["id"]]
        return json_response({"id": stored.meta["id"], "object": "file", "deleted": True})

    async def file_content(self, request: web.Request) -> web.Response:
        stored = self._file(request)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # -- fine-tuning jobs ---------------------------------------------------------------------

    async def create_job(self, request: web.Request) -> web.Response:
        if self.faults.take("deny-create") is not None:
            raise ApiError(
                403,
                "You have insufficient permissions for this operation. "
                "Fine-tuning is not available for your organization.",
                type="invalid_request_error",
                code="insufficient_permissions",
            )
        job = build_job(self.store, await json_body(request))
        self.store.jobs[job.id] = job
        job.event(f"Created fine-tuning job: {job.id}")
        job.task = asyncio.create_task(self.runner.run(job), name=f"emulator-{job.id}")
        return json_response(job.data)

    async def list_jobs(self, request: web.Request) -> web.Response:
        """Newest first; `metadata[k]=v` keeps jobs with those pairs, `metadata=null` the jobs
        without metadata."""
        wanted = {
            key[len("metadata[") : -1]: value
            for key, value in request.query.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        without = request.query.get("metadata") == "null"

        def keep(job: dict[str, Any]) -> bool:
            metadata = job.get("metadata") or {}
            if without:
                return not metadata
            return all(metadata.get(k) == v for k, v in wanted.items())

        jobs = [job.data for job in reversed(self.store.jobs.values())]
        filtered = keep if wanted or without else None
        return json_response(page(jobs, request, default=20, maximum=100, keep=filtered))

    def _job(self, request: web.Request) -> Job:
        job_id = request.match_info["job_id"]
        job = self.store.jobs.get(job_id)
        if job is None:
            raise ApiError(
                404,
                f"Could not find fine tune: {job_id}",
                param="fine_tune_id",
                code="fine_tune_not_found",
            )
        return job

    async def retrieve_job(self, request: web.Request) -> web.Response:
        return json_response(self._job(request).data)

    def _refuse(self, job: Job, action: str) -> ApiError:
        return ApiError(
            400,
            f"Cannot {action} job {job.id}: its status is {job.status}.",
            param="fine_tuning_job_id",
            code="invalid_job_status",
        )

    async def cancel_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job.status in ("succeeded", "failed", "cancelled"):
            raise self._refuse(job, "cancel")
        if job.task is not None:
            job.task.cancel()
        job.data.update(status="cancelled", estimated_finish=None)
        job.event("Fine-tuning job cancelled")
        return json_response(job.data)

    async def pause_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job.status != "running":
            raise self._refuse(job, "pause")
        job.data["status"] = "pausing"
        job.event("Pausing fine-tuning job")
        return json_response(job.data)

    async def resume_job(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job.status not in ("paused", "pausing"):
            raise self._refuse(job, "resume")
        job.data["status"] = "running"
        job.event("Resuming fine-tuning job")
        job.resume.set()
        return json_response(job.data)

    async def list_events(self, request: web.Request) -> web.Response:
        job = self._job(request)
        return json_response(page(list(reversed(job.events)), request, default=20, maximum=10_000))

    async def list_checkpoints(self, request: web.Request) -> web.Response:
        job = self._job(request)
        return json_response(
            page(
                list(reversed(job.checkpoints)), request, default=10, maximum=10_000, with_ids=True
            )
        )

    # -- models -------------------------------------------------------------------------------

    def _model_meta(self, model: str) -> dict[str, Any]:
        tuned = self.store.models.get(model)
        if tuned is not None:
            return tuned.meta
        if model in BASE_MODELS or model in ALIASES:
            return self.store.base_model_meta(model)
        raise model_not_found(model)

    async def list_models(self, request: web.Request) -> web.Response:
        # A single page (the SDK's SyncPage); has_more is sent anyway, as on every list.
        return json_response({"object": "list", "data": self.store.all_models(), "has_more": False})

    async def retrieve_model(self, request: web.Request) -> web.Response:
        return json_response(self._model_meta(request.match_info["model"]))

    async def delete_model(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if model not in self.store.models:
            self._model_meta(model)  # 404 for unknown models
            raise ApiError(
                403,
                "You have insufficient permissions for this operation: "
                f"{model} is not a model you own.",
                code="insufficient_permissions",
            )
        del self.store.models[model]
        return json_response({"id": model, "object": "model", "deleted": True})

    # -- chat ---------------------------------------------------------------------------------

    def _responder(self, model: str) -> tuple[str, list[Example] | None]:
        """(model name to report, the training examples it answers from; None: a base model).
        An Azure deployment name stands for the model it deploys."""
        model = self.deployments.get(model, model)
        tuned = self.store.models.get(model)
        if tuned is not None:
            return model, self.store.jobs[tuned.job_id].examples
        base = resolve_base(model)
        if base is None:
            raise model_not_found(model)
        return base, None

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        asked = completions.parse(await json_body(request))
        reported, examples = self._responder(asked.model)
        found = completions.answer(asked, examples, reported)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        if asked.stream:
            plan = completions.stream_chunks(asked, found, reported, completion_id, now())
            return await self._stream(request, plan)
        return json_response(completions.completion(asked, found, reported, completion_id, now()))

    async def _stream(
        self, request: web.Request, plan: completions.StreamPlan
    ) -> web.StreamResponse:
        """Send the chunks as SSE, the pieces spaced like a model's tokens; a `cut-stream`
        fault closes the connection a few pieces in, without `[DONE]`."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        cut_at = None
        if self.faults.take("cut-stream") is not None:
            cut_at = min(CUT_AFTER_CHUNKS, len(plan.body) // 2)
        try:
            for payload in plan.head:
                await response.write(sse.event(payload))
            for index, payload in enumerate(plan.body):
                if index == cut_at:
                    if request.transport is not None:
                        request.transport.abort()
                    return response
                await asyncio.sleep(STREAM_CHUNK_SECONDS / self.speed)
                await response.write(sse.event(payload))
            for payload in plan.tail:
                await response.write(sse.event(payload))
            await response.write(sse.DONE)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client stopped reading (closed the stream early): nothing left to do
        return response


def page(
    items: list[dict[str, Any]],
    request: web.Request,
    *,
    default: int,
    maximum: int,
    with_ids: bool = False,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    return cursor_page(
        items,
        after=request.query.get("after"),
        limit=limit(request, default, maximum),
        with_ids=with_ids,
        keep=keep,
    )
