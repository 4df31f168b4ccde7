"""The emulator's state: files, jobs, events, checkpoints, models; ids and list pages.

Plain dicts shaped like the API's JSON, so handlers return them as they are. Ids come from
seeded generators, so the same seed and the same calls give the same ids.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.emulator.examples import Example

FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
ORG = "org-emulator"
ORG_SLUG = "emulator"
_ALPHABET = string.ascii_letters + string.digits

# Fine-tunable base models the emulator offers: snapshot -> shutdown date (None: not announced).
BASE_MODELS: dict[str, str | None] = {
    "gpt-4.1-2025-04-14": "2027-01-14",
    "gpt-4.1-mini-2025-04-14": "2027-01-14",
    "gpt-4.1-nano-2025-04-14": "2026-10-23",
    "gpt-4o-2024-08-06": "2027-01-14",
    "gpt-4o-mini-2024-07-18": "2027-01-14",
    "gpt-3.5-turbo-0125": "2026-10-23",
}
ALIASES = {
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}
BASE_CREATED = 1_721_172_741


def now() -> int:
    return int(time.time())


class Ids:
    """Random-looking ids from a seeded generator."""

    def __init__(self, seed: int | str) -> None:
        self._rng = random.Random(seed)

    def token(self, n: int) -> str:
        return "".join(self._rng.choice(_ALPHABET) for _ in range(n))

    def new(self, prefix: str, n: int = 24) -> str:
        return prefix + self.token(n)

    def hex(self, n: int = 32) -> str:
        """`n` lowercase hex digits, the shape of Azure OpenAI's ids."""
        return f"{self._rng.getrandbits(4 * n):0{n}x}"


@dataclass
class StoredFile:
    meta: dict[str, Any]
    content: bytes


@dataclass
class Job:
    """A job's API object plus what the emulator needs to run it and to answer as its model."""

    data: dict[str, Any]
    ids: Ids
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    examples: list[Example] = field(default_factory=list)
    training_tokens: int = 0  # per epoch, counted by the project's validator
    task: asyncio.Task[None] | None = None
    resume: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def event(
        self,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
        kind: str = "message",
    ) -> None:
        self.events.append(
            {
                "object": "fine_tuning.job.event",
                "id": self.ids.new("ftevent-"),
                "created_at": now(),
                "level": level,
                "message": message,
                "data": {} if data is None else data,
                "type": kind,
            }
        )


@dataclass
class TunedModel:
    """A model a job produced (final or checkpoint), and the job whose examples it answers from."""

    meta: dict[str, Any]
    job_id: str


class Store:
    def __init__(self, seed: int) -> None:
        self.ids = Ids(seed)
        self.seed = seed
        self.files: dict[str, StoredFile] = {}
        self.jobs: dict[str, Job] = {}
        self.models: dict[str, TunedModel] = {}

    def add_file(
        self, filename: str, purpose: str, content: bytes, expires_at: int | None = None
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": self.ids.new("file-", 22),
            "object": "file",
            "bytes": len(content),
            "created_at": now(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        if expires_at is not None:  # optional in the spec, and never null there
            meta["expires_at"] = expires_at
        self.files[meta["id"]] = StoredFile(meta, content)
        return meta

    def add_model(self, model_id: str, job_id: str) -> None:
        meta = {"id": model_id, "object": "model", "created": now(), "owned_by": ORG}
        self.models[model_id] = TunedModel(meta, job_id)

    def base_model_meta(self, model_id: str) -> dict[str, Any]:
        """A base model as `/models/{model}` shows it; an alias (`gpt-4o-mini`) is a model of
        its own there, named as asked, with its snapshot's dates."""
        return {
            "id": model_id,
            "object": "model",
            "created": BASE_CREATED,
            "owned_by": "system",
            "shutdown_date": BASE_MODELS[ALIASES.get(model_id, model_id)],
        }

    def all_models(self) -> list[dict[str, Any]]:
        base = [self.base_model_meta(m) for m in BASE_MODELS]
        return base + [m.meta for m in self.models.values()]


def resolve_base(model: str) -> str | None:
    """The snapshot name a fine-tuning request for `model` trains, or None if not tunable."""
    model = ALIASES.get(model, model)
    return model if model in BASE_MODELS else None


def page(
    items: Sequence[dict[str, Any]],
    *,
    after: str | None,
    limit: int,
    with_ids: bool = False,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """A cursor page of `items` (already in listing order): those after `after`, `limit` of them."""
    rows = [item for item in items if keep is None or keep(item)]
    if after is not None:
        index = next((i for i, item in enumerate(rows) if item["id"] == after), None)
        rows = [] if index is None else rows[index + 1 :]
    data = rows[:limit]
    body: dict[str, Any] = {"object": "list", "data": data, "has_more": len(rows) > limit}
    if with_ids:
        body["first_id"] = data[0]["id"] if data else None
        body["last_id"] = data[-1]["id"] if data else None
    return body
