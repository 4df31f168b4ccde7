"""Fine-tuning jobs through the openai SDK: upload (dedupe), create, follow, checkpoints, results.

Shared by the TUI (from workers) and `tunebench jobs ...`; never imports textual.

- Uploads are keyed by (profile, sha256 of the bytes) in the local `Store`, and reused while the
  remote file still exists.
- Creation is never retried blindly: every attempt carries a fresh `tunebench_launch` id in the
  job's metadata; after a timeout, a dropped connection or a 5xx we look for a job with that id
  before saying it is safe to create again.
- Events are listed newest-first by the API, and `after` pages into *older* events. The
  follower reads from the newest event back to the last one it has seen and emits the new ones
  oldest-first, so a retried poll never duplicates or skips an event.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import csv
import functools
import hashlib
import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from tui.api.file_import import ImportFailed, wait_until_processed
from tui.api.job_info import (
    CheckpointInfo,
    JobInfo,
    int_or_none,
    number_or_none,
    text_or_none,
    timestamp,
)
from tui.api.paging import PageWalk
from tui.api.store import JobRecord, Store, Upload
from tui.core.upload_file import UploadFile
from tui.errors import TunebenchError, retry_after_seconds

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types import FileObject
    from openai.types.fine_tuning import FineTuningJob

    from tui.api.preflight import Preflight

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
WAITING = frozenset({"validating_files", "queued", "pending"})  # pending: Azure's word
EVENTS_MAX_LIMIT = 10_000  # the largest page the events endpoint serves
EVENTS_FOLLOW_LIMIT = 100  # a poll usually finds few new events
EVENTS_FALLBACK_LIMIT = 100  # for endpoints that refuse large pages
CHECKPOINTS_LIMIT = 100
MAX_REQUESTS_PER_SECOND = 4.0  # per followed job, whatever the poll interval says
LOOKUP_WAITS = (1.0, 2.0, 0.0)  # between searches for a job whose create call failed
META_SHA = "tunebench_sha256"
META_FILE = "tunebench_file"
META_LAUNCH = "tunebench_launch"
META_HP = "tunebench_hp"
METRIC_KEYS = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)

Sleep = Callable[[float], Awaitable[None]]
Notify = Callable[[str], None]


class CreateNotConfirmed(TunebenchError):
    """Creation failed ambiguously and no job with this launch id was found: safe to retry."""

    exit_code = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _openai() -> Any:
    import openai

    return openai


def is_transient(exc: BaseException) -> bool:
    """Errors worth waiting out: network, timeout, 429, 5xx."""
    openai = _openai()
    if isinstance(exc, (openai.APIConnectionError, openai.RateLimitError)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def backoff_seconds(failures: int, exc: BaseException, *, base: float, cap: float) -> float:
    """The server's retry-after when it gives one, else exponential with jitter."""
    hinted = retry_after_seconds(exc)
    if hinted is not None:
        return min(hinted, cap)
    return min(cap, base * 2 ** (failures - 1)) * random.uniform(0.75, 1.0)


# --- upload -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    file_id: str
    sha256: str
    reused: bool
    status: str | None = None  # as last seen: Azure imports a file (pending, running) first
    status_details: str | None = None


UPLOAD_IN_PARTS_FROM = 32 * 1024 * 1024
"""Files this large go through the Uploads API (parts, then complete) where the server has it."""
PART_SIZE = 8 * 1024 * 1024  # the API takes parts of up to 64 MB
Progress = Callable[[int, int], None]
"""Called with (bytes sent, total bytes) as an upload advances."""


async def upload(
    client: AsyncOpenAI,
    store: Store,
    profile: str,
    data: bytes | UploadFile,
    filename: str,
    *,
    progress: Progress | None = None,
    parts_from: int | None = None,
    part_size: int | None = None,
) -> UploadResult:
    """Upload `data` for fine-tuning unless these bytes already sit on this profile's endpoint.

    `data` is bytes or the pre-flight's temporary upload file, which is streamed from disk
    (never read whole). Large files go in parts through the Uploads API; a server without it
    (404/405) gets the whole file in one request. `parts_from` and `part_size` default to
    the module's UPLOAD_IN_PARTS_FROM and PART_SIZE."""
    openai = _openai()
    if isinstance(data, bytes):
        size, digest = len(data), sha256(data)
        opened: Callable[[], BinaryIO] = functools.partial(io.BytesIO, data)
    else:
        size, digest, opened = data.size, data.sha256, data.open
    known = await store.find_upload(profile, digest)
    if known is not None:
        try:
            remote = await client.files.retrieve(known.file_id)
        except openai.NotFoundError:
            await store.forget_upload(profile, digest)
        else:
            if remote.status != "error" and remote.bytes == size:
                return UploadResult(known.file_id, digest, True, remote.status)
            await store.forget_upload(profile, digest)
    uploaded = None
    with opened() as stream:
        if size >= (parts_from if parts_from is not None else UPLOAD_IN_PARTS_FROM):
            part = part_size if part_size is not None else PART_SIZE
            uploaded = await _upload_in_parts(client, stream, size, filename, part, progress)
        if uploaded is None:
            stream.seek(0)
            # A file object is streamed by httpx in blocks (a path would be read whole).
            uploaded = await client.files.create(file=(filename, stream), purpose="fine-tune")
            if progress is not None:
                progress(size, size)
    await store.save_upload(Upload(profile, digest, uploaded.id, filename, size))
    return UploadResult(uploaded.id, digest, False, uploaded.status, uploaded.status_details)


