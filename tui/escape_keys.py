"""Esc never combines with the key after it.

A terminal sends Esc as the byte ESC, and Alt+key as ESC followed by the key, so Esc typed
quickly before a key (or arriving in one packet over SSH) reads as Alt+key; Textual also maps
ESC + a digit to the symbol macOS types with Option (Esc then 2 gave `™`). Here an Alt+key that
the screen does not bind is taken for what it was typed as: Esc, then the key; a bound one runs
its binding (and is not typed into the focused field).
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

ESC = "\x1b"


def keep_escape_apart() -> None:
    """Drop Textual's ESC + character → symbol mappings (Option+digit in WezTerm on macOS),
    so ESC + a digit reaches the app as Alt+digit, which escape_then_key splits."""
    table = ANSI_SEQUENCES_KEYS
    if not isinstance(table, dict):  # a Textual that freezes its table: nothing to drop
        return
    for sequence, value in list(table.items()):
        if len(sequence) == 2 and sequence[0] == ESC and isinstance(value, str):
            del table[sequence]


def escape_then_key(event: events.Key, bound: Mapping[str, object]) -> list[events.Key] | None:
    """What an Alt+<printable key> stands for: [Esc, key] if `bound` (the screen's active
    bindings) does not hold it; else the Alt+key without its character, so a text field does
    not type it and the binding runs. None for every other key, handled as it came."""
    modifier, _, key = event.key.partition("+")
    character = event.character
    if modifier != "alt" or not character or not character.isprintable():
        return None
    if event.key in bound:
        return [events.Key(event.key, None)]
    plain = character if key.startswith("shift+") else key
    return [events.Key("escape", ESC), events.Key(plain, character)]
