"""A `tunebench serve`'s own count of an upload, asked before the upload: tokens per line with
the model's tokenizer and chat template, its context length, the lines past it, the epochs and
an estimated time from the tokens/s it measured (`POST /v1/tunebench/preflight`, an extension
route described in tui/serve/preflight.py).

The app may run on a laptop with the server on a GPU box behind an SSH tunnel, so the model's
tokenizer is only on the server. Any other OpenAI-compatible server answers 404 (or 405): the
caller then keeps its own approximate count and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openai import APIStatusError, AsyncOpenAI

from tui.api.job_info import int_or_none
from tui.core.upload_file import UploadFile

ROUTE = "/tunebench/preflight"  # under the client's base URL (…/v1)
UNSUPPORTED = (404, 405, 501)
APPROXIMATE = (
    "approximate: counted with OpenAI's tokenizer; this server does not count with its model's own"
)


@dataclass(frozen=True)
class ServerCount:
    base_model: str
    tokens: list[int]  # per line of the upload
    context_length: int | None
    max_length: int  # the length the server trains at: longer lines are cut
    too_long: list[int]  # 1-based lines of the upload
    n_epochs: int
    tokens_per_second: float | None
    estimated_seconds: int | None

    @property
    def total(self) -> int:
        return sum(self.tokens)

    @classmethod
    def of(cls, body: Any, model: str) -> ServerCount:
        """Read the answer; a body that is not one raises ValueError."""
        if not isinstance(body, dict) or not isinstance(body.get("tokens"), list):
            raise ValueError("the server's pre-flight answer is not one")
        tokens = [int_or_none(n) or 0 for n in body["tokens"]]
        max_length = int_or_none(body.get("max_length")) or 0
        speed = body.get("tokens_per_second")
        return cls(
            base_model=str(body.get("base_model") or model),
            tokens=tokens,
            context_length=int_or_none(body.get("context_length")),
            max_length=max_length,
            too_long=[int(n) for n in body.get("too_long") or [] if int_or_none(n)],
            n_epochs=int_or_none(body.get("n_epochs")) or 1,
            tokens_per_second=float(speed) if isinstance(speed, int | float) and speed else None,
            estimated_seconds=int_or_none(body.get("estimated_seconds")),
        )


async def server_count(
    client: AsyncOpenAI, model: str, training: UploadFile, *, method: str, epochs: int | None
) -> ServerCount | None:
    """The server's count of `training` (the exact upload) for `model`; None when the server
    has no such route. Other failures raise (the caller falls back and says why). The request
    holds every line (the route takes them in one JSON body): a local trainer's files are
    small; the upload file is read line by line, never as one more copy."""
    lines = [line.decode("utf-8") for line in training.iter_lines() if line.strip()]
    body = {
        "model": model,
        "lines": lines,
        "method": method,
        "n_epochs": "auto" if epochs is None else epochs,
    }
    try:
        answer = await client.post(ROUTE, body=body, cast_to=object)
    except APIStatusError as exc:
        if exc.status_code in UNSUPPORTED:
            return None
        raise
    return ServerCount.of(answer, model)


def duration_words(seconds: int) -> str:
    if seconds < 90:
        return f"about {max(1, seconds)} s"
    minutes = round(seconds / 60)
    return f"about {minutes} min" if minutes < 90 else f"about {minutes / 60:.1f} h"