async def _upload_in_parts(
    client: AsyncOpenAI,
    stream: BinaryIO,
    size: int,
    filename: str,
    part_size: int,
    progress: Progress | None,
) -> FileObject | None:
    """The file, or None when the server has no Uploads API. A part that fails cancels
    the upload (so nothing half-made is left) and raises. One part is in memory at a time."""
    openai = _openai()
    try:
        started = await client.uploads.create(
            bytes=size, filename=filename, mime_type="application/jsonl", purpose="fine-tune"
        )
    except openai.APIStatusError as exc:
        if exc.status_code in (404, 405):
            return None
        raise
    part_ids: list[str] = []
    md5 = hashlib.md5(usedforsecurity=False)
    sent = 0
    try:
        while chunk := stream.read(part_size):
            md5.update(chunk)
            part = await client.uploads.parts.create(started.id, data=chunk)
            part_ids.append(part.id)
            sent += len(chunk)
            if progress is not None:
                progress(sent, size)
        done = await client.uploads.complete(started.id, part_ids=part_ids, md5=md5.hexdigest())
    except BaseException:
        with contextlib.suppress(Exception):
            await client.uploads.cancel(started.id)
        raise
    if done.file is None:
        raise TunebenchError(f"the upload {started.id} completed without a file")
    return done.file


async def launch(
    client: AsyncOpenAI,
    store: Store,
    profile: str,
    check: Preflight,
    spec: LaunchSpec,
    notify: Notify,
    progress: Progress | None = None,
    poll_interval: float = 1.0,
) -> tuple[UploadResult, FineTuningJob]:
    """Upload the checked training file (and validation file) unless already there, wait
    until the service has imported them (Azure), then create the job once: the launch form
    and `jobs create` both go through here."""
    training = await upload(
        client, store, profile, check.training, check.upload_name, progress=progress
    )
    notify(f"{'reusing' if training.reused else 'uploaded'} {training.file_id}")
    await _imported(client, store, profile, training, check.upload_name, notify, poll_interval)
    validation_id = None
    if check.validation is not None:
        name = check.validation_name or "validation.jsonl"
        validation = await upload(client, store, profile, check.validation, name)
        await _imported(client, store, profile, validation, name, notify, poll_interval)
        validation_id = validation.file_id
    notify(f"{training.file_id} is ready; creating the job…")
    job = await create_job(
        client,
        store,
        profile,
        spec,
        training=training,
        validation_file=validation_id,
        notify=notify,
    )
    return training, job


async def _imported(
    client: AsyncOpenAI,
    store: Store,
    profile: str,
    uploaded: UploadResult,
    filename: str,
    notify: Notify,
    interval: float,
) -> None:
    """Wait for the service's import of an upload; a refused file is forgotten, so the next
    launch uploads it again."""
    try:
        await wait_until_processed(
            client,
            uploaded.file_id,
            uploaded.status,
            uploaded.status_details,
            filename=filename,
            notify=notify,
            interval=interval,
        )
    except ImportFailed:
        await store.forget_upload(profile, uploaded.sha256)
        raise


# --- create -------------------------------------------------------------------------------


@dataclass
class LaunchSpec:
    """What the user chose in the launch form (or on the command line)."""

    model: str
    method: str = "supervised"  # or "dpo"
    n_epochs: int | str = "auto"
    batch_size: int | str = "auto"
    learning_rate_multiplier: float | str = "auto"
    beta: float | str = "auto"  # DPO only
    suffix: str | None = None
    seed: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    training_type: str | None = None  # Azure only: standard, globalstandard or developer

    def hyperparameters(self) -> dict[str, Any]:
        hp: dict[str, Any] = {
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": self.learning_rate_multiplier,
        }
        if self.method == "dpo":
            hp["beta"] = self.beta
        return hp


