"""Argument types shared by the commands that listen (emulator, serve)."""

from __future__ import annotations

import argparse


def port_number(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535: argparse's one-line error (exit 2) otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535: {text!r}")
    return value
