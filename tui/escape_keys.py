"""Esc never combines with the key after it.

A terminal sends Esc as the byte ESC, and Alt+key as ESC followed by the key, so Esc typed
quickly before a key (or arriving in one packet over SSH) reads as Alt+key. Textual's input
parser also turns some of these pairs into other keys: ESC + a digit into the symbol macOS
types with Option (Esc then 2 gave `™`), ESC b / ESC f into Ctrl+Left / Ctrl+Right, and
ESC + punctuation or space into the bare key (Esc then `,` lost the Esc). Here every ESC +
printable character reaches the app as Alt+key, and an Alt+key that the screen does not
bind is taken for what it was typed as: Esc, then the key; a bound one runs its binding
(and is not typed into the focused field).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._xterm_parser import XTermParser

ESC = "\x1b"

KeyEvents = Callable[[XTermParser, str, bool], Iterable[events.Key]]


def keep_escape_apart() -> None:
    """Make ESC + any printable character reach the app as Alt+<that key>, which
    escape_then_key splits (Textual's own parser table and reader are adjusted, once)."""
    table = ANSI_SEQUENCES_KEYS
    if isinstance(table, dict):  # a Textual that freezes its table: nothing to drop
        for sequence, value in list(table.items()):
            pair = len(sequence) == 2 and sequence[0] == ESC
            if pair and (isinstance(value, str) or sequence[1].isprintable()):
                del table[sequence]
    to_keys = getattr(XTermParser, "_sequence_to_key_events", None)
    if to_keys is not None and not getattr(to_keys, "keeps_escape", False):
        setattr(XTermParser, "_sequence_to_key_events", _alt_kept(to_keys))  # noqa: B010


def _alt_kept(to_keys: KeyEvents) -> KeyEvents:
    """Textual names ESC + a letter Alt+letter, but ESC + `,` (or space) just `comma`: the
    Esc is dropped. Keep it as Alt+<key> for every printable character."""

    def sequence_to_key_events(
        parser: XTermParser, sequence: str, alt: bool = False
    ) -> Iterable[events.Key]:
        for event in to_keys(parser, sequence, alt):
            character = event.character
            if alt and character and character.isprintable() and "alt+" not in event.key:
                event = events.Key(f"alt+{event.key}", character)
            yield event

    sequence_to_key_events.keeps_escape = True  # type: ignore[attr-defined]
    return sequence_to_key_events


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