def job_metadata(spec: LaunchSpec, digest: str, file_id: str, launch_id: str) -> dict[str, str]:
    """The user's metadata plus the dataset -> file -> hyperparameters link (values ≤ 512)."""
    hp = json.dumps(spec.hyperparameters(), separators=(",", ":"), sort_keys=True)
    return {
        **spec.metadata,
        META_SHA: digest,
        META_FILE: file_id,
        META_LAUNCH: launch_id,
        META_HP: hp[:512],
    }


async def find_job_by_metadata(client: AsyncOpenAI, key: str, value: str) -> FineTuningJob | None:
    page = await client.fine_tuning.jobs.list(limit=10, metadata={key: value})
    for job in page.data:
        if (job.metadata or {}).get(key) == value:
            return job
    return None


async def create_job(
    client: AsyncOpenAI,
    store: Store,
    profile: str,
    spec: LaunchSpec,
    *,
    training: UploadResult,
    validation_file: str | None = None,
    notify: Notify | None = None,
    sleep: Sleep = asyncio.sleep,
    rate_limit_attempts: int = 3,
) -> FineTuningJob:
    """Create the job once. A 429 (nothing was created) is waited out as the server says; a
    timeout, dropped connection or 5xx is followed by a search for this launch's job."""
    openai = _openai()
    launch_id = uuid.uuid4().hex
    metadata = job_metadata(spec, training.sha256, training.file_id, launch_id)
    once = client.with_options(max_retries=0)
    method: dict[str, Any] = {
        "type": spec.method,
        spec.method: {"hyperparameters": spec.hyperparameters()},
    }
    kwargs: dict[str, Any] = {
        "model": spec.model,
        "training_file": training.file_id,
        "metadata": metadata,
        "method": method,
    }
    if validation_file:
        kwargs["validation_file"] = validation_file
    if spec.suffix:
        kwargs["suffix"] = spec.suffix
    if spec.seed is not None:
        kwargs["seed"] = spec.seed
    if spec.training_type:
        kwargs["extra_body"] = {"trainingType": spec.training_type}
    attempt = 0
    while True:
        attempt += 1
        try:
            job = await once.fine_tuning.jobs.create(**kwargs)
            break
        except openai.RateLimitError as exc:
            if attempt >= rate_limit_attempts:
                raise
            wait = backoff_seconds(attempt, exc, base=1.0, cap=60.0)
            if notify:
                notify(f"rate limited (429); waiting {wait:.0f} s as the API asks")
            await sleep(wait)
        except (openai.APIConnectionError, openai.InternalServerError) as exc:
            if notify:
                notify("the create request failed; checking whether the job exists")
            found = await _look_for_launch(client, launch_id, sleep)
            if found is None:
                from tui.errors import describe

                raise CreateNotConfirmed(
                    f"{describe(exc)}; no job from this launch exists, so it is safe to "
                    "create it again"
                ) from exc
            job = found
            break
    await store.save_job(
        JobRecord(
            profile, job.id, training.sha256, training.file_id, spec.model, spec.hyperparameters()
        )
    )
    return job


async def _look_for_launch(client: AsyncOpenAI, launch_id: str, sleep: Sleep) -> Any:
    """Search a few times: a timed-out request may still land, and the lookup itself may hit
    the same outage."""
    failures = 0
    for attempt, wait in enumerate(LOOKUP_WAITS):
        try:
            found = await find_job_by_metadata(client, META_LAUNCH, launch_id)
        except Exception as exc:
            failures += 1
            if not is_transient(exc) or failures >= 5:
                raise
            await sleep(backoff_seconds(failures, exc, base=0.5, cap=8.0))
            continue
        if found is not None or attempt == len(LOOKUP_WAITS) - 1:
            return found
        await sleep(wait)
    return None


# --- events, metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    created_at: int
    level: str
    message: str
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class MetricPoint:
    step: int
    values: dict[str, float]  # METRIC_KEYS present in the event


def to_event(raw: Any) -> Event:
    """An event as the app shows it; unknown levels and types are kept, odd values defaulted."""
    data = getattr(raw, "data", None)
    return Event(
        str(raw.id),
        timestamp(getattr(raw, "created_at", None)) or 0,
        text_or_none(getattr(raw, "level", None)) or "info",
        str(getattr(raw, "message", None) or ""),
        text_or_none(getattr(raw, "type", None)) or "message",
        data if isinstance(data, dict) else {},
    )


