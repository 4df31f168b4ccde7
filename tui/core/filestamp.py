"""Noticing that a file changed on disk since it was opened, before overwriting it."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileStamp:
    size: int
    mtime_ns: int
    sha256: str


def stamp_of(path: Path, data: bytes) -> FileStamp:
    st = os.stat(path)
    return FileStamp(st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())


def changed_on_disk(path: Path, stamp: FileStamp | None) -> bool:
    """True if `path` no longer holds the bytes it held at `stamp` (or was deleted)."""
    if stamp is None:
        return path.exists()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False  # deleted: saving recreates it, nothing is lost
    if st.st_size == stamp.size and st.st_mtime_ns == stamp.mtime_ns:
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() != stamp.sha256


def is_read_only(path: Path) -> bool:
    """Not writable by us, or marked read-only (root may write anyway; we respect the mark)."""
    if not path.exists():
        return False
    return not os.access(path, os.W_OK) or not os.stat(path).st_mode & stat.S_IWUSR
