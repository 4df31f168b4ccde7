"""Default epochs, billed tokens and cost, by the OpenAI Cookbook's rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tui.core.models import BaseModel

TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def default_epochs(n_examples: int) -> int:
    """The Cookbook's rule for `n_epochs: auto`: 3, more for small files, fewer for big ones."""
    if n_examples <= 0:
        return TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def percentile(sorted_values: Sequence[int], p: float) -> int:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class TokenStats:
    total: int
    max: int
    p50: int
    p95: int
    exact: bool  # False: some counts are estimates (tool calls, images, huge strings, DPO)

    def to_dict(self) -> dict[str, object]:
        return {"total": self.total, "max": self.max, "p50": self.p50, "p95": self.p95}


def token_stats(counts: Sequence[int], *, exact: bool = True) -> TokenStats:
    ordered = sorted(counts)
    return TokenStats(
        total=sum(ordered),
        max=ordered[-1] if ordered else 0,
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        exact=exact,
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    n_epochs: int
    billed_tokens: int  # epochs x sum of per-example tokens capped at the model's limit
    estimated_cost_usd: float | None  # None when the model has no per-token price
    price_per_1m: float | None
    price_note: str  # where the price comes from and when it was checked
    price_verified: bool


def estimate(counts: Sequence[int], model: BaseModel, epochs: int | None = None) -> Estimate:
    """Billed tokens and cost of training on examples with these token counts."""
    n_epochs = epochs if epochs is not None else default_epochs(len(counts))
    limit = model.example_token_limit
    billed = n_epochs * sum(min(limit, c) for c in counts)
    price = model.price_per_1m_training_tokens
    cost = None if price is None else round(billed / 1_000_000 * price, 4)
    note = f"{model.price_source}, checked {model.price_date}"
    return Estimate(n_epochs, billed, cost, price, note, model.price_verified)
