"""Server-sent events as the OpenAI SDK's decoder expects: `data: <json>\\n\\n`, then `[DONE]`."""

from __future__ import annotations

import json
from typing import Any

DONE = b"data: [DONE]\n\n"
FINGERPRINT = "fp_emulator"


def event(payload: dict[str, Any]) -> bytes:
    """One event; the blank line after it is what ends an event for the decoder. Text with
    lone surrogates (echoed from a request) goes out \\u-escaped rather than failing."""
    try:
        data = json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        data = json.dumps(payload).encode()
    return b"data: " + data + b"\n\n"


def chunk(
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any] | None,
    *,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    include_usage: bool = False,
    index: int = 0,
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `chat.completion.chunk` of choice `index`; `delta=None` gives the usage chunk with
    `choices: []`."""
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": []
        if delta is None
        else [
            {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        ],
    }
    if include_usage:
        body["usage"] = usage
    return body
