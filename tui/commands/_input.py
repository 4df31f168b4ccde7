"""Reading a dataset file named on the command line, with one-line errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.errors import UsageError

STDIN = "-"  # as a path: standard input (or, for an output, standard output)


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
