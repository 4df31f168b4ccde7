"""Where each JSON path of an example sits in its JSONL line, to highlight problems."""

from __future__ import annotations

import json
import re
from typing import Any

_PATH = re.compile(r"^[A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*")


def json_spans(obj: Any, line: str) -> dict[str, tuple[int, int]]:
    """Path -> (start, end) character span in `line`, if `line` is `obj` as exported.

    Lines in another JSON layout (hand-written spacing) give {}: nothing is highlighted
    rather than the wrong thing.
    """
    parts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    _walk(obj, "", parts, spans, 0)
    return spans if "".join(parts) == line else {}


def _walk(
    value: Any, path: str, parts: list[str], spans: dict[str, tuple[int, int]], pos: int
) -> int:
    start = pos
    if isinstance(value, dict):
        parts.append("{")
        pos += 1
        for n, (key, item) in enumerate(value.items()):
            if n:
                parts.append(", ")
                pos += 2
            key_text = json.dumps(key, ensure_ascii=False) + ": "
            parts.append(key_text)
            pos += len(key_text)
            pos = _walk(item, f"{path}.{key}" if path else str(key), parts, spans, pos)
        parts.append("}")
        pos += 1
    elif isinstance(value, list):
        parts.append("[")
        pos += 1
        for n, item in enumerate(value):
            if n:
                parts.append(", ")
                pos += 2
            pos = _walk(item, f"{path}[{n}]", parts, spans, pos)
        parts.append("]")
        pos += 1
    else:
        text = json.dumps(value, ensure_ascii=False)
        parts.append(text)
        pos += len(text)
    if path:
        spans[path] = (start, pos)
    return pos


def finding_span(message: str, spans: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The span a finding's message points at (`messages[2].role: ...`), nearest parent."""
    match = _PATH.match(message)
    if match is None or not spans:
        return None
    path = match.group(0)
    while path:
        if path in spans:
            return spans[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