def metric_point(event: Event) -> MetricPoint | None:
    step = int_or_none(event.data.get("step"))
    if event.type != "metrics" or step is None:
        return None
    numbers = {k: number_or_none(event.data.get(k)) for k in METRIC_KEYS}
    values = {k: v for k, v in numbers.items() if v is not None}
    return MetricPoint(step, values)


def _ids(items: list[Any]) -> list[str]:
    return [str(getattr(item, "id", None)) for item in items]


class EventFollower:
    """New events of one job, oldest first, each exactly once."""

    def __init__(self, client: AsyncOpenAI, job_id: str) -> None:
        self.client = client
        self.job_id = job_id
        self.newest_id: str | None = None
        self.seen: set[str] = set()
        self.limit_max = EVENTS_MAX_LIMIT
        self.requests = 0
        self.stopped: str | None = None
        """Why the last fetch stopped paging early (a misbehaving server), else None."""

    async def _page(self, after: str | None, limit: int) -> Any:
        openai = _openai()
        kwargs: dict[str, Any] = {"limit": min(limit, self.limit_max)}
        if after is not None:
            kwargs["after"] = after
        self.requests += 1
        try:
            return await self.client.fine_tuning.jobs.list_events(self.job_id, **kwargs)
        except openai.BadRequestError:
            if self.limit_max <= EVENTS_FALLBACK_LIMIT:
                raise
            self.limit_max = EVENTS_FALLBACK_LIMIT
            kwargs["limit"] = EVENTS_FALLBACK_LIMIT
            self.requests += 1
            return await self.client.fine_tuning.jobs.list_events(self.job_id, **kwargs)

    async def fetch_new(self) -> list[Event]:
        """Page from the newest event back to the last one seen; state changes only on success.

        Paging is bounded: a server that keeps saying `has_more` with an empty page, repeated
        events or too many pages is left alone, and `stopped` says why."""
        limit = EVENTS_MAX_LIMIT if self.newest_id is None else EVENTS_FOLLOW_LIMIT
        collected: list[Any] = []
        taken: set[str] = set()
        walk = PageWalk("events")
        after: str | None = None
        while True:
            page = await self._page(after, limit)
            data = list(page.data or [])
            reached = False
            for raw in data:
                if raw.id == self.newest_id:
                    reached = True
                    break
                if raw.id not in taken:
                    taken.add(raw.id)
                    collected.append(raw)
            after = walk.next_cursor(_ids(data), bool(page.has_more) and not reached)
            if after is None:
                break
            limit = EVENTS_MAX_LIMIT
        self.stopped = walk.stopped
        if collected:
            self.newest_id = collected[0].id
        fresh = [to_event(raw) for raw in reversed(collected) if raw.id not in self.seen]
        self.seen.update(event.id for event in fresh)
        return fresh


@dataclass
class WatchUpdate:
    """One poll's outcome: the job and its new events, or a reconnecting notice."""

    job: JobInfo | None
    events: list[Event]
    reconnecting: str | None = None
    notice: str | None = None
    """Something the server did that the app worked around (endless paging), once per poll."""


def poll_wait(interval: float, requests: int) -> float:
    """Seconds until the next poll: the interval, stretched so that a job's polls never make
    more than MAX_REQUESTS_PER_SECOND requests a second (a poll is 2+ requests)."""
    return max(interval, requests / MAX_REQUESTS_PER_SECOND)


