"""Streaming chat through the openai SDK: one reply, compare, and the model list.

A reply streams with `stream_options={"include_usage": True}`; every text delta goes to
`on_delta` as it arrives (the caller buffers and renders on a timer). Cancelling the task
that runs `stream_chat` leaves the `async with` block, which closes the HTTP response and
so cancels the request. A stream that breaks mid-reply does not raise: the text that
arrived comes back marked `cut`, with the error, so it can be kept and retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tui.api.job_info import CheckpointInfo, JobInfo, int_or_none, text_or_none
from tui.core.models import is_checkpoint, is_tuned
from tui.errors import describe, retry_after

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Message = dict[str, Any]
OnDelta = Callable[[str], None]
OnRetry = Callable[[float | None], None]
Clock = Callable[[], float]


def _perf_clock() -> float:
    return time.perf_counter()


CLOCK: Clock = _perf_clock
"""The clock replies are timed with; tests replace it to make timings deterministic."""


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Reply:
    """What one model answered, how fast, and whether it ended properly."""

    model: str
    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    first_token_s: float | None = None
    total_s: float = 0.0
    cut: bool = False
    """The stream broke (or ended without a finish reason) before the reply was complete."""
    error: str | None = None
    """One human line for a cut stream or a failed request."""

    @property
    def ok(self) -> bool:
        return not self.cut and self.error is None


def build_messages(system: str, turns: Sequence[Message]) -> list[Message]:
    """The request's messages: the system prompt (if any) and then the turns."""
    head = [{"role": "system", "content": system}] if system.strip() else []
    return [*head, *({"role": t["role"], "content": t["content"]} for t in turns)]


def request_options(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if temperature is not None:
        options["temperature"] = temperature
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    return options


async def stream_chat(
    client: AsyncOpenAI,
    model: str,
    messages: Sequence[Message],
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    on_delta: OnDelta | None = None,
    clock: Clock | None = None,
) -> Reply:
    """Stream one reply. Errors before the first byte raise; a break mid-stream returns `cut`."""
    import openai

    now = clock or CLOCK
    reply = Reply(model)
    parts: list[str] = []
    started = now()
    # the options are keyword arguments the SDK's overloads cannot see through **
    request = client.chat.completions.with_streaming_response.create(  # type: ignore[call-overload]
        model=model,
        messages=list(messages),
        stream=True,
        stream_options={"include_usage": True},
        **request_options(temperature, max_tokens),
    )

    def take(text: Any) -> None:
        if not isinstance(text, str) or not text:
            return
        if reply.first_token_s is None:
            reply.first_token_s = now() - started
        parts.append(text)
        if on_delta is not None:
            on_delta(text)

    async with request as response:  # an error status (before the first byte) raises here
        try:
            content_type = response.headers.get("content-type", "")
            if "json" in content_type.split(";")[0]:
                # a server that does not stream answers with the whole completion at once
                _take_completion(await response.json(), reply, take)
            else:
                async for chunk in await response.parse():
                    _take_chunk(chunk, reply, take)
        except openai.APIConnectionError:
            reply.cut = True
            reply.error = "the reply was cut off mid-stream: the connection closed before the end"
        except openai.APIError as exc:
            reply.cut = True
            reply.error = f"the reply was cut off mid-stream: {describe(exc)}"
        except ValueError:
            reply.cut = True
            reply.error = "the server's reply was not valid JSON"
        finally:
            reply.text = "".join(parts)
            reply.total_s = now() - started
    if reply.finish_reason is None and not reply.cut:
        reply.cut = True
        reply.error = "the reply ended without a finish reason (stream closed early)"
    return reply


def _usage(raw: Any) -> Usage | None:
    prompt = _field(raw, "prompt_tokens")
    completion = _field(raw, "completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(prompt, completion)
    return None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _take_chunk(chunk: Any, reply: Reply, take: OnDelta) -> None:
    """One streamed chunk: its text, finish reason and (last chunk) usage."""
    usage = _usage(_field(chunk, "usage"))
    if usage is not None:
        reply.usage = usage
    for choice in _field(chunk, "choices") or []:
        if _field(choice, "index") not in (0, None):
            continue  # n > 1: the app shows the first choice
        finish = _field(choice, "finish_reason")
        if finish is not None:
            reply.finish_reason = str(finish)
        take(_field(_field(choice, "delta"), "content"))


def _take_completion(body: Any, reply: Reply, take: OnDelta) -> None:
    """A whole (non-streamed) completion, as some servers answer a streamed request."""
    reply.usage = _usage(_field(body, "usage"))
    choices = _field(body, "choices") or []
    if not isinstance(choices, list) or not choices:
        return
    first = choices[0]
    take(_field(_field(first, "message"), "content"))
    finish = _field(first, "finish_reason")
    reply.finish_reason = str(finish) if finish is not None else "stop"


async def compare(
    client: AsyncOpenAI,
    models: Sequence[str],
    messages: Sequence[Message],
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    on_delta: Callable[[int, str], None] | None = None,
    clock: Clock | None = None,
) -> list[Reply]:
    """The same messages to several models at once; a failed model gives a Reply with error."""

    async def one(index: int, model: str) -> Reply:
        sink = None if on_delta is None else (lambda text: on_delta(index, text))
        try:
            return await stream_chat(
                client,
                model,
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                on_delta=sink,
                clock=clock,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one model failing must not lose the others' replies
            return Reply(model, error=describe(exc))

    return list(await asyncio.gather(*(one(i, m) for i, m in enumerate(models))))


def watch_rate_limits(client: AsyncOpenAI, on_retry: OnRetry) -> AsyncOpenAI:
    """A copy of `client` that calls `on_retry(seconds)` on every 429 the SDK will retry.

    The SDK waits (honouring retry-after) and retries on its own; this only makes the wait
    visible. `seconds` is the server's retry-after, or None when it did not say.
    """
    import openai

    async def hook(response: Any) -> None:
        if response.status_code == 429:
            on_retry(retry_after(response.headers))

    http = openai.DefaultAsyncHttpxClient(event_hooks={"response": [hook]})
    return client.with_options(http_client=http)


# --- the model list -------------------------------------------------------------------------

ModelKind = Literal["deployment", "tuned", "checkpoint", "base"]  # deployment: Azure's
_NOT_CHAT = ("audio", "realtime", "tts", "transcribe", "image", "search", "embedding")


@dataclass(frozen=True)
class ModelChoice:
    id: str
    kind: ModelKind
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.id}  ({self.note})" if self.note else self.id


@dataclass
class ModelList:
    choices: list[ModelChoice] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [c.id for c in self.choices]


def _is_base_chat_model(model_id: str) -> bool:
    return (
        model_id.startswith("gpt-")
        and not is_tuned(model_id)
        and not any(w in model_id for w in _NOT_CHAT)
    )


async def list_models(
    client: AsyncOpenAI, *, extra_base: Sequence[str] = (), max_jobs: int = 20
) -> ModelList:
    """Tuned models (newest first), their checkpoints, then base models.

    Tuned models come from `/models` (`ft:…` or Azure's `….ft-…` ids) and the jobs'
    `fine_tuned_model`; each succeeded job's checkpoints are listed too. Listing jobs may be
    refused (a profile without fine-tuning access): that becomes a warning, the rest still
    shows.
    """
    result = ModelList()
    seen: set[str] = set()

    def add(model_id: str, kind: ModelKind, note: str = "") -> None:
        if model_id and model_id not in seen:
            seen.add(model_id)
            result.choices.append(ModelChoice(model_id, kind, note))

    page = await client.models.list()
    listed = sorted(
        (
            (model_id, int_or_none(_field(m, "created")) or 0)
            for m in page.data or []
            if (model_id := text_or_none(_field(m, "id")))
        ),
        key=lambda m: (-m[1], m[0]),
    )
    ids = [model_id for model_id, _created in listed]
    jobs: list[JobInfo] = []
    try:
        jobs_page = await client.fine_tuning.jobs.list(limit=max_jobs)
        jobs = [JobInfo.of(raw) for raw in jobs_page.data or []]
    except Exception as exc:  # the model list still works without job access
        result.warnings.append(f"jobs not listed: {describe(exc)}")
    tuned_jobs = [job for job in jobs if job.fine_tuned_model]
    for job in tuned_jobs:
        add(job.fine_tuned_model or "", "tuned", f"job {job.id}")
    for model_id in ids:
        if is_tuned(model_id) and not is_checkpoint(model_id):
            add(model_id, "tuned")
    checkpoint_lists = await asyncio.gather(
        *(_checkpoints(client, job.id) for job in tuned_jobs), return_exceptions=True
    )
    for checkpoints in checkpoint_lists:
        if isinstance(checkpoints, BaseException):
            result.warnings.append(f"checkpoints not listed: {describe(checkpoints)}")
            continue
        for ckpt in checkpoints:
            if ckpt.model:
                add(ckpt.model, "checkpoint", f"step {ckpt.step}")
    for model_id in ids:
        if is_checkpoint(model_id):
            add(model_id, "checkpoint")
    base = sorted(model_id for model_id in ids if _is_base_chat_model(model_id))
    for model_id in [*extra_base, *base]:
        add(model_id, "base", "base")
    return result


async def _checkpoints(client: AsyncOpenAI, job_id: str) -> list[CheckpointInfo]:
    page = await client.fine_tuning.jobs.checkpoints.list(job_id, limit=10)
    found = [CheckpointInfo.of(raw) for raw in page.data or []]
    return sorted(found, key=lambda c: -(c.step or 0))
