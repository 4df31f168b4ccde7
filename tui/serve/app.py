"""The routes of `serve`: files, fine-tuning jobs, models and chat completions, shaped like
OpenAI's (the HTTP layer, errors, SSE, cursor pages and job requests are the emulator's)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from tui.emulator import sse
from tui.emulator.app import page
from tui.emulator.errors import ApiError, invalid, missing, model_not_found, not_found
from tui.emulator.http import Handler, openai_app
from tui.emulator.jobs import MAX_SEED, check_int, checked_metadata, job_method
from tui.emulator.runner import resolve_hyperparameters
from tui.emulator.wire import json_body, json_response
from tui.serve.bases import BaseModel
from tui.serve.generate import Choice, Engine, Sampling
from tui.serve.preflight import MAX_LINES, PATH, estimated_seconds
from tui.serve.runner import JobRunner
from tui.serve.store import ORG, Store, new_id, now

MAX_N = 8
log = logging.getLogger(__name__)
FINISHED = ("succeeded", "failed", "cancelled")
_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)


class ServeApp:
    def __init__(
        self,
        store: Store,
        bases: dict[str, BaseModel],
        runner: JobRunner,
        engine: Engine,
        api_key: str | None,
    ) -> None:
        self.store = store
        self.bases = bases
        self.runner = runner
        self.engine = engine
        self.api_key = api_key

    def build(self) -> web.Application:
        app = openai_app(self, [self._auth], "serve")
        app.router.add_post(PATH, self.preflight)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.api_key is not None:
            scheme, _, key = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise ApiError(401, _NO_KEY)
            if not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
                raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")
        return await handler(request)

    # -- files ---------------------------------------------------------------------------------

    async def create_file(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            raise ApiError(400, "Expected a multipart/form-data request.", param="file")
        form = await request.post()
        purpose, upload = form.get("purpose"), form.get("file")
        if not isinstance(purpose, str) or not purpose:
            raise missing("purpose")
        if purpose != "fine-tune":
            raise invalid("purpose", f"this server takes 'fine-tune' files only, not {purpose!r}.")
        if not isinstance(upload, web.FileField):
            raise missing("file")
        name = upload.filename or "upload.jsonl"
        if not name.endswith(".jsonl"):
            raise invalid(
                "file", f"expected a .jsonl file, but got {name!r}.", "invalid_file_format"
            )
        content = upload.file.read()
        return json_response(self.store.add_file(name, purpose, content))

    async def list_files(self, request: web.Request) -> web.Response:
        order = request.query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid("order", f"expected 'asc' or 'desc', but got {order!r} instead.")
        files = self.store.files()
        if order == "desc":
            files.reverse()
        purpose = request.query.get("purpose")
        keep = (lambda f: f["purpose"] == purpose) if purpose else None
        return json_response(
            page(files, request, default=10_000, maximum=10_000, with_ids=True, keep=keep)
        )

    def _file(self, request: web.Request) -> dict[str, Any]:
        file_id = request.match_info["file_id"]
        meta = self.store.file(file_id)
        if meta is None:
            raise not_found("file", file_id, param="file_id")
        return meta

    async def retrieve_file(self, request: web.Request) -> web.Response:
        return json_response(self._file(request))

    async def delete_file(self, request: web.Request) -> web.Response:
        meta = self._file(request)
        self.store.delete_file(meta["id"])
        return json_response({"id": meta["id"], "object": "file", "deleted": True})

    async def file_content(self, request: web.Request) -> web.Response:
        meta = self._file(request)
        body = self.store.file_path(meta["id"]).read_bytes()
        return web.Response(body=body, content_type="application/octet-stream")

    # -- fine-tuning jobs ---------------------------------------------------------------------

    def _training_base(self, model: object) -> str:
        if not isinstance(model, str) or not model:
            raise missing("model")
        tuned = self.store.model(model)
        base = tuned[1] if tuned is not None else model
        if base not in self.bases:
            raise ApiError(
                400,
                f"Model {model} is not available for fine-tuning on this server; it serves: "
                + ", ".join(self.bases),
                param="model",
                code="model_not_available",
            )
        return base

    def _job_file(self, body: dict[str, Any], param: str) -> str | None:
        file_id = body.get(param)
        if file_id is None:
            return None
        meta = self.store.file(file_id) if isinstance(file_id, str) else None
        if meta is None or meta["purpose"] != "fine-tune":
            raise ApiError(400, f"invalid {param}: {file_id}", param=param)
        return str(file_id)

    async def create_job(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if "training_file" not in body:
            raise missing("training_file")
        base = self._training_base(body.get("model"))
        training_file = self._job_file(body, "training_file")
        validation_file = self._job_file(body, "validation_file")
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
            raise invalid("suffix", "expected a string of 1 to 64 characters.")
        seed = body.get("seed")
        if seed is None:
            seed = int(uuid.uuid4().int % MAX_SEED)
        else:
            check_int(seed, "seed", 0, MAX_SEED)
        method = job_method(body)
        data: dict[str, Any] = {
            "object": "fine_tuning.job",
            "id": new_id("ftjob-"),
            "model": base,
            "created_at": now(),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": ORG,
            "result_files": [],
            "status": "validating_files",
            "validation_file": validation_file,
            "training_file": training_file,
            "hyperparameters": {
                k: v for k, v in method[method["type"]]["hyperparameters"].items() if k != "beta"
            },
            "trained_tokens": None,
            "error": None,
            "user_provided_suffix": suffix,
            "seed": seed,
            "estimated_finish": None,
            "integrations": [],
            "metadata": checked_metadata(body.get("metadata")),
            "method": method,
        }
        self.store.add_job(data)
        self.store.add_event(data["id"], f"Created fine-tuning job: {data['id']}")
        self.runner.start(data["id"])
        return json_response(data)

    async def list_jobs(self, request: web.Request) -> web.Response:
        return json_response(page(self.store.jobs(), request, default=20, maximum=100))

    def _job(self, request: web.Request) -> dict[str, Any]:
        job_id = request.match_info["job_id"]
        data = self.store.job(job_id)
        if data is None:
            raise ApiError(
                404, f"Could not find fine tune job: {job_id}", param="job_id", code="not_found"
            )
        return data

    async def retrieve_job(self, request: web.Request) -> web.Response:
        return json_response(self._job(request))

    def _refuse(self, data: dict[str, Any], action: str) -> ApiError:
        return ApiError(
            400,
            f"Cannot {action} job {data['id']}: its status is {data['status']}.",
            param="fine_tuning_job_id",
            code="invalid_job_status",
        )

    async def cancel_job(self, request: web.Request) -> web.Response:
        data = self._job(request)
        if data["status"] in FINISHED:
            raise self._refuse(data, "cancel")
        data = self.runner.update(data["id"], status="cancelled", estimated_finish=None)
        self.store.add_event(data["id"], "Fine-tuning job cancelled")
        await self.runner.cancel(data["id"])
        return json_response(data)

    async def pause_job(self, request: web.Request) -> web.Response:
        data = self._job(request)
        if data["status"] != "running":
            raise self._refuse(data, "pause")
        self.runner.pause(data["id"])
        data = self.runner.update(data["id"], status="pausing")
        self.store.add_event(data["id"], "Pausing fine-tuning job: saving a checkpoint")
        return json_response(data)

    async def resume_job(self, request: web.Request) -> web.Response:
        data = self._job(request)
        if data["status"] != "paused":
            raise self._refuse(data, "resume")
        data = self.runner.update(data["id"], status="queued")
        self.store.add_event(data["id"], "Resuming fine-tuning job")
        self.runner.start(data["id"], resume=True)
        return json_response(data)

    async def list_events(self, request: web.Request) -> web.Response:
        job = self._job(request)
        return json_response(
            page(self.store.events(job["id"]), request, default=20, maximum=10_000)
        )

    async def list_checkpoints(self, request: web.Request) -> web.Response:
        job = self._job(request)
        checkpoints = self.store.checkpoints(job["id"])
        return json_response(page(checkpoints, request, default=10, maximum=10_000, with_ids=True))

    async def preflight(self, request: web.Request) -> web.Response:
        """The extension route: a file's lines counted with the model's own tokenizer (see
        tui.serve.preflight for the request and response)."""
        body = await json_body(request)
        base = self.bases[self._training_base(body.get("model"))]
        method = body.get("method", "supervised")
        if method not in ("supervised", "dpo"):
            raise invalid("method", f"expected 'supervised' or 'dpo', but got {method!r}.")
        lines = body.get("lines")
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise invalid("lines", "expected a list of JSONL lines (strings).", "invalid_type")
        if len(lines) > MAX_LINES:
            raise invalid("lines", f"expected at most {MAX_LINES:,} lines, got {len(lines):,}.")
        epochs = body.get("n_epochs", "auto")
        check_int(epochs, "n_epochs", 1, 50)
        content = "\n".join(lines).encode()
        try:
            count = await asyncio.to_thread(
                self.runner.counter.count, base, content, dpo=method == "dpo"
            )
        except ValueError as exc:
            raise invalid("lines", str(exc)) from None
        n_epochs = int(resolve_hyperparameters({"n_epochs": epochs}, len(count.tokens))["n_epochs"])
        total = sum(count.tokens)
        speed = self.store.speed(base.id)
        return json_response(
            {
                "object": "tunebench.preflight",
                "model": body["model"],
                "base_model": base.id,
                "tokens": count.tokens,
                "total_tokens": total,
                "longest": max(count.tokens, default=0),
                "context_length": count.context_length,
                "max_length": count.max_length,
                "too_long": count.too_long,
                "n_epochs": n_epochs,
                "tokens_per_second": speed,
                "estimated_seconds": estimated_seconds(total, n_epochs, speed),
            }
        )

    # -- models -------------------------------------------------------------------------------

    async def list_models(self, request: web.Request) -> web.Response:
        models = [base.meta() for base in self.bases.values()] + self.store.models()
        return json_response({"object": "list", "data": models, "has_more": False})

    async def retrieve_model(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if model in self.bases:
            return json_response(self.bases[model].meta())
        tuned = self.store.model(model)
        if tuned is None:
            raise model_not_found(model)
        return json_response(tuned[0])

    async def delete_model(self, request: web.Request) -> web.Response:
        model = request.match_info["model"]
        if self.store.model(model) is None:
            if model in self.bases:
                raise ApiError(
                    403,
                    f"You have insufficient permissions for this operation: {model} is a base "
                    "model this server was started with.",
                    code="insufficient_permissions",
                )
            raise model_not_found(model)
        self.store.delete_model(model)
        self.engine.forget(model)
        return json_response({"id": model, "object": "model", "deleted": True})

    # -- chat ---------------------------------------------------------------------------------

    def _resolve(self, model: str) -> tuple[str, Path | None]:
        """(base source, adapter dir or None)."""
        if model in self.bases:
            return self.bases[model].source, None
        tuned = self.store.model(model)
        if tuned is None or tuned[1] not in self.bases:
            raise model_not_found(model)
        return self.bases[tuned[1]].source, tuned[2]

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise missing("model")
        messages = _messages(body.get("messages"))
        sampling, n = _sampling(body)
        source, adapter = self._resolve(model)
        loaded = await asyncio.to_thread(self._load, model, source, adapter)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        if body.get("stream"):
            options = body.get("stream_options") or {}
            usage = bool(isinstance(options, dict) and options.get("include_usage"))
            return await self._stream(
                request, completion_id, model, loaded, messages, sampling, n, usage
            )
        choices = await asyncio.to_thread(self._complete, loaded, messages, sampling, n)
        prompt = self.engine.prompt_tokens(loaded[1], messages)
        completion = sum(c.completion_tokens for c in choices)
        return json_response(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": now(),
                "model": model,
                "choices": [
                    {
                        "index": i,
                        "message": {
                            "role": "assistant",
                            "content": c.text,
                            "refusal": None,
                            "annotations": [],
                        },
                        "logprobs": None,
                        "finish_reason": c.finish_reason,
                    }
                    for i, c in enumerate(choices)
                ],
                "usage": _usage(prompt, completion),
                "system_fingerprint": "fp_tunebench_serve",
            }
        )

    def _load(self, model: str, source: str, adapter: Path | None) -> tuple[Any, Any]:
        with self.engine.lock:
            return self.engine.load(model, source, adapter)

    def _complete(
        self, loaded: tuple[Any, Any], messages: list[dict[str, str]], sampling: Sampling, n: int
    ) -> list[Choice]:
        with self.engine.lock:
            return [self.engine.complete(*loaded, messages, _nth(sampling, i)) for i in range(n)]

    async def _stream(
        self,
        request: web.Request,
        completion_id: str,
        model: str,
        loaded: tuple[Any, Any],
        messages: list[dict[str, str]],
        sampling: Sampling,
        n: int,
        include_usage: bool,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        created = now()
        completion = 0

        def chunk(index: int, delta: dict[str, Any] | None, reason: str | None = None) -> bytes:
            body = sse.chunk(
                completion_id,
                created,
                model,
                delta,
                finish_reason=reason,
                usage=None
                if delta is not None
                else _usage(self.engine.prompt_tokens(loaded[1], messages), completion),
                include_usage=include_usage,
            )
            for choice in body["choices"]:
                choice["index"] = index
            body["system_fingerprint"] = "fp_tunebench_serve"
            return sse.event(body)

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[int, str | Choice | BaseException | None]] = asyncio.Queue()

        def produce() -> None:
            try:
                with self.engine.lock:
                    for i in range(n):
                        items: Iterator[str | Choice] = self.engine.stream(
                            *loaded, messages, _nth(sampling, i)
                        )
                        for item in items:
                            loop.call_soon_threadsafe(queue.put_nowait, (i, item))
            except BaseException as exc:
                loop.call_soon_threadsafe(queue.put_nowait, (0, exc))
            loop.call_soon_threadsafe(queue.put_nowait, (0, None))

        worker = loop.run_in_executor(None, produce)
        try:
            for i in range(n):
                await response.write(
                    chunk(i, {"role": "assistant", "content": "", "refusal": None})
                )
                while True:
                    index, item = await queue.get()
                    if item is None or isinstance(item, BaseException):
                        if isinstance(item, BaseException):
                            log.error("serve: generation failed: %s", item)
                        return response
                    if isinstance(item, Choice):
                        completion += item.completion_tokens
                        await response.write(chunk(index, {}, item.finish_reason))
                        break
                    await response.write(chunk(index, {"content": item}))
            if include_usage:
                await response.write(chunk(0, None))
            await response.write(sse.DONE)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client stopped reading; generation ends within max_tokens
        finally:
            await worker
        return response


def _nth(sampling: Sampling, index: int) -> Sampling:
    """Only the first choice reseeds, so `n` choices differ yet repeat with the same seed."""
    if index == 0:
        return sampling
    return Sampling(sampling.max_tokens, sampling.temperature, sampling.top_p, None, sampling.stop)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _messages(raw: object) -> list[dict[str, str]]:
    from tui.core.formats import content_text

    if not isinstance(raw, list) or not raw:
        raise missing("messages")
    out = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise invalid(f"messages[{i}]", "expected an object with a 'role'.", "invalid_type")
        role = "system" if message["role"] == "developer" else message["role"]
        out.append({"role": role, "content": content_text(message.get("content"))})
    return out


def _number(body: dict[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise invalid(key, f"expected a number from {lo} to {hi}, but got {value!r}.")
    return float(value)


def _sampling(body: dict[str, Any]) -> tuple[Sampling, int]:
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise invalid("max_tokens", "expected a positive integer.")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise invalid("seed", "expected an integer.", "invalid_type")
    stop = body.get("stop")
    stops: tuple[str, ...]
    if stop is None:
        stops = ()
    elif isinstance(stop, str):
        stops = (stop,)
    elif isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        stops = tuple(stop)
    else:
        raise invalid("stop", "expected a string or a list of up to 4 strings.")
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise invalid("n", f"expected an integer from 1 to {MAX_N}.")
    sampling = Sampling(
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_number(body, "top_p", 1.0, 0.0, 1.0),
        seed=seed,
        stop=stops,
    )
    return sampling, n
