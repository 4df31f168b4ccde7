"""Judge an uploaded training or validation file the way the fine-tuning service does.

At upload, a fine-tuning file must be named `.jsonl` and be UTF-8 text (`check_upload`, also
for the Uploads API); whether each line is a valid example is judged when a job reads it
(`check_file`).

The one place the emulator calls the project's validator (`tui.core.validate`), so a job
fails with OpenAI's error codes for the same problems the app shows the user. Warnings
(duplicates, long examples) do not fail a job; errors do.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.validate import MIN_EXAMPLES, validate_bytes
from tui.emulator.errors import ApiError

N_EXAMPLES = "invalid_n_examples"


@dataclass(frozen=True)
class FileError:
    code: str
    message: str
    param: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "param": self.param}


@dataclass(frozen=True)
class FileCheck:
    """The verdict on one file, and its token count (what training bills per epoch)."""

    error: FileError | None
    tokens: int


def check_file(data: bytes, model: str, *, param: str, method: str) -> FileCheck:
    """`param` is `training_file` or `validation_file`; only a training file needs 10
    examples. Uploads are JSONL: chat lines, or preference lines for a `dpo` job."""
    report = validate_bytes(data, model, fmt="dpo" if method == "dpo" else "chat")
    tokens = sum(report.token_counts)
    kind = param.removesuffix("_file")
    if report.fatal is not None:
        message = f"The job failed due to an invalid {kind} file. {report.fatal}"
        return FileCheck(FileError(f"invalid_{param}", message, param), tokens)
    errors = [p for p in report.errors if p.code != N_EXAMPLES]
    if errors:
        first = errors[0]
        where = f"Line {first.line}: " if first.line else ""
        message = f"The job failed due to an invalid {kind} file. {where}{first.message}"
        return FileCheck(FileError(f"invalid_{param}", message, param), tokens)
    if param == "training_file" and report.n_examples < MIN_EXAMPLES:
        message = (
            f"Training file has {report.n_examples} example(s), but must have at least "
            f"{MIN_EXAMPLES} examples"
        )
        return FileCheck(FileError(N_EXAMPLES, message, param), tokens)
    return FileCheck(None, tokens)


def check_upload_name(filename: str, *, param: str = "file") -> None:
    """Refuse a fine-tuning file not named `.jsonl`, as the API does."""
    if not filename.lower().endswith(".jsonl"):
        raise ApiError(
            400,
            f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {filename!r}).",
            param=param,
            code="invalid_file_format",
        )


def check_upload_text(content: bytes, *, param: str = "file") -> None:
    """Refuse fine-tuning file contents that are not UTF-8 text (binary, another encoding)."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ApiError(
            400,
            "Invalid file format for Fine-Tuning API. The file must be UTF-8 encoded JSONL; "
            f"line {line} is not valid UTF-8.",
            param=param,
            code="invalid_file_format",
        ) from None


def check_upload(filename: str, content: bytes) -> None:
    """Refuse a `purpose=fine-tune` upload that is not a UTF-8 `.jsonl` file."""
    check_upload_name(filename)
    check_upload_text(content)
