"""The pre-flight check before a launch: what would be uploaded, its problems, tokens and cost.

Shared by the launch form and `tunebench jobs create`; nothing is sent anywhere here. The
bytes uploaded are the dataset's exact JSONL export (pairs and CSV are converted), so the hash
used for upload dedupe is the hash of what the API receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openai import APIError, AsyncOpenAI

from tui.api.server_count import APPROXIMATE, ServerCount, duration_words, server_count
from tui.core.dataset import Dataset
from tui.core.estimate import Estimate, estimate
from tui.core.formats import UnusableInput, to_jsonl_line
from tui.core.models import is_tuned, resolve_model
from tui.core.split import split_indices
from tui.core.validate import ValidationReport
from tui.errors import UsageError


@dataclass
class Preflight:
    path: Path
    model: str
    method: str  # "supervised" or "dpo"
    training: bytes  # the JSONL to upload
    report: ValidationReport
    estimate: Estimate | None
    validation: bytes | None = None
    validation_name: str | None = None
    n_validation: int = 0
    local: bool = False  # for a `tunebench serve`: no price; it counts with the model's tokenizer
    lines: list[int] | None = None
    """The source file's line of each line of `training` (for file:line in messages)."""
    server: ServerCount | None = None
    """A local trainer's own count of `training` (tui.api.server_count), once it answered."""
    server_note: str | None = None
    """Why there is no server count (yet): asking, not offered (approximate), failed."""

    @property
    def blocked(self) -> bool:
        return not self.report.ok

    @property
    def upload_name(self) -> str:
        return self.path.with_suffix(".jsonl").name

    def summary(self) -> list[str]:
        """Plain lines for the pre-flight panel and the CLI."""
        r = self.report
        kind = r.format if r.format == self.method else f"{r.format}, {self.method}"
        lines = [
            f"{self.path.name}: {r.n_examples} examples ({kind}), "
            f"{len(r.errors)} errors, {len(r.warnings)} warnings",
        ]
        for problem in r.errors[:5]:
            lines.append(f"  {problem.format(self.path.name)}")
        if len(r.errors) > 5:
            lines.append(f"  … and {len(r.errors) - 5} more errors")
        if self.validation is not None:
            lines.append(f"validation: {self.validation_name}, {self.n_validation} examples")
        if self.local:
            lines += self._local_lines()
        else:
            lines += self._priced_lines()
        if self.blocked:
            lines.append("launch blocked: fix the errors above first")
        return lines

    def _tokens_line(self, note: str = "") -> str:
        tokens = self.report.tokens
        approx = "" if tokens.exact and not self.local else "≈"
        whole = " in the whole file" if self.validation is not None else ""
        return (
            f"tokens{whole}: {approx}{tokens.total:,} (max {tokens.max:,}, p95 {tokens.p95:,} "
            f"per example){note}"
        )

    def _priced_lines(self) -> list[str]:
        lines = [self._tokens_line()]
        est = self.estimate
        if est is not None:
            cost = (
                f"${est.estimated_cost_usd:,.2f} at ${est.price_per_1m:g}/1M"
                if est.estimated_cost_usd is not None and est.price_per_1m is not None
                else "no per-token price known"
            )
            lines.append(f"epochs: {est.n_epochs} · billed tokens: {est.billed_tokens:,}")
            lines.append(f"estimated cost: {cost} ({est.price_note})")
        return lines

    def _local_lines(self) -> list[str]:
        """A local trainer: the server's own count when it gave one, no price ever."""
        count = self.server
        if count is None:
            note = f"; {self.server_note}" if self.server_note else ""
            return [self._tokens_line(note), "local trainer: no price"]
        part = " (training part)" if self.validation is not None else ""
        longest = max(count.tokens, default=0)
        limit = count.context_length
        context = f" (context {limit:,})" if limit is not None and limit != count.max_length else ""
        lines = [
            f"tokens{part} ({count.base_model} tokenizer): {count.total:,} · longest "
            f"{longest:,} of {count.max_length:,}{context}"
        ]
        if count.too_long:
            named = [self._source_line(n) for n in count.too_long[:5]]
            more = f" and {len(count.too_long) - 5} more" if len(count.too_long) > 5 else ""
            lines.append(
                f"{len(count.too_long)} example(s) longer than {count.max_length:,} tokens, cut "
                f"at training: {', '.join(named)}{more}"
            )
        trained = count.total * count.n_epochs
        if count.estimated_seconds is not None and count.tokens_per_second:
            time = (
                f"{duration_words(count.estimated_seconds)} "
                f"({count.tokens_per_second:,.0f} tokens/s measured)"
            )
        else:
            time = "unknown until a first job has run"
        lines.append(f"epochs: {count.n_epochs} · trained tokens: {trained:,} · time: {time}")
        lines.append("local trainer: no price")
        return lines

    def _source_line(self, upload_line: int) -> str:
        """`file:line` of an upload line, in the file the user edits."""
        index = upload_line - 1
        if self.lines is not None and 0 <= index < len(self.lines) and self.lines[index]:
            return f"{self.path.name}:{self.lines[index]}"
        return f"{self.upload_name}:{upload_line}"


