"""Autosave of unsaved edits to a recovery file, and restoring them after a crash.

The recovery file lives in the user data dir, one per dataset path. It stores the
document as runs of unchanged source lines plus the text of changed lines, with the hash of
the source file, so a restore is offered only for the same file bytes it was made from.
"""

from __future__ import annotations

import hashlib
import json
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.atomic import write_atomic
from tui.core.editing import Document, Entry

FORMAT_VERSION = 1


def recovery_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("tunebench") / "recovery"


def recovery_path(dataset: Path | None) -> Path:
    """The recovery file for a dataset path (or for the unsaved new dataset)."""
    key = str(dataset.resolve()) if dataset is not None else "<new dataset>"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return recovery_dir() / f"{digest}.json"


def source_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What to write: taken on the UI thread (cheap), serialised in a worker."""

    dataset: str | None
    source_sha256: str
    default_system: str
    rows: list[tuple[int | None, bytes, bytes]]  # (origin, text, eol) per entry


def snapshot(
    doc: Document, dataset: Path | None, source_sha256: str, entries: list[Entry] | None = None
) -> Snapshot:
    """`entries`: a copy of `doc.entries` taken on the UI thread when called from a worker."""
    rows = [(e.origin, e.saved, e.eol) for e in (entries if entries is not None else doc.entries)]
    name = str(dataset.resolve()) if dataset is not None else None
    return Snapshot(name, source_sha256, doc.default_system, rows)


def write_recovery(snap: Snapshot, path: Path) -> None:
    """Serialise a snapshot: runs of source lines as [start, end], changed lines as text."""
    items: list[Any] = []
    for origin, text, eol in snap.rows:
        last = items[-1] if items else None
        if origin is not None:
            if isinstance(last, list) and last[1] == origin:
                last[1] = origin + 1
            else:
                items.append([origin, origin + 1])
        else:
            items.append({"t": text.decode("utf-8", "surrogateescape"), "e": eol.decode()})
    payload = {
        "version": FORMAT_VERSION,
        "dataset": snap.dataset,
        "source_sha256": snap.source_sha256,
        "default_system": snap.default_system,
        "entries": items,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(payload, ensure_ascii=True).encode("ascii"))


@dataclass(frozen=True, slots=True)
class Recovery:
    path: Path
    payload: dict[str, Any]

    @property
    def changed(self) -> int:
        return sum(1 for item in self.payload["entries"] if isinstance(item, dict))


def find_recovery(dataset: Path | None, source_sha256: str) -> Recovery | None:
    """The recovery file for this dataset if it was made from the same source bytes."""
    path = recovery_path(dataset)
    try:
        payload = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # an unreadable recovery file cannot be offered; it is replaced later
    if payload.get("version") != FORMAT_VERSION or payload.get("source_sha256") != source_sha256:
        return None
    return Recovery(path, payload)


def restore(doc: Document, recovery: Recovery) -> Document:
    """A new document: the source entries of `doc` rearranged and edited as recovered."""
    source = doc.entries
    entries: list[Entry] = []
    pairs = doc.source_format == "pairs"
    for item in recovery.payload["entries"]:
        if isinstance(item, list):
            start, end = item
            # Copies: `doc` may still be counted by a worker; its entries stay its own.
            entries.extend(copy(e) for e in source[start:end])
        else:
            line = item["t"].encode("utf-8", "surrogateescape")
            context = Document.system_after(entries[-1]) if entries else doc.top_context
            # A changed line is stored as the file holds it (a pairs line in a pairs file).
            entry = doc.make_entry(line, item["e"].encode(), context=context, source_line=pairs)
            entries.append(entry)
    restored = Document(
        entries,
        fmt=doc.fmt,
        has_bom=doc.has_bom,
        source_format=doc.source_format,
        checked=False,
        sep=doc.sep,
        top_context=doc.top_context,
    )
    restored.default_system = recovery.payload.get("default_system", doc.default_system)
    restored.mark_changed()
    return restored


def discard(dataset: Path | None) -> None:
    recovery_path(dataset).unlink(missing_ok=True)
