"""The fine-tunable base models: tokenizer, example token limit, methods, price, shutdown.

Facts from `shared/reference/openai-fine-tuning.md` section 3 (status late Nov 2026). Prices
per 1M training tokens: no official table was found; each carries its source, and
`price_verified` is False where the figure is from secondary reports or memory only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.errors import UsageError

PRICES_CHECKED = "2026-11"
_SECONDARY = "price from secondary reports; OpenAI publishes no official table"
_MEMORY = "price unverified; OpenAI publishes no official table"


@dataclass(frozen=True, slots=True)
class BaseModel:
    name: str  # the snapshot name the API resolves to
    encoding: str  # tiktoken encoding name
    example_token_limit: int  # longer examples are truncated from the end
    limit_confirmed: bool
    methods: tuple[str, ...]  # "supervised", "dpo", "reinforcement", "vision"
    price_per_1m_training_tokens: float | None  # USD; None when not billed per token
    price_source: str
    price_date: str
    price_verified: bool
    shutdown_date: str | None  # YYYY-MM-DD
    aliases: tuple[str, ...] = ()


MODELS: tuple[BaseModel, ...] = (
    BaseModel(
        "gpt-4.1-2025-04-14",
        "o200k_base",
        65_536,
        False,
        ("supervised", "dpo"),
        25.0,
        _MEMORY,
        PRICES_CHECKED,
        False,
        "2027-01-14",
        ("gpt-4.1",),
    ),
    BaseModel(
        "gpt-4.1-mini-2025-04-14",
        "o200k_base",
        65_536,
        False,
        ("supervised", "dpo"),
        5.0,
        _MEMORY,
        PRICES_CHECKED,
        False,
        "2027-01-14",
        ("gpt-4.1-mini",),
    ),
    BaseModel(
        "gpt-4.1-nano-2025-04-14",
        "o200k_base",
        65_536,
        False,
        ("supervised", "dpo"),
        1.5,
        _MEMORY,
        PRICES_CHECKED,
        False,
        "2026-10-23",
        ("gpt-4.1-nano",),
    ),
    BaseModel(
        "gpt-4o-2024-08-06",
        "o200k_base",
        65_536,
        True,
        ("supervised", "dpo", "vision"),
        25.0,
        _SECONDARY,
        PRICES_CHECKED,
        False,
        "2027-01-14",
        ("gpt-4o",),
    ),
    BaseModel(
        "gpt-4o-mini-2024-07-18",
        "o200k_base",
        65_536,
        True,
        ("supervised", "dpo"),
        3.0,
        _SECONDARY,
        PRICES_CHECKED,
        False,
        "2027-01-14",
        ("gpt-4o-mini",),
    ),
    BaseModel(
        # Billed at $100 per hour of core training time plus grader tokens, not per token.
        "o4-mini-2025-04-16",
        "o200k_base",
        65_536,
        False,
        ("reinforcement",),
        None,
        "help.openai.com/en/articles/11323177: $100 per training hour",
        PRICES_CHECKED,
        True,
        "2026-10-23",
        ("o4-mini",),
    ),
    BaseModel(
        "gpt-3.5-turbo-0125",
        "cl100k_base",
        16_385,
        True,
        ("supervised",),
        8.0,
        _SECONDARY,
        PRICES_CHECKED,
        False,
        "2026-10-23",
        ("gpt-3.5-turbo",),
    ),
    BaseModel(
        "gpt-3.5-turbo-1106",
        "cl100k_base",
        16_385,
        True,
        ("supervised",),
        8.0,
        _SECONDARY,
        PRICES_CHECKED,
        False,
        "2026-10-23",
    ),
    BaseModel(
        "gpt-3.5-turbo-0613",
        "cl100k_base",
        4_096,
        True,
        ("supervised",),
        8.0,
        _SECONDARY,
        PRICES_CHECKED,
        False,
        "2026-10-23",
    ),
    BaseModel(
        # The guide gives no example limit for gpt-4-0613; 8,192 is its context window.
        "gpt-4-0613",
        "cl100k_base",
        8_192,
        False,
        ("supervised",),
        None,
        "no price found",
        PRICES_CHECKED,
        False,
        "2026-10-23",
        ("gpt-4",),
    ),
)

# The one default base model: the config's `defaults.model` defaults to it, and what
# counts tokens and cost without a config (the core never reads the config).
DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"

_BY_NAME: dict[str, BaseModel] = {}
for _model in MODELS:
    _BY_NAME[_model.name] = _model
    for _alias in _model.aliases:
        _BY_NAME[_alias] = _model


class UnknownModel(UsageError):
    """A model name that is not a fine-tunable base model (or a tuned model of one)."""


# Azure OpenAI names a tuned model `BASE.ft-<32 hex>` and an earlier checkpoint of it
# `BASE.ft-<32 hex>:ckpt-step-N` (Microsoft Learn, Azure OpenAI fine-tuning tutorial).
_AZURE_TUNED = re.compile(r"^(?P<base>.+?)\.ft-(?P<id>[0-9A-Za-z]+)(?::ckpt-step-(?P<step>\d+))?$")
CHECKPOINT_MARK = ":ckpt-step-"


@dataclass(frozen=True, slots=True)
class TunedName:
    """The parts of a tuned model's id, in either naming: OpenAI's
    `ft:BASE:ORG:SUFFIX:ID[:ckpt-step-N]` or Azure's `BASE.ft-HEX[:ckpt-step-N]`."""

    base: str
    label: str  # what tells it apart: `suffix:ID` (OpenAI), `ft-HEX8` (Azure)
    step: str | None  # the checkpoint's step, None for the final model


