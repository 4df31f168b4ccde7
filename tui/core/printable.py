"""Text from a server made safe to print on a terminal.

A server's ids, messages and replies may hold control characters: an escape sequence would
drive the user's terminal, a stray line separator would split one line of output in two.
"""

from __future__ import annotations

import unicodedata

REPLACEMENT = "?"


def _unsafe(char: str, keep: str) -> bool:
    return char not in keep and unicodedata.category(char) in ("Cc", "Zl", "Zp")


def one_line(text: str) -> str:
    """`text` with every control character and line break replaced: one line of output."""
    return "".join(REPLACEMENT if _unsafe(c, "") else c for c in text)


def plain_text(text: str) -> str:
    """`text` with control characters replaced, keeping newlines and tabs."""
    return "".join(REPLACEMENT if _unsafe(c, "\n\t") else c for c in text)
