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
class ToolCall:
    """A function call an assistant turn made: the function's name and its JSON arguments."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Example:
    """One training example: the last user text before the last trained assistant turn, and
    that turn's text, or the tool call it made (then `answer` may be empty)."""

    prompt: str
    answer: str
    tool_call: ToolCall | None = None


def _tool_call(message: dict[str, object]) -> ToolCall | None:
    calls = message.get("tool_calls")
    if not isinstance(calls, list) or not calls or not isinstance(calls[0], dict):
        return None
    function = calls[0].get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return None
    arguments = function.get("arguments")
    return ToolCall(function["name"], arguments if isinstance(arguments, str) else "{}")


def _from_messages(messages: list[object]) -> Example | None:
    prompt, found = "", None
    for message in messages:
        if not isinstance(message, dict):
            continue
        text = content_text(message.get("content"))
        role = message.get("role")
        if role == "user":
            prompt = text
        elif role == "assistant" and message.get("weight", 1) != 0:
            call = _tool_call(message)
            if text or call is not None:
                found = (text, call)
    return None if found is None else Example(prompt, found[0], found[1])


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
