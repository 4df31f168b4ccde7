"""The pre-flight check before a launch: what would be uploaded, its problems, tokens and cost.

Shared by the launch form and `tunebench jobs create`; nothing is sent anywhere here. The
bytes uploaded are the dataset's exact JSONL export (pairs and CSV are converted), so the hash
used for upload dedupe is the hash of what the API receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        tokens = r.tokens
        approx = "" if tokens.exact else "≈"
        whole = " in the whole file" if self.validation is not None else ""
        lines.append(
            f"tokens{whole}: {approx}{tokens.total:,} (max {tokens.max:,}, p95 {tokens.p95:,} "
            "per example)"
        )
        est = self.estimate
        if est is not None:
            cost = (
                f"${est.estimated_cost_usd:,.2f} at ${est.price_per_1m:g}/1M"
                if est.estimated_cost_usd is not None and est.price_per_1m is not None
                else "no per-token price known"
            )
            lines.append(f"epochs: {est.n_epochs} · billed tokens: {est.billed_tokens:,}")
            lines.append(f"estimated cost: {cost} ({est.price_note})")
        if self.local:
            lines.append(
                "local trainer: no price; the server counts tokens with the model's own "
                "tokenizer, checks its context length and estimates the time when the job starts"
            )
        if self.blocked:
            lines.append("launch blocked: fix the errors above first")
        return lines


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
        result.validation = export_jsonl(valid)
        result.validation_name = f"{path.stem}.validation.jsonl"
        result.n_validation = len(valid)
        counts = report.token_counts
        if len(counts) == len(examples) and not local:
            kept = [c for i, c in enumerate(counts) if i not in held_out]
            result.estimate = estimate(kept, base, epochs)
    return result
