"""The Playground's remembered choices (last model per profile), in the user data dir."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.atomic import private_dir, write_atomic


def state_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("tunebench") / "playground.json"


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a missing or damaged state file only loses the remembered choice
    return data if isinstance(data, dict) else {}


def last_model(profile: str, path: Path | None = None) -> str | None:
    models = _read(path or state_path()).get("last_model")
    if isinstance(models, dict):
        value = models.get(profile)
        return value if isinstance(value, str) else None
    return None


def remember_model(profile: str, model: str, path: Path | None = None) -> None:
    """Save atomically (temp file, fsync, rename)."""
    path = path or state_path()
    data = _read(path)
    models = data.get("last_model")
    models = dict(models) if isinstance(models, dict) else {}
    models[profile] = model
    data["last_model"] = models
    private_dir(path.parent)
    write_atomic(path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)
