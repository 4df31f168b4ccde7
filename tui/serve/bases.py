"""The base models a `serve` offers: `--model PATH_OR_HF_ID`, each named by its directory's
name (a local path) or the HF id as given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_CREATED = 0


@dataclass(frozen=True)
class BaseModel:
    id: str
    source: str  # what from_pretrained loads: a directory or an HF id

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": BASE_CREATED, "owned_by": "local"}


def base_models(specs: Iterable[str]) -> dict[str, BaseModel]:
    """`--model` values → models by id; a later duplicate id is an error."""
    out: dict[str, BaseModel] = {}
    for spec in specs:
        path = Path(spec).expanduser()
        if path.is_dir():
            model = BaseModel(path.resolve().name, str(path.resolve()))
        elif spec.startswith((".", "/", "~")) or spec.count("/") > 1:
            raise ValueError(f"--model {spec}: no such directory")
        else:
            model = BaseModel(spec, spec)
        if model.id in out:
            raise ValueError(f"--model {spec}: two models named {model.id}")
        out[model.id] = model
    return out


def context_length(source: str) -> int | None:
    """The longest sequence the model takes, from its config (None if it does not say)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source)
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None
