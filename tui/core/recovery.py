"""Autosave of unsaved edits to a recovery file, and restoring them after a crash.

Each running tunebench keeps its own recovery file per dataset (`KEY.PID.json` in the user
data dir, 0600 in a 0700 folder), so two instances never overwrite or delete each other's.
A lock file (`KEY.lock`, holding the pid) tells a second instance that the dataset is open
elsewhere; a lock or recovery file whose process is gone is stale. Only recoveries of
processes that are gone are offered for restore.

A recovery stores the document as runs of unchanged lines of the file it was made from plus
the text of changed lines, and that file's hash. A copy of that file (a hard link for a very
big one) is kept beside it (`KEY.PID.base`), so a recovery can still be restored after
another program changed or replaced the dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.atomic import private_dir, process_alive, write_atomic
from tui.core.editing import Document, Entry
from tui.core.formats import split_lines

FORMAT_VERSION = 1
BASE_COPY_LIMIT = 64 * 1024 * 1024  # larger files are hard-linked, not copied


def recovery_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("tunebench") / "recovery"


def dataset_key(dataset: Path | None) -> str:
    key = str(dataset.resolve()) if dataset is not None else "<new dataset>"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def recovery_path(dataset: Path | None, pid: int | None = None) -> Path:
    """This process's (or process `pid`'s) recovery file for a dataset (or the new one)."""
    return recovery_dir() / f"{dataset_key(dataset)}.{pid or os.getpid()}.json"


def source_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def other_alive(pid: int) -> bool:
    """True if another process with this pid runs: its files are not stale. (Ours count
    as left behind: at open, this process has written nothing yet.)"""
    return pid != os.getpid() and process_alive(pid)


# ---------------------------------------------------------------------------- the lock


def lock_path(dataset: Path | None) -> Path:
    return recovery_dir() / f"{dataset_key(dataset)}.lock"


def claim(dataset: Path | None) -> int | None:
    """Take the lock on a dataset; the pid of another live instance holding it, else None.

    A lock whose process is gone is stale and taken over. With another live holder the lock
    stays theirs: this instance edits on (its recovery file is its own) and is warned.
    """
    path = lock_path(dataset)
    holder = _lock_holder(path)
    if holder is not None and other_alive(holder):
        return holder
    # Without a lock (a full or read-only disk) editing goes on; recovery writes will say.
    with contextlib.suppress(OSError):
        write_atomic(private_dir(path.parent) / path.name, f"{os.getpid()}\n".encode(), mode=0o600)
    return None


def release(dataset: Path | None) -> None:
    """Give up the lock on a dataset if this process holds it."""
    path = lock_path(dataset)
    if _lock_holder(path) == os.getpid():
        path.unlink(missing_ok=True)


def _lock_holder(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What to write: taken on the UI thread (cheap: a copy of the list of entries, which
    are never changed in place), serialised in a worker."""

    dataset: str | None
    source_sha256: str
    default_system: str
    entries: list[Entry]
    items: list[Any] | None = None  # a big file's document gives its runs itself


def snapshot(
    doc: Document, dataset: Path | None, source_sha256: str, entries: Any = None
) -> Snapshot:
    """`entries`: the document's save_point taken on the UI thread when called from a worker."""
    from tui.core.lazydoc import LazyDocument

    name = str(dataset.resolve()) if dataset is not None else None
    point: Any = entries if entries is not None else doc.save_point()
    if isinstance(doc, LazyDocument):
        return Snapshot(name, source_sha256, doc.default_system, [], doc.recovery_items(point))
    return Snapshot(name, source_sha256, doc.default_system, point)


def write_recovery(snap: Snapshot, path: Path) -> None:
    """Serialise a snapshot: runs of source lines as [start, end], changed lines as text.
    The first write for a dataset file also keeps that file (see keep_base).

    Nothing is made per unchanged line (a 100,000-line file written every second while the
    user types would otherwise churn, and fragment, the process's memory)."""
    items: list[Any] = snap.items if snap.items is not None else _items(snap.entries)
    payload = {
        "version": FORMAT_VERSION,
        "dataset": snap.dataset,
        "source_sha256": snap.source_sha256,
        "default_system": snap.default_system,
        "entries": items,
    }
    folder = private_dir(path.parent)
    if snap.dataset is not None and any(isinstance(item, list) for item in items):
        keep_base(Path(snap.dataset), snap.source_sha256, path.with_suffix(".base"))
    write_atomic(folder / path.name, json.dumps(payload, ensure_ascii=True).encode(), mode=0o600)


def _items(entries: list[Entry]) -> list[Any]:
    items: list[Any] = []
    run: list[int] | None = None
    for entry in entries:
        origin = entry.origin
        if origin is not None:
            if run is not None and run[1] == origin:
                run[1] = origin + 1
            else:
                run = [origin, origin + 1]
                items.append(run)
        else:
            run = None
            text = entry.saved.decode("utf-8", "surrogateescape")
            items.append({"t": text, "e": entry.eol.decode()})
    return items


