"""The records every check reports: a finding of one example, and a problem (a finding
pinned to a line of the file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

ERROR: Severity = "error"  # the API would reject the file
WARNING: Severity = "warning"  # accepted, but it would hurt training or be truncated


@dataclass(frozen=True, slots=True)
class Finding:
    """What is wrong with one example. The message starts with the JSON path it is about
    (`messages[1].role: ...`). An editor keeps findings per example without a line: the
    example's line moves as lines above it are inserted or deleted."""

    code: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def at(self, line: int) -> Problem:
        """This finding pinned to a line of the file (0: the whole file)."""
        return Problem(self.code, self.severity, self.message, line)


@dataclass(frozen=True, slots=True)
class Problem(Finding):
    """A finding pinned to a line of the file: 1-based, 0 when it concerns the whole file."""

    line: int

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }

    def format(self, path: str) -> str:
        """`PATH:LINE: severity code: message`, the form editors and CI logs understand."""
        return f"{path}:{self.line}: {self.severity} {self.code}: {self.message}"
