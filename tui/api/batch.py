"""Batch check: run examples through a model, compare expected with got, export JSONL.

An example's prompt is every message before its last assistant turn; the expected answer is
that turn's text. Requests are not streamed (nobody reads them live) and run a few at a time.
"""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tui.api.chat import Message, request_options
from tui.core.atomic import write_atomic
from tui.core.formats import content_text
from tui.errors import UsageError, describe

if TYPE_CHECKING:
    from openai import AsyncOpenAI

CONCURRENCY = 4


@dataclass(frozen=True)
class CheckExample:
    line: int
    prompt: list[Message]
    expected: str

    @property
    def user_text(self) -> str:
        users = [m for m in self.prompt if m.get("role") == "user"]
        return content_text(users[-1].get("content")) if users else ""


@dataclass
class CheckResult:
    example: CheckExample
    got: str = ""
    error: str | None = None

    @property
    def exact(self) -> bool:
        return self.error is None and _norm(self.got) == _norm(self.example.expected)

    def as_json(self, model: str) -> dict[str, Any]:
        return {
            "line": self.example.line,
            "model": model,
            "messages": self.example.prompt,
            "expected": self.example.expected,
            "got": self.got,
            "exact": self.exact,
            "error": self.error,
        }


def _norm(text: str) -> str:
    return " ".join(text.split())


def example_from_messages(messages: Sequence[Message], line: int) -> CheckExample | None:
    """Split a chat example at its last assistant turn; None when it has none."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "assistant":
            prompt = [{"role": m["role"], "content": m.get("content", "")} for m in messages[:i]]
            return CheckExample(line, prompt, content_text(messages[i].get("content")))
    return None


def load_examples(
    path: Path, limit: int | None = None, *, sep: str = ";", system: str | None = None
) -> list[CheckExample]:
    """The first `limit` examples of a dataset file (chat or DPO JSONL, pairs text, CSV/TSV).

    A line that is not a usable example is one `path:line: why` error: a check on a broken
    split would report a misleading rate.
    """
    from tui.core.formats import UnusableInput, detect_format, read_records

    data = path.read_bytes()
    try:
        _bom, records = read_records(data, detect_format(data, path.name), sep=sep, system=system)
        examples: list[CheckExample] = []
        for record in records:
            if limit is not None and len(examples) >= limit:
                break
            if record.kind == "invalid" and record.error is not None:
                raise UsageError(f"{path}:{record.line}: {record.error[1]}")
            if record.kind != "example":
                continue
            example = example_from_messages(_messages(record.obj), record.line)
            if example is None:
                raise UsageError(f"{path}:{record.line}: no assistant message to check against")
            examples.append(example)
    except UnusableInput as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not examples:
        raise UsageError(f"{path}: no examples")
    return examples


def _messages(obj: Any) -> list[Message]:
    """A chat example's messages; for a preference (DPO) example, input + preferred output."""
    if not isinstance(obj, dict):
        return []
    messages = obj.get("messages")
    if messages is None and isinstance(obj.get("input"), dict):
        messages = [*obj["input"].get("messages", []), *obj.get("preferred_output", [])]
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


async def run_check(
    client: AsyncOpenAI,
    model: str,
    examples: Sequence[CheckExample],
    *,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    on_result: Callable[[int, CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Every example through `model`; a failed request is that example's error, not the run's."""
    gate = asyncio.Semaphore(CONCURRENCY)
    options = request_options(temperature, max_tokens)

    async def one(index: int, example: CheckExample) -> CheckResult:
        result = CheckResult(example)
        async with gate:
            try:
                response = await client.chat.completions.create(
                    model=model,
                    messages=example.prompt,  # type: ignore[arg-type]
                    **options,
                )
                result.got = response.choices[0].message.content or ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # recorded per example; the others still run
                result.error = describe(exc)
        if on_result is not None:
            on_result(index, result)
        return result

    return list(await asyncio.gather(*(one(i, ex) for i, ex in enumerate(examples))))


def exact_rate(results: Sequence[CheckResult]) -> float:
    return sum(r.exact for r in results) / len(results) if results else 0.0


DiffOp = Literal["same", "removed", "added"]


def word_diff(expected: str, got: str) -> list[tuple[DiffOp, str]]:
    """Word-level diff: runs of words kept, removed from expected, or added in got."""
    a, b = expected.split(), got.split()
    out: list[tuple[DiffOp, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", " ".join(b[j1:j2])))
    return out


def export_results(results: Sequence[CheckResult], model: str, path: Path) -> Path:
    """Write one JSON object a line, atomically (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(result.as_json(model), ensure_ascii=False) + "\n" for result in results)
    write_atomic(path, "".join(lines).encode("utf-8"))
    return path


def export_path(source: Path, model: str) -> Path:
    """`data.jsonl` + model -> `data.check-<model>.jsonl` next to it (model made file-safe)."""
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in model)[:80]
    return source.with_name(f"{source.stem}.check-{safe}.jsonl")
