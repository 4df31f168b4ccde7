"""Fine-tuning job requests: check a create request like the real API and build the job."""

from __future__ import annotations

from typing import Any

from tui.core.models import base_name
from tui.emulator.errors import ApiError, check_int_range, invalid, missing
from tui.emulator.store import ORG, Ids, Job, Store, now, resolve_base

MAX_SEED = 2_147_483_647
_HYPER_INT = {"batch_size": (1, 256), "n_epochs": (1, 50)}


def check_int(value: object, path: str, lo: int, hi: int | None) -> None:
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(
            path, f"expected an integer or 'auto', but got {value!r} instead.", "invalid_type"
        )
    check_int_range(path, value, lo, hi)


def _check_number(value: object, path: str, hi: float | None = None) -> None:
    """A number > 0 (and <= hi), or 'auto'."""
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(
            path, f"expected a number or 'auto', but got {value!r} instead.", "invalid_type"
        )
    if value <= 0:
        raise invalid(
            path,
            f"decimal below minimum value. Expected a value > 0, but got {value} instead.",
            "decimal_below_min_value",
        )
    if hi is not None and value > hi:
        raise invalid(
            path,
            f"decimal above maximum value. Expected a value <= {hi}, but got {value} instead.",
            "decimal_above_max_value",
        )


def _hyperparameters(raw: object, path: str, *, dpo: bool) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid(path, "expected an object.", "invalid_type")
    for key, (lo, hi) in _HYPER_INT.items():
        check_int(raw.get(key, "auto"), f"{path}.{key}", lo, hi)
    _check_number(raw.get("learning_rate_multiplier", "auto"), f"{path}.learning_rate_multiplier")
    keys = ["batch_size", "learning_rate_multiplier", "n_epochs"]
    if dpo:
        _check_number(raw.get("beta", "auto"), f"{path}.beta", hi=2)
        keys.append("beta")
    return {key: raw.get(key, "auto") for key in keys}


def job_method(body: dict[str, Any]) -> dict[str, Any]:
    method = body.get("method")
    if method is None:
        hyper = _hyperparameters(body.get("hyperparameters"), "hyperparameters", dpo=False)
        return {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    if not isinstance(method, dict):
        raise invalid("method", "expected an object.", "invalid_type")
    kind = method.get("type")
    if kind not in ("supervised", "dpo", "reinforcement"):
        raise invalid(
            "method.type",
            f"expected one of 'supervised', 'dpo', 'reinforcement', but got {kind!r} instead.",
            "invalid_value",
        )
    if kind == "reinforcement":
        raise ApiError(
            400,
            "The emulator does not run reinforcement fine-tuning; use 'supervised' or 'dpo'.",
            param="method.type",
            code="unsupported_value",
        )
    inner = method.get(kind) or {}
    if not isinstance(inner, dict):
        raise invalid(f"method.{kind}", "expected an object.", "invalid_type")
    given = inner.get("hyperparameters", body.get("hyperparameters"))
    path = f"method.{kind}.hyperparameters"
    return {
        "type": kind,
        kind: {"hyperparameters": _hyperparameters(given, path, dpo=kind == "dpo")},
    }


def checked_metadata(raw: object) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("metadata", "expected an object.", "invalid_type")
    if len(raw) > 16:
        raise invalid(
            "metadata",
            f"too many keys. Expected at most 16, but got {len(raw)}.",
            "object_above_max_properties",
        )
    for key, value in raw.items():
        if len(key) > 64:
            raise invalid(
                f"metadata.{key}", "key longer than 64 characters.", "string_above_max_length"
            )
        if not isinstance(value, str):
            raise invalid(f"metadata.{key}", "expected a string.", "invalid_type")
        if len(value) > 512:
            raise invalid(
                f"metadata.{key}", "value longer than 512 characters.", "string_above_max_length"
            )
    return dict(raw)


def _file(store: Store, body: dict[str, Any], param: str) -> str | None:
    file_id = body.get(param)
    if file_id is None:
        return None
    stored = store.files.get(file_id) if isinstance(file_id, str) else None
    if stored is None:
        raise ApiError(400, f"invalid {param}: {file_id}", param=param)
    if stored.meta["purpose"] != "fine-tune":
        raise ApiError(
            400,
            f"File {file_id} has purpose '{stored.meta['purpose']}', "
            "but must have purpose 'fine-tune'.",
            param=param,
            code="invalid_file_purpose",
        )
    return file_id


def _base_model(store: Store, model: object) -> str:
    """The snapshot to train; a tuned model can be trained further on top of its base."""
    if not isinstance(model, str) or not model:
        raise missing("model")
    tuned = store.models.get(model)
    name = base_name(model) if tuned is not None else model
    base = resolve_base(name)
    if base is None:
        raise ApiError(
            400,
            f"Model {model} is not available for fine-tuning or does not exist.",
            param="model",
            code="model_not_available",
        )
    return base


def build_job(store: Store, body: dict[str, Any]) -> Job:
    """Check a create request and return the new job (status `validating_files`)."""
    if body.get("training_file") is None:
        raise missing("training_file")
    base = _base_model(store, body.get("model"))
    training_file = _file(store, body, "training_file")
    validation_file = _file(store, body, "validation_file")
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
        raise invalid(
            "suffix", "expected a string of 1 to 64 characters.", "string_above_max_length"
        )
    seed = body.get("seed")
    if seed is None:
        seed = int(store.ids.token(9), 36) % MAX_SEED
    else:
        check_int(seed, "seed", 0, MAX_SEED)
    integrations = body.get("integrations") or []
    if not isinstance(integrations, list) or len(integrations) > 5:
        raise invalid("integrations", "expected a list of at most 5 integrations.")
    method = job_method(body)
    job_id = store.ids.new("ftjob-")
    data: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": base,
        "created_at": now(),
        "finished_at": None,
        "fine_tuned_model": None,
        "organization_id": ORG,
        "result_files": [],
        "status": "validating_files",
        "validation_file": validation_file,
        "training_file": training_file,
        "hyperparameters": dict(method[method["type"]]["hyperparameters"]),
        "trained_tokens": None,
        "error": None,
        "user_provided_suffix": suffix,
        "seed": seed,
        "estimated_finish": None,
        "integrations": integrations,
        "metadata": checked_metadata(body.get("metadata")),
        "method": method,
    }
    data["hyperparameters"].pop("beta", None)
    return Job(data=data, ids=Ids(f"{store.seed}:{job_id}"))