def keep_base(dataset: Path, sha256: str, base: Path) -> None:
    """Keep the file the recovery's unchanged lines come from, once per file version: a
    copy (it survives the dataset being rewritten in place or replaced), or for a file too
    big to copy, a hard link (free; it survives the file being replaced)."""
    if (str(base), sha256) in _kept:
        return
    base.unlink(missing_ok=True)
    try:
        if dataset.stat().st_size <= BASE_COPY_LIMIT:
            shutil.copyfile(dataset, base)
            base.chmod(0o600)
        else:
            os.link(dataset, base)
    except OSError:
        base.unlink(missing_ok=True)
        return
    if _digest_of(base) != sha256:  # changed before we got to it: of no use
        base.unlink(missing_ok=True)
    _kept.add((str(base), sha256))


_kept: set[tuple[str, str]] = set()  # (base file, hash) this process has kept already


def _digest_of(path: Path) -> str | None:
    from tui.core.lazydoc import file_sha256

    try:
        return file_sha256(path)  # streamed: the file may be 512 MB
    except OSError:
        return None


# ---------------------------------------------------------------------------- finding


@dataclass(frozen=True, slots=True)
class Recovery:
    path: Path
    payload: dict[str, Any]
    base_changed: bool = False  # the dataset on disk is not the file the edits were made to

    @property
    def changed(self) -> int:
        return sum(1 for item in self.payload["entries"] if isinstance(item, dict))

    @property
    def base(self) -> Path:
        return self.path.with_suffix(".base")


def find_recovery(dataset: Path | None, source_sha256: str | Callable[[], str]) -> Recovery | None:
    """The newest recovery of this dataset left by a process that is gone.

    One made from other bytes than `source_sha256` (the file changed on disk since) is
    returned with base_changed, if its unchanged lines can still be read. A callable is
    asked for the hash only when there is a recovery to compare (hashing 512 MB takes a
    while).
    """
    folder = recovery_dir()
    prefix = f"{dataset_key(dataset)}."
    found: list[tuple[float, Recovery]] = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return None
    for path in candidates:
        pid = _pid_of(path)
        if path.suffix != ".json" or pid is None or other_alive(pid):
            continue
        try:
            payload = json.loads(path.read_bytes())
            mtime = path.stat().st_mtime
        except (OSError, ValueError):
            continue  # unreadable: cannot be offered
        if not isinstance(payload, dict) or payload.get("version") != FORMAT_VERSION:
            continue
        if callable(source_sha256):
            source_sha256 = source_sha256()
        recovery = Recovery(path, payload, payload.get("source_sha256") != source_sha256)
        runs = any(isinstance(item, list) for item in payload["entries"])
        if recovery.base_changed and runs and _base_lines(recovery) is None:
            continue  # its unchanged lines are gone with the old file
        found.append((mtime, recovery))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _pid_of(path: Path) -> int | None:
    parts = path.name.split(".")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


def _base_lines(recovery: Recovery) -> list[tuple[bytes, bytes]] | None:
    """(text, eol) of each line of the file the recovery was made from, if it is kept."""
    try:
        data = recovery.base.read_bytes()
    except OSError:
        return None
    if source_digest(data) != recovery.payload.get("source_sha256"):
        return None
    _, lines = split_lines(data)
    return [(raw, eol) for _number, raw, eol in lines]


# ---------------------------------------------------------------------------- restoring


def restore(doc: Document, recovery: Recovery) -> Document:
    """A new document: the recovered edits, over `doc` (the file as it is on disk now).

    Unsaved means "differs from `doc`": with the base unchanged, untouched lines are `doc`'s
    own entries; after the file changed on disk they are read from the kept base file.
    """
    from tui.core.lazydoc import LazyDocument

    if isinstance(doc, LazyDocument) and not recovery.base_changed:
        restored_lazy = doc.restored(recovery.payload["entries"])
        restored_lazy.default_system = recovery.payload.get("default_system", doc.default_system)
        return restored_lazy
    base = (_base_lines(recovery) or []) if recovery.base_changed else None
    entries: list[Entry] = []
    pairs = doc.source_format == "pairs"
    for item in recovery.payload["entries"]:
        if isinstance(item, list) and base is None:
            start, end = item[0], None if item[1] == -1 else item[1]  # -1: to the end
            # Copies: `doc` may still be counted by a worker; its entries stay its own.
            entries.extend(copy(e) for e in doc.entries[start:end])
            continue
        if isinstance(item, list):  # lines of the file as it was, kept beside the recovery
            end = None if item[1] == -1 else item[1]
            lines = base[item[0] : end] if base is not None else []
        else:
            lines = [(item["t"].encode("utf-8", "surrogateescape"), item["e"].encode())]
        for line, eol in lines:
            context = Document.system_after(entries[-1]) if entries else doc.top_context
            # A changed line is stored as the file holds it (a pairs line in a pairs file).
            entries.append(doc.make_entry(line, eol, context=context, source_line=pairs))
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
    restored.set_baseline(doc.entries)
    return restored


def recovered_bytes(doc: Document, recovery: Recovery) -> bytes:
    """The recovered dataset as a file, for saving beside the one that changed on disk."""
    return restore(doc, recovery).to_bytes()


def discard(dataset: Path | None, pid: int | None = None) -> None:
    """Remove this process's (or a gone process `pid`'s) recovery of a dataset."""
    path = recovery_path(dataset, pid)
    path.unlink(missing_ok=True)
    path.with_suffix(".base").unlink(missing_ok=True)


def discard_found(recovery: Recovery) -> None:
    """Remove a recovery that was offered (restored, saved beside, or thrown away)."""
    recovery.path.unlink(missing_ok=True)
    recovery.base.unlink(missing_ok=True)
