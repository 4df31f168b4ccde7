"""Reading a dataset file named on the command line, with one-line errors."""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from tui.errors import UsageError

STDIN = "-"  # as a path: standard input (or, for an output, standard output)
WAIT_NOTICE_SECONDS = 0.5  # input silent this long: say we are waiting for it


def display_name(path: str) -> str:
    """How a path is shown in problems and messages: `-` is <stdin>."""
    return "<stdin>" if path == STDIN else path


def read_input(path: str) -> bytes:
    """The bytes of `path` (`-`: all of standard input); a missing file or a directory is a
    UsageError (exit 2)."""
    if path == STDIN:
        return sys.stdin.buffer.read()
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{path}: is a directory, not a file")
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


@contextmanager
def open_input(path: str) -> Iterator[BinaryIO]:
    """`path` (`-`: standard input) opened for streaming, once its first byte has arrived.

    Standard input, a FIFO or a device may have nothing to read yet: if nothing comes within
    WAIT_NOTICE_SECONDS, a line on stderr says what we wait for; Ctrl+C then is a UsageError
    (exit 2). A missing file or a directory is a UsageError too.
    """
    shown = display_name(path)
    if path != STDIN:
        _check_readable(path)
    notice = threading.Timer(
        WAIT_NOTICE_SECONDS,
        lambda: print(
            f"tunebench: waiting for input on {shown} (Ctrl+C to stop)", file=sys.stderr, flush=True
        ),
    )
    notice.daemon = True
    notice.start()
    try:
        stream = sys.stdin.buffer if path == STDIN else open(path, "rb")  # noqa: SIM115
        if isinstance(stream, io.BufferedReader):
            stream.peek(1)  # blocks until the first byte (or the end) arrives
    except KeyboardInterrupt:
        raise UsageError(f"{shown}: interrupted while waiting for input") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    finally:
        notice.cancel()
    try:
        yield stream
    finally:
        if path != STDIN:
            stream.close()


def _check_readable(path: str) -> None:
    """A UsageError for a path that is missing, a directory or not readable."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{path}: permission denied")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 50:
        raise UsageError(f"epochs must be between 1 and 50, not {value}")
    return value


def apply_dataset_defaults(args: argparse.Namespace, path: str) -> None:
    """--sep and --system default to the config's dataset section for pairs/CSV input.

    JSONL needs neither, so it skips reading the config (and importing pydantic): validate
    stays fast on big files.
    """
    if not path.lower().endswith(".jsonl"):
        from tui.config import dataset_defaults

        settings = dataset_defaults()
        if args.sep is None:
            args.sep = settings.separator
        if args.system is None and settings.system_prompt:
            args.system = settings.system_prompt
    if args.sep is None:
        args.sep = ";"