async def watch(
    client: AsyncOpenAI,
    job_id: str,
    *,
    interval: float = 2.0,
    slow_interval: float | None = None,
    max_backoff: float = 30.0,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[WatchUpdate]:
    """Poll a job until it ends: fast while running, slower while validating or queued, with
    a visible backoff on errors. Pass a client with `max_retries=0` to see every failure.

    Requests are bounded: each poll pages at most `paging.MAX_PAGES` pages, polls keep under
    MAX_REQUESTS_PER_SECOND, and a poll whose paging had to be stopped backs off like an
    error until the server behaves."""
    from tui.errors import describe

    slow = slow_interval if slow_interval is not None else interval * 2.5
    follower = EventFollower(client, job_id)
    failures = 0
    odd_polls = 0
    while True:
        follower.requests = 1
        try:
            job = JobInfo.of(await client.fine_tuning.jobs.retrieve(job_id))
            events = await follower.fetch_new()
        except Exception as exc:
            if not is_transient(exc):
                raise
            failures += 1
            wait = backoff_seconds(failures, exc, base=min(interval, 1.0), cap=max_backoff)
            yield WatchUpdate(None, [], f"reconnecting in {wait:.1f} s: {describe(exc)}")
            await sleep(wait)
            continue
        failures = 0
        odd_polls = odd_polls + 1 if follower.stopped else 0
        yield WatchUpdate(job, events, notice=follower.stopped)
        if job.status in TERMINAL:
            return
        wait = poll_wait(slow if job.status in WAITING else interval, follower.requests)
        if odd_polls:
            wait = max(wait, min(max_backoff, interval * 2**odd_polls))
        await sleep(wait)


# --- jobs, checkpoints, results ---------------------------------------------------------------


@dataclass
class JobPage:
    jobs: list[JobInfo]
    has_more: bool
    """More jobs can be asked for: the server said so on a page that had jobs."""
    last_id: str | None
    claimed_more: bool = False
    """What the server's `has_more` said, even on an empty page."""


async def list_jobs(client: AsyncOpenAI, *, after: str | None = None, limit: int = 20) -> JobPage:
    """One page of jobs, newest first. `has_more` is only trusted when the page has jobs."""
    kwargs: dict[str, Any] = {"limit": limit}
    if after:
        kwargs["after"] = after
    page = await client.fine_tuning.jobs.list(**kwargs)
    jobs = [JobInfo.of(raw) for raw in page.data or []]
    claimed = bool(page.has_more)
    return JobPage(jobs, claimed and bool(jobs), jobs[-1].id if jobs else None, claimed)


@dataclass
class Checkpoints:
    """A job's checkpoints, oldest step first, and why paging stopped early if it did."""

    items: list[CheckpointInfo]
    stopped: str | None = None


async def list_checkpoints(client: AsyncOpenAI, job_id: str) -> Checkpoints:
    """All checkpoints (bounded paging), oldest step first."""
    out: list[Any] = []
    walk = PageWalk("checkpoints")
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": CHECKPOINTS_LIMIT}
        if after:
            kwargs["after"] = after
        page = await client.fine_tuning.jobs.checkpoints.list(job_id, **kwargs)
        data = list(page.data or [])
        out.extend(raw for raw in data if str(getattr(raw, "id", None)) not in walk.seen)
        after = walk.next_cursor(_ids(data), bool(page.has_more))
        if after is None:
            break
    items = [CheckpointInfo.of(raw) for raw in out]
    items.sort(key=lambda c: c.step if c.step is not None else -1)
    return Checkpoints(items, walk.stopped)


async def control(client: AsyncOpenAI, job_id: str, action: str) -> JobInfo:
    """`cancel`, `pause` or `resume` a job."""
    jobs = client.fine_tuning.jobs
    call = {"cancel": jobs.cancel, "pause": jobs.pause, "resume": jobs.resume}[action]
    return JobInfo.of(await call(job_id))


CANCEL_WAITS = (0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0)
"""Between checks while a cancel takes effect: about a minute in all."""


async def cancel_and_wait(
    client: AsyncOpenAI,
    job_id: str,
    *,
    waits: tuple[float, ...] = CANCEL_WAITS,
    sleep: Sleep = asyncio.sleep,
    notify: Notify | None = None,
) -> JobInfo:
    """Ask to cancel, then check (with growing gaps, a bounded number of times) until the job
    has ended; the job as last seen, whatever its status."""
    job = await control(client, job_id, "cancel")
    for wait in waits:
        if job.status in TERMINAL:
            break
        if notify:
            notify(f"{job.id}: {job.status}; checking again in {wait:g} s")
        await sleep(wait)
        job = JobInfo.of(await client.fine_tuning.jobs.retrieve(job_id))
    return job


def parse_results(content: bytes) -> list[dict[str, str]]:
    """The results CSV as rows keyed by header, whether served plain or base64-encoded."""
    text = _results_text(content)
    reader = csv.DictReader(io.StringIO(text))
    return [dict(row) for row in reader]


def _results_text(content: bytes) -> str:
    stripped = content.strip()
    text = stripped.decode("utf-8", errors="replace")
    if "," in text.split("\n", 1)[0]:  # a CSV header; base64 has no commas
        return text
    try:
        return base64.b64decode(b"".join(stripped.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TunebenchError("the results file is neither CSV nor base64-encoded CSV") from None


async def fetch_results(client: AsyncOpenAI, job: JobInfo) -> list[dict[str, str]]:
    if not job.result_files:
        return []
    response = await client.files.content(job.result_files[0])
    return parse_results(response.content)


def failure_text(job: JobInfo) -> str:
    """Why a job ended without success, in plain words."""
    if job.status == "cancelled":
        return f"job {job.id} was cancelled"
    code, message = job.error_code, job.error_message
    if code or message:
        return f"job {job.id} failed: {code or 'error'}: {message or 'no message'}"
    return (
        f"job {job.id} failed; the API gave no reason (live jobs may carry an empty error "
        "object; the events list may say more)"
    )
