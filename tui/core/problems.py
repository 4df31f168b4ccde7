"""The one shape every check reports: a problem pinned to a line of the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

ERROR: Severity = "error"  # the API would reject the file
WARNING: Severity = "warning"  # accepted, but it would hurt training or be truncated


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. `line` is 1-based (0 when it concerns the whole file)."""

    line: int
    code: str
    severity: Severity
    message: str

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
