"""Jobs and checkpoints as the app shows them, read defensively from whatever the server sent.

Any OpenAI-compatible server may leave out optional fields, send null, send `"auto"` where a
number could be, or add fields and enum values of its own. The SDK builds its objects without
validation, so a missing field is an AttributeError waiting to happen. Everything the app reads
about a job goes through `JobInfo.of` / `CheckpointInfo.of`, which read only fields the spec or
the SDK types define and keep anything odd as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31: beyond it `time.gmtime` fails
HYPERPARAMETER_NAMES = ("n_epochs", "batch_size", "learning_rate_multiplier", "beta")


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object or a plain dict, None when absent."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def timestamp(value: Any) -> int | None:
    """A Unix time the app can format, else None."""
    seconds = int_or_none(value)
    return seconds if seconds is not None and 0 <= seconds <= MAX_TIMESTAMP else None


def number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _hyper_value(value: Any) -> str | None:
    """`auto`, a number, or None for anything else (missing, null, an object)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:g}"


def _hyperparameters(raw: Any, method: Any, method_type: str | None) -> dict[str, str]:
    """The job's hyperparameters: the method's own (newer jobs) over the legacy top-level."""
    merged: dict[str, str] = {}
    sources = [_get(raw, "hyperparameters")]
    if method_type:
        sources.append(_get(_get(method, method_type), "hyperparameters"))
    for source in sources:
        if source is None:
            continue
        for name in HYPERPARAMETER_NAMES:
            value = _hyper_value(_get(source, name))
            if value is not None:
                merged[name] = value
    return merged


@dataclass(frozen=True)
class JobInfo:
    """One fine-tuning job; every field but the id may be missing."""

    id: str
    status: str
    model: str | None = None
    created_at: int | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    training_file: str | None = None
    validation_file: str | None = None
    seed: int | None = None
    method: str | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    result_files: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: Any) -> JobInfo:
        method = _get(raw, "method")
        method_type = text_or_none(_get(method, "type"))
        error = _get(raw, "error")
        results = _get(raw, "result_files")
        metadata = _get(raw, "metadata")
        return cls(
            id=str(_get(raw, "id") or "?"),
            status=text_or_none(_get(raw, "status")) or "unknown",
            model=text_or_none(_get(raw, "model")),
            created_at=timestamp(_get(raw, "created_at")),
            finished_at=timestamp(_get(raw, "finished_at")),
            estimated_finish=timestamp(_get(raw, "estimated_finish")),
            fine_tuned_model=text_or_none(_get(raw, "fine_tuned_model")),
            trained_tokens=int_or_none(_get(raw, "trained_tokens")),
            training_file=text_or_none(_get(raw, "training_file")),
            validation_file=text_or_none(_get(raw, "validation_file")),
            seed=int_or_none(_get(raw, "seed")),
            method=method_type,
            hyperparameters=_hyperparameters(raw, method, method_type),
            error_code=text_or_none(_get(error, "code")) if error is not None else None,
            error_message=text_or_none(_get(error, "message")) if error is not None else None,
            result_files=tuple(f for f in results if isinstance(f, str) and f)
            if isinstance(results, list)
            else (),
            metadata={
                str(k): str(v) for k, v in metadata.items() if isinstance(v, str | int | float)
            }
            if isinstance(metadata, dict)
            else {},
        )


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint: the model id to chat with and the metrics at its step."""

    id: str
    model: str | None
    step: int | None
    train_loss: float | None = None
    valid_loss: float | None = None
    accuracy: float | None = None

    @classmethod
    def of(cls, raw: Any) -> CheckpointInfo:
        metrics = _get(raw, "metrics")
        valid = number_or_none(_get(metrics, "valid_loss"))
        return cls(
            id=str(_get(raw, "id") or "?"),
            model=text_or_none(_get(raw, "fine_tuned_model_checkpoint")),
            step=int_or_none(_get(raw, "step_number")),
            train_loss=number_or_none(_get(metrics, "train_loss")),
            valid_loss=valid
            if valid is not None
            else number_or_none(_get(metrics, "full_valid_loss")),
            accuracy=number_or_none(_get(metrics, "train_mean_token_accuracy")),
        )
