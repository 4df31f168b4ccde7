"""The pre-flight check before a launch: what would be uploaded, its problems, tokens and cost.

Shared by the launch form and `tunebench jobs create`; nothing is sent anywhere here. The
bytes uploaded are the dataset's exact JSONL export (pairs and CSV are converted), so the hash
used for upload dedupe is the hash of what the API receives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openai import APIError, AsyncOpenAI

from tui.api.server_count import APPROXIMATE, ServerCount, duration_words, server_count
from tui.core.chunks import CHUNK_BYTES
from tui.core.estimate import Estimate, estimate
from tui.core.formats import EMPTY_BYTES
from tui.core.models import is_tuned, resolve_model
from tui.core.upload_file import (
    Progress,
    UploadFile,
    exported_lines,
    open_counted,
    split_upload,
    write_upload,
)
from tui.core.validate import ValidationReport, validate_stream
from tui.errors import UsageError

PreflightProgress = Callable[[str, int, int], None]
"""Called with (step, bytes of the file read, the file's size) as the pre-flight advances."""


@dataclass
class Preflight:
    path: Path
    model: str
    method: str  # "supervised" or "dpo"
    training: UploadFile  # the JSONL to upload, in a temporary file
    report: ValidationReport
    estimate: Estimate | None
    validation: UploadFile | None = None
    validation_name: str | None = None
    n_validation: int = 0
    local: bool = False  # for a `tunebench serve`: no price; it counts with the model's tokenizer
    server: ServerCount | None = None
    """A local trainer's own count of `training` (tui.api.server_count), once it answered."""
    server_note: str | None = None
    """Why there is no server count (yet): asking, not offered (approximate), failed."""

    def remove(self) -> None:
        """Remove the temporary upload files now (they also go with this object)."""
        self.training.remove()
        if self.validation is not None:
            self.validation.remove()

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
        lines = self.training.lines  # the source file's line of each line of the upload
        if 0 <= index < len(lines) and lines[index]:
            return f"{self.path.name}:{lines[index]}"
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


def _split(
    whole: UploadFile, percent: float, seed: int, progress: Progress | None
) -> tuple[UploadFile, UploadFile, bytearray]:
    """About `percent` of the examples held out, by core.split (the Dataset screen's F9 split
    too): deterministic by seed, an example and its exact duplicates on one side."""
    train, valid, sides = split_upload(whole, percent / 100, seed, progress)
    if len(whole) and not len(valid):
        raise UsageError(
            f"cannot hold out {percent:g}% for validation: every example is the same, and an "
            "example and its duplicates stay on one side (give a validation file instead)"
        )
    return train, valid, sides


def _check(
    path: Path,
    model: str | None,
    *,
    epochs: int | None,
    system: str | None,
    sep: str,
    workers: int,
    progress: Progress | None,
) -> ValidationReport:
    """validate's streaming report of the file; a file that is no dataset raises UsageError."""
    with open_counted(path, progress) as stream:
        report = validate_stream(
            stream,
            model,
            filename=str(path),
            sep=sep,
            system=system,
            epochs=epochs,
            workers=workers,
        )
    if report.fatal is not None:
        raise UsageError(f"{path}: {report.fatal}")
    return report


def _export(
    path: Path, fmt: str, *, system: str | None, sep: str, progress: Progress | None
) -> UploadFile:
    return write_upload(exported_lines(path, fmt, sep=sep, system=system, progress=progress))


def _refuse_empty(path: Path) -> None:
    """A file of only whitespace (or nothing) is no dataset: read until a chunk with text."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            if chunk.strip(EMPTY_BYTES):
                return
    raise UsageError(f"{path}: the file is empty")


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
    workers: int = 1,
    progress: PreflightProgress | None = None,
) -> Preflight:
    """Validate the dataset for `model` and write the exact upload to a temporary file;
    raises UsageError for files that are no dataset at all (exit 2). `local`: `model` is an
    open model on a `tunebench serve`, checked with the default model's rules and tokenizer,
    without a price. Memory stays bounded whatever the file's size: the report is validate's
    streaming one and the upload is written in blocks. `workers`: processes for the scan
    (1 inside a threaded app). `progress(step, done, total)`: bytes of the file read so far
    by each step ("checking", "writing the upload")."""
    if split_percent and not 0 < split_percent < 100:
        raise UsageError(
            f"validation split must be between 0 and 100 percent, not {split_percent:g}"
        )
    base = resolve_model(None if local else model)
    _refuse_empty(path)
    total = path.stat().st_size

    def step(name: str, size: int = total) -> Progress | None:
        if progress is None:
            return None
        return lambda done: progress(name, done, size)

    report = _check(
        path,
        base.name,
        epochs=epochs,
        system=system,
        sep=sep,
        workers=workers,
        progress=step("checking"),
    )
    method = "dpo" if report.format == "dpo" else "supervised"
    training = _export(
        path, report.format, system=system, sep=sep, progress=step("writing the upload")
    )
    # A tuned model can be trained further: keep its name; the base gives tokenizer and price.
    name = model.strip() if local or is_tuned(model) else base.name
    result = Preflight(path, name, method, training, report, None if local else report.estimate)
    result.local = local
    if validation_path is not None:
        _refuse_empty(validation_path)
        held = _check(
            validation_path,
            base.name,
            epochs=epochs,
            system=system,
            sep=sep,
            workers=workers,
            progress=None,
        )
        result.validation = _export(
            validation_path, held.format, system=system, sep=sep, progress=None
        )
        result.validation_name = validation_path.with_suffix(".jsonl").name
        result.n_validation = len(result.validation)
    elif split_percent:
        held_out = step("holding out validation examples", training.size)
        train, valid, sides = _split(training, split_percent, seed, held_out)
        training.remove()
        result.training, result.validation = train, valid
        result.validation_name = f"{path.stem}.validation.jsonl"
        result.n_validation = len(valid)
        counts = report.token_counts
        if len(counts) == len(sides) and not local:
            kept = [c for c, side in zip(counts, sides, strict=True) if not side]
            result.estimate = estimate(kept, base, epochs)
    return result
