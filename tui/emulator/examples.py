"""What the emulator learns from: (prompt, answer) pairs read from a training JSONL file.

Also the emulator's word-piece tokenizer, used for the trainer, usage counts and stream
chunks. It is not the model's real tokenizer; it only has to be plausible and stable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tui.core.formats import content_text

_TOKEN = re.compile(r"\w{1,6}|[^\w\s]")
_PIECE = re.compile(r"\s*(?:\w{1,6}|[^\w\s])")


def tokenize(text: str) -> list[str]:
    """Word pieces of at most 6 letters and single punctuation marks, whitespace dropped."""
    return _TOKEN.findall(text)


def pieces(text: str) -> list[str]:
    """Token-sized pieces that join back to `text` (leading whitespace kept on each)."""
    out = _PIECE.findall(text)
    tail = text[sum(len(p) for p in out) :]
    if tail:
        out.append(tail)
    return out


def count_tokens(text: str) -> int:
    return len(tokenize(text))


@dataclass(frozen=True)
class Example:
    """One training example: the last user text before the last trained assistant turn."""

    prompt: str
    answer: str


def _from_messages(messages: list[object]) -> Example | None:
    prompt, answer = "", None
    for message in messages:
        if not isinstance(message, dict):
            continue
        text = content_text(message.get("content"))
        role = message.get("role")
        if role == "user":
            prompt = text
        elif role == "assistant" and message.get("weight", 1) != 0 and text:
            answer = text
    return Example(prompt, answer) if answer is not None else None


def parse_examples(data: bytes) -> list[Example]:
    """Examples from chat (`messages`) or preference (`input` + `preferred_output`) lines.

    Lines that do not parse or carry no assistant text are skipped here; judging the file is
    the validator's job.
    """
    examples = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        messages = obj.get("messages")
        if not isinstance(messages, list):
            given = obj.get("input")
            preferred = obj.get("preferred_output")
            if isinstance(given, dict) and isinstance(preferred, list):
                messages = [*given.get("messages", []), *preferred]
        if isinstance(messages, list):
            example = _from_messages(messages)
            if example is not None:
                examples.append(example)
    return examples