def tuned_name(model: str) -> TunedName | None:
    """The parts of a tuned model id, or None for a base model or any other name."""
    name = model.strip()
    if name.startswith("ft:"):
        parts = name.split(":")
        if not parts[1]:
            return None
        step = parts[5].removeprefix("ckpt-step-") if len(parts) > 5 else None
        label = ":".join(p for p in parts[3:5] if p) or ":".join(parts[2:3]) or parts[1]
        return TunedName(parts[1], label, step)
    found = _AZURE_TUNED.match(name)
    if found is None:
        return None
    return TunedName(found["base"], f"ft-{found['id'][:8]}", found["step"])


def short_name(model: str) -> str:
    """A tuned model as a person tells it apart (`ft-0e208cf3 step 90`, `grammar:AbCd1234`);
    other names unchanged."""
    found = tuned_name(model)
    if found is None:
        return model.strip()
    return found.label + (f" step {found.step}" if found.step else "")


def is_tuned(model: str) -> bool:
    """A tuned model or one of its checkpoints, in OpenAI's or Azure's naming."""
    return tuned_name(model) is not None


def is_checkpoint(model: str) -> bool:
    """A tuned model's checkpoint (`...:ckpt-step-N`), in either naming."""
    found = tuned_name(model)
    return found is not None and found.step is not None


def base_name(model: str) -> str:
    """`ft:gpt-4.1-2025-04-14:org:suffix:id` or `gpt-4.1-2025-04-14.ft-0123…` ->
    `gpt-4.1-2025-04-14`; other names unchanged."""
    found = tuned_name(model)
    return found.base if found is not None else model.strip()


def find_model(model: str) -> BaseModel | None:
    """The base model of a snapshot, alias or tuned model name, or None if unknown."""
    return _BY_NAME.get(base_name(model))


def resolve_model(model: str | None) -> BaseModel:
    """Like find_model, with the default for None; raises UnknownModel (exit 2)."""
    if model is None:
        return _BY_NAME[DEFAULT_MODEL]
    found = find_model(model)
    if found is None:
        known = ", ".join(m.name for m in MODELS)
        raise UnknownModel(f"unknown base model {model!r}; fine-tunable models: {known}")
    return found
