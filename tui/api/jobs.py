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
import csv
import hashlib
import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.api.store import JobRecord, Store, Upload
from tui.errors import TunebenchError, retry_after_seconds

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.fine_tuning import FineTuningJob

    from tui.api.preflight import Preflight

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
WAITING = frozenset({"validating_files", "queued"})
EVENTS_MAX_LIMIT = 10_000  # the largest page the events endpoint serves
EVENTS_FOLLOW_LIMIT = 100  # a poll usually finds few new events
EVENTS_FALLBACK_LIMIT = 100  # for endpoints that refuse large pages
CHECKPOINTS_LIMIT = 100
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


async def upload(
    client: AsyncOpenAI, store: Store, profile: str, data: bytes, filename: str
) -> UploadResult:
    """Upload `data` for fine-tuning unless these bytes already sit on this profile's endpoint."""
    openai = _openai()
    digest = sha256(data)
    known = await store.find_upload(profile, digest)
    if known is not None:
        try:
            remote = await client.files.retrieve(known.file_id)
        except openai.NotFoundError:
            await store.forget_upload(profile, digest)
        else:
            if remote.status != "error" and remote.bytes == len(data):
                return UploadResult(known.file_id, digest, True)
            await store.forget_upload(profile, digest)
    created = await client.files.create(file=(filename, data), purpose="fine-tune")
    await store.save_upload(Upload(profile, digest, created.id, filename, len(data)))
    return UploadResult(created.id, digest, False)


async def launch(
    client: AsyncOpenAI,
    store: Store,
    profile: str,
    check: Preflight,
    spec: LaunchSpec,
    notify: Notify,
) -> tuple[UploadResult, FineTuningJob]:
    """Upload the checked training file (and validation file) unless already there, then
    create the job once: the launch form and `jobs create` both go through here."""
    training = await upload(client, store, profile, check.training, check.upload_name)
    notify(f"{'reusing' if training.reused else 'uploaded'} {training.file_id}; creating the job…")
    validation_id = None
    if check.validation is not None:
        name = check.validation_name or "validation.jsonl"
        validation_id = (await upload(client, store, profile, check.validation, name)).file_id
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
    data = raw.data if isinstance(raw.data, dict) else {}
    return Event(
        raw.id,
        int(raw.created_at),
        str(raw.level),
        str(raw.message),
        str(getattr(raw, "type", None) or "message"),
        data,
    )


def metric_point(event: Event) -> MetricPoint | None:
    if event.type != "metrics" or "step" not in event.data:
        return None
    values = {k: float(v) for k in METRIC_KEYS if isinstance(v := event.data.get(k), (int, float))}
    return MetricPoint(int(event.data["step"]), values)


class EventFollower:
    """New events of one job, oldest first, each exactly once."""

    def __init__(self, client: AsyncOpenAI, job_id: str) -> None:
        self.client = client
        self.job_id = job_id
        self.newest_id: str | None = None
        self.seen: set[str] = set()
        self.limit_max = EVENTS_MAX_LIMIT

    async def _page(self, after: str | None, limit: int) -> Any:
        openai = _openai()
        kwargs: dict[str, Any] = {"limit": min(limit, self.limit_max)}
        if after is not None:
            kwargs["after"] = after
        try:
            return await self.client.fine_tuning.jobs.list_events(self.job_id, **kwargs)
        except openai.BadRequestError:
            if self.limit_max <= EVENTS_FALLBACK_LIMIT:
                raise
            self.limit_max = EVENTS_FALLBACK_LIMIT
            kwargs["limit"] = EVENTS_FALLBACK_LIMIT
            return await self.client.fine_tuning.jobs.list_events(self.job_id, **kwargs)

    async def fetch_new(self) -> list[Event]:
        """Page from the newest event back to the last one seen; state changes only on success."""
        limit = EVENTS_MAX_LIMIT if self.newest_id is None else EVENTS_FOLLOW_LIMIT
        collected: list[Any] = []
        after: str | None = None
        while True:
            page = await self._page(after, limit)
            reached = False
            for raw in page.data:
                if raw.id == self.newest_id:
                    reached = True
                    break
                collected.append(raw)
            if reached or not page.has_more or not page.data:
                break
            after = page.data[-1].id
            limit = EVENTS_MAX_LIMIT
        if collected:
            self.newest_id = collected[0].id
        fresh = [to_event(raw) for raw in reversed(collected) if raw.id not in self.seen]
        self.seen.update(event.id for event in fresh)
        return fresh


@dataclass
class WatchUpdate:
    """One poll's outcome: the job and its new events, or a reconnecting notice."""

    job: FineTuningJob | None
    events: list[Event]
    reconnecting: str | None = None


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
    a visible backoff on errors. Pass a client with `max_retries=0` to see every failure."""
    from tui.errors import describe

    slow = slow_interval if slow_interval is not None else interval * 2.5
    follower = EventFollower(client, job_id)
    failures = 0
    while True:
        try:
            job = await client.fine_tuning.jobs.retrieve(job_id)
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
        yield WatchUpdate(job, events)
        if job.status in TERMINAL:
            return
        await sleep(slow if job.status in WAITING else interval)


# --- jobs, checkpoints, results ---------------------------------------------------------------


@dataclass
class JobPage:
    jobs: list[FineTuningJob]
    has_more: bool
    last_id: str | None


async def list_jobs(client: AsyncOpenAI, *, after: str | None = None, limit: int = 20) -> JobPage:
    kwargs: dict[str, Any] = {"limit": limit}
    if after:
        kwargs["after"] = after
    page = await client.fine_tuning.jobs.list(**kwargs)
    jobs = list(page.data)
    return JobPage(jobs, bool(page.has_more), jobs[-1].id if jobs else None)


async def list_checkpoints(client: AsyncOpenAI, job_id: str) -> list[Any]:
    """All checkpoints, oldest step first."""
    out: list[Any] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": CHECKPOINTS_LIMIT}
        if after:
            kwargs["after"] = after
        page = await client.fine_tuning.jobs.checkpoints.list(job_id, **kwargs)
        out.extend(page.data)
        if not page.has_more or not page.data:
            break
        after = page.data[-1].id
    return sorted(out, key=lambda c: c.step_number)


async def control(client: AsyncOpenAI, job_id: str, action: str) -> FineTuningJob:
    """`cancel`, `pause` or `resume` a job."""
    jobs = client.fine_tuning.jobs
    call = {"cancel": jobs.cancel, "pause": jobs.pause, "resume": jobs.resume}[action]
    return await call(job_id)


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


async def fetch_results(client: AsyncOpenAI, job: FineTuningJob) -> list[dict[str, str]]:
    if not job.result_files:
        return []
    response = await client.files.content(job.result_files[0])
    return parse_results(response.content)


def failure_text(job: FineTuningJob) -> str:
    """Why a job ended without success, in plain words."""
    if job.status == "cancelled":
        return f"job {job.id} was cancelled"
    error = job.error
    code = getattr(error, "code", None) if error is not None else None
    message = getattr(error, "message", None) if error is not None else None
    if code or message:
        return f"job {job.id} failed: {code or 'error'}: {message or 'no message'}"
    return (
        f"job {job.id} failed; the API gave no reason (live jobs may carry an empty error "
        "object; the events list may say more)"
    )
