"""Judge an uploaded training or validation file the way the fine-tuning service does.

The one place the emulator calls the project's validator, so the job fails with OpenAI's
error codes for the same problems the app shows the user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MIN_TRAINING_EXAMPLES = 10


@dataclass(frozen=True)
class FileError:
    code: str
    message: str
    param: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "param": self.param}


def _first_problem(data: bytes) -> tuple[int, str] | None:
    """(line, message) of the first line that is not a usable chat or preference example."""
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            return number, f"not valid JSON ({exc.msg})"
        if not isinstance(obj, dict):
            return number, "each line must be a JSON object"
        messages = obj.get("messages")
        if messages is None and isinstance(obj.get("input"), dict):
            if not obj.get("preferred_output") or not obj.get("non_preferred_output"):
                return number, "preference example needs preferred_output and non_preferred_output"
            continue
        if not isinstance(messages, list) or not messages:
            return number, "missing 'messages' list"
        roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
        if "assistant" not in roles:
            return number, "example has no assistant message"
    return None


def count_examples(data: bytes) -> int:
    return sum(1 for line in data.decode("utf-8", errors="replace").splitlines() if line.strip())


def check_file(data: bytes, model: str | None, *, param: str) -> FileError | None:
    """None if the file can be trained on, else the job error the service would report.

    `param` is `training_file` or `validation_file`; only training files need 10 examples.
    """
    del model  # used once the project's validator takes over (model-specific limits)
    kind = param.removesuffix("_file")
    problem = _first_problem(data)
    if problem is not None:
        line, message = problem
        return FileError(
            f"invalid_{param}",
            f"The job failed due to an invalid {kind} file. Line {line}: {message}",
            param,
        )
    n = count_examples(data)
    if param == "training_file" and n < MIN_TRAINING_EXAMPLES:
        return FileError(
            "invalid_n_examples",
            f"Training file has {n} example(s), but must have at least "
            f"{MIN_TRAINING_EXAMPLES} examples",
            param,
        )
    return None
