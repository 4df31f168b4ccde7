"""The model's own count of a training file: tokens per line with its tokenizer and chat
template, the length it trains at (its context length from the config, capped), the lines
past it, and a time estimate from the tokens/s the last job on that model measured.

A job's first events say this (`JobRunner`), and clients ask for it before they upload with
`POST /v1/tunebench/preflight`, an extension of the OpenAI API (OpenAI has no such route; a
client that gets a 404 counts approximately on its own side):

    request:  {"model": ID, "lines": [JSONL line, ...], "method": "supervised" | "dpo",
               "n_epochs": N | "auto"}
    response: {"object": "tunebench.preflight", "model": ID, "base_model": BASE,
               "tokens": [per line], "total_tokens": N, "longest": N,
               "context_length": N | null, "max_length": N, "too_long": [1-based line],
               "n_epochs": N, "tokens_per_second": X | null, "estimated_seconds": N | null}

`model` may be a base model or a tuned one (trained further: its base's tokenizer counts).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from tui.serve.bases import BaseModel, context_length

PATH = "/v1/tunebench/preflight"
MAX_LENGTH = 4096  # the longest sequence a job trains at, whatever the model's context
MAX_LINES = 200_000


@dataclass(frozen=True)
class Count:
    """One file counted for one base model."""

    tokens: list[int]
    context_length: int | None
    max_length: int

    @property
    def too_long(self) -> list[int]:
        """1-based lines longer than the model trains at (their ends are cut)."""
        return [i + 1 for i, n in enumerate(self.tokens) if n > self.max_length]


def estimated_seconds(tokens: int, epochs: int, speed: float | None) -> int | None:
    return math.ceil(tokens * epochs / speed) if speed else None


class Counter:
    """Counts with each base model's tokenizer, loaded once (thread-safe: the server counts
    in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizers: dict[str, Any] = {}
        self._lengths: dict[str, int | None] = {}

    def _loaded(self, base: BaseModel) -> tuple[Any, int | None]:
        with self._lock:
            if base.id not in self._tokenizers:
                from transformers import AutoTokenizer

                self._tokenizers[base.id] = AutoTokenizer.from_pretrained(base.source)
                self._lengths[base.id] = context_length(base.source)
            return self._tokenizers[base.id], self._lengths[base.id]

    def count(self, base: BaseModel, content: bytes, *, dpo: bool) -> Count:
        """Raises ValueError naming the first line that is no training example."""
        from tui.serve.data import count_tokens

        tokenizer, limit = self._loaded(base)
        tokens = count_tokens(tokenizer, content, dpo=dpo)
        return Count(tokens, limit, min(limit or MAX_LENGTH, MAX_LENGTH))


def estimate_text(seconds: int | None, speed: float | None) -> str:
    """The time estimate in words, as the job's pre-flight event and the app say it."""
    if seconds is None or not speed:
        return "no time estimate yet (the first job on this model measures the speed)"
    return f"about {max(1, round(seconds / 60))} min at the {speed:.0f} tokens/s measured here"
