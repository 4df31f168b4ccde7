"""The user's launch options as text (the launch form's fields, or `jobs create` flags),
read into LaunchSpec values with one-line errors. Shared so both say the same thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.errors import UsageError

AUTO = "auto"
# The API takes 16 metadata pairs; tunebench adds 4 of its own (dataset digest, file,
# launch id, hyperparameters), so the user has 12. Keys up to 64 characters, values 512.
MAX_USER_METADATA = 12
MAX_KEY, MAX_VALUE = 64, 512
# Azure's job option: regional, global (cheaper, data may leave the region) or developer
# (cheapest, preemptible). Sent as `trainingType`; only Azure profiles have it.
TRAINING_TYPES = ("standard", "globalstandard", "developer")


def check_training_type(training_type: str | None, kind: str, name: str) -> str | None:
    """The training type if the profile can use it (Azure), else a one-line UsageError."""
    if training_type is None:
        return None
    if kind != "azure":
        raise UsageError(
            f"--training-type: profile {name!r} is kind {kind}; training types are Azure's"
        )
    if training_type not in TRAINING_TYPES:
        raise UsageError(
            f"--training-type {training_type!r}: choose one of {', '.join(TRAINING_TYPES)}"
        )
    return training_type


def parse_auto(text: str, kind: type[int] | type[float], name: str) -> Any:
    """`auto` (or empty) or a positive number of `kind`."""
    text = text.strip().lower()
    if text in ("", AUTO):
        return AUTO
    try:
        value = kind(text)
    except ValueError:
        raise UsageError(f"{name}: expected auto or a number, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"{name}: must be greater than 0")
    return value


def parse_metadata(pairs: list[str]) -> dict[str, str]:
    """`key=value` items (each may hold several, comma-separated) into the job's metadata."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for item in pairs for p in item.split(","))):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise UsageError(f"metadata: expected key=value, got {part!r}")
        if len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise UsageError(
                f"metadata: {key[:20]!r}: keys take up to {MAX_KEY} characters, "
                f"values up to {MAX_VALUE}"
            )
        out[key] = value
    if len(out) > MAX_USER_METADATA:
        raise UsageError(
            f"metadata: at most {MAX_USER_METADATA} pairs (tunebench adds 4 of its own)"
        )
    return out


def parse_validation(text: str) -> tuple[Path | None, float | None]:
    """A validation file, or a share of the training file held out (`10%`): (path, percent)."""
    text = text.strip()
    if not text:
        return None, None
    if text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise UsageError(f"validation: {text!r} is not a percentage") from None
        if not 0 < percent < 100:
            raise UsageError(f"validation: hold out between 0% and 100%, not {text}")
        return None, percent
    return Path(text).expanduser(), None
