"""Atomic file writes: readers see the old file or the new one, never a partial one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to a temp file in the same directory, fsync it, then rename over `path`.

    Keeps the mode of an existing file (or sets `mode`). The temp file is created 0600, so
    until then nobody else can read it; it is removed if anything fails.
    """
    write_atomic_with(path, lambda f: f.write(data), mode=mode)


def write_atomic_with(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    mode: int | None = None,
) -> None:
    """write_atomic of what `write` writes to the temp file (a big file streamed in parts)."""
    target = Path(path)
    directory = target.parent
    # The pid in the name tells a later start whether the writer is gone (remove_dead_temps).
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            try:
                os.chmod(tmp, os.stat(target).st_mode & 0o7777)
            except FileNotFoundError:
                os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (not supported on every platform)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_dead_temps(path: str | os.PathLike[str]) -> int:
    """Remove the temp files that writes of `path` by processes now gone left behind (a
    save killed mid-way); returns how many. Temps of live writers are left alone."""
    target = Path(path)
    prefix = f".{target.name}."
    removed = 0
    try:
        names = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return 0
    for temp in names:
        pid = temp.name[len(prefix) :].split(".")[0]
        if not temp.name.endswith(TEMP_SUFFIX) or not pid.isdigit() or process_alive(int(pid)):
            continue
        try:
            temp.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def process_alive(pid: int) -> bool:
    """True if a process with this pid runs (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def private_dir(path: str | os.PathLike[str]) -> Path:
    """A folder only the user can enter (0700), created if missing, for user data."""
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder
