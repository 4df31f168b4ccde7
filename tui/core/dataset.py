"""A dataset held for editing: per-record source text, parsed example or parse error.

Unedited records are written back with their original bytes, so opening and saving without
edits gives a byte-identical file. Saving is atomic. Validation of one record is the pure
`check_record`, so an editor re-checks only what changed; `validate()` checks everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.atomic import write_atomic
from tui.core.formats import (
    BOM,
    JSONL_FORMATS,
    Record,
    check_usable,
    detect_format,
    export_jsonl,
    read_records,
    to_jsonl_line,
)
from tui.core.problems import Problem
from tui.core.validate import ValidationReport, bom_problem, check_record, validate_records
from tui.errors import UsageError


@dataclass
class Dataset:
    """Records of one file in order. `fmt`: chat, dpo, pairs, csv or tsv."""

    records: list[Record]
    fmt: str
    has_bom: bool = False
    path: Path | None = None
    sep: str = ";"
    dirty: bool = False

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        filename: str | None = None,
        fmt: str | None = None,
        sep: str = ";",
        system: str | None = None,
    ) -> Dataset:
        """Parse any format. Raises formats.UnusableInput for bytes that are no dataset."""
        check_usable(data)
        fmt = fmt or detect_format(data, filename)
        has_bom, records = read_records(data, fmt, sep=sep, system=system)
        path = Path(filename) if filename else None
        return cls(list(records), fmt, has_bom, path, sep)

    @classmethod
    def open(cls, path: str | os.PathLike[str], **kwargs: Any) -> Dataset:
        return cls.from_bytes(Path(path).read_bytes(), filename=os.fspath(path), **kwargs)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.records)

    def examples(self) -> Iterator[Record]:
        """Records meant as examples (parsed or not), in order."""
        return (r for r in self.records if r.kind in ("example", "invalid"))

    def problems_of(self, index: int) -> list[Problem]:
        """Problems of one record alone: cheap, for re-checking after an edit."""
        return check_record(self.records[index], self.fmt)

    def validate(self, model: str | None = None, epochs: int | None = None) -> ValidationReport:
        problems = [bom_problem()] if self.has_bom else []
        return validate_records(
            self.records, self.fmt, model=model, epochs=epochs, problems=problems
        )

    # ------------------------------------------------------------------ editing

    def set_example(self, index: int, obj: Any) -> None:
        """Replace record `index` with an edited example (re-rendered in the file's format)."""
        rec = self.records[index]
        rec.raw = self._render(obj)
        rec.obj, rec.kind, rec.error = obj, "example", None
        self.dirty = True

    def insert_example(self, index: int, obj: Any) -> None:
        """Insert a new example before record `index` (line 0: not from the source file)."""
        eol = next((r.eol for r in self.records if r.eol), b"\n")
        rec = Record(0, self._render(obj), eol, "example", obj=obj)
        if index >= len(self.records) and self.records and not self.records[-1].eol:
            # Appending after a last line without a newline keeps "no final newline".
            self.records[-1].eol, rec.eol = eol, b""
        self.records.insert(index, rec)
        self.dirty = True

    def delete(self, index: int) -> None:
        del self.records[index]
        self.dirty = True

    def _render(self, obj: Any) -> bytes:
        if self.fmt in JSONL_FORMATS:
            return to_jsonl_line(obj).encode("utf-8")
        if self.fmt == "pairs":
            messages = obj.get("messages", []) if isinstance(obj, dict) else []
            by_role = {m.get("role"): m.get("content") for m in messages if isinstance(m, dict)}
            user, assistant = by_role.get("user"), by_role.get("assistant")
            if not isinstance(user, str) or not isinstance(assistant, str):
                raise UsageError("a pairs line needs one user and one assistant text")
            return f"{user}{self.sep} {assistant}".encode()
        raise UsageError(f"editing {self.fmt} files in place is not supported; export to JSONL")

    # ------------------------------------------------------------------ writing

    def to_bytes(self) -> bytes:
        """The file in its own format; byte-identical to the source if nothing was edited."""
        body = b"".join(r.raw + r.eol for r in self.records)
        return BOM + body if self.has_bom else body

    def export_jsonl(self) -> bytes:
        """Chat (or DPO) JSONL exactly as it will be uploaded; unparsable records left out."""
        return export_jsonl([r.obj for r in self.records if r.kind == "example"])

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically (temp file, fsync, rename) to `path` or the source path."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise UsageError("no file name to save to")
        write_atomic(target, self.to_bytes())
        self.path = target
        self.dirty = False
        return target