ASKING = "asking the server for its model's own count…"


async def ask_server(client: AsyncOpenAI, check: Preflight, epochs: int | None) -> None:
    """A local trainer's own count of the upload into `check.server`; else why not into
    `check.server_note` (the count shown stays the approximate one)."""
    from tui.errors import describe

    try:
        count = await server_count(
            client, check.model, check.training, method=check.method, epochs=epochs
        )
    except (APIError, ValueError) as exc:
        check.server_note = f"approximate: the server did not count ({describe(exc)})"
        return
    if count is None:
        check.server_note = APPROXIMATE
    else:
        check.server, check.server_note = count, None


def _held_out(examples: list[Any], percent: float, seed: int) -> set[int]:
    """Indexes of about `percent` of the examples, by core.split (the Dataset screen's F9
    split too): deterministic by seed, an example and its exact duplicates on one side."""
    if not 0 < percent < 100:
        raise UsageError(f"validation split must be between 0 and 100 percent, not {percent:g}")
    texts = [to_jsonl_line(e).encode("utf-8") for e in examples]
    held_out = set(split_indices(texts, percent / 100, seed)[1])
    if examples and not held_out:
        raise UsageError(
            f"cannot hold out {percent:g}% for validation: every example is the same, and an "
            "example and its duplicates stay on one side (give a validation file instead)"
        )
    return held_out


def _open(path: Path, *, system: str | None, sep: str) -> Dataset:
    try:
        return Dataset.from_bytes(path.read_bytes(), filename=str(path), system=system, sep=sep)
    except UnusableInput as exc:
        raise UsageError(f"{path}: {exc}") from None


def preflight(
    path: Path,
    model: str,
    *,
    epochs: int | None = None,
    validation_path: Path | None = None,
    split_percent: float | None = None,
    seed: int = 0,
    system: str | None = None,
    sep: str = ";",
    local: bool = False,
) -> Preflight:
    """Validate the dataset for `model` and build the exact upload; raises UsageError for
    files that are no dataset at all (exit 2). `local`: `model` is an open model on a
    `tunebench serve`, checked with the default model's rules and tokenizer, without a price."""
    base = resolve_model(None if local else model)
    dataset = _open(path, system=system, sep=sep)
    report = dataset.validate(model=base.name, epochs=epochs)
    method = "dpo" if dataset.fmt == "dpo" else "supervised"
    examples = [r.obj for r in dataset.records if r.kind == "example"]
    # A tuned model can be trained further: keep its name; the base gives tokenizer and price.
    name = model.strip() if local or is_tuned(model) else base.name
    result = Preflight(
        path, name, method, dataset.export_jsonl(), report, None if local else report.estimate
    )
    result.local = local
    result.lines = [r.line for r in dataset.records if r.kind == "example"]
    if validation_path is not None:
        held = _open(validation_path, system=system, sep=sep)
        result.validation = held.export_jsonl()
        result.validation_name = validation_path.with_suffix(".jsonl").name
        result.n_validation = sum(1 for r in held.records if r.kind == "example")
    elif split_percent:
        from tui.core.formats import export_jsonl

        held_out = _held_out(examples, split_percent, seed)
        train = [e for i, e in enumerate(examples) if i not in held_out]
        valid = [e for i, e in enumerate(examples) if i in held_out]
        result.training = export_jsonl(train)
        result.lines = [n for i, n in enumerate(result.lines) if i not in held_out]
        result.validation = export_jsonl(valid)
        result.validation_name = f"{path.stem}.validation.jsonl"
        result.n_validation = len(valid)
        counts = report.token_counts
        if len(counts) == len(examples) and not local:
            kept = [c for i, c in enumerate(counts) if i not in held_out]
            result.estimate = estimate(kept, base, epochs)
    return result
