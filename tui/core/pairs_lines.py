"""Lines of a pairs text file (`input; output`) as editable entries, and back.

A pairs file is edited in its own format: every line (pairs, `#` comments, blank lines)
is an entry; an edited pair is written back as `input; output` and read again exactly as
`tunebench validate` reads it, so what the editor counts is what the saved file holds. An
edit a pairs line cannot hold (several turns, a weight, another system prompt, a line break
or the separator inside a text) is marked NEEDS_JSONL: Ctrl+S then offers Save as JSONL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.formats import SYSTEM_PREFIX, read_pairs, to_jsonl_line
from tui.core.problems import ERROR, Finding

if TYPE_CHECKING:
    from tui.core.editing import Entry, Pair

NEEDS_JSONL = "needs_jsonl"


def header_system(raw: bytes, current: str | None) -> str | None:
    """The system prompt in effect after a comment line (`# system: TEXT` sets it)."""
    body = raw.decode("utf-8", "replace").strip()[1:].strip()
    if body.lower().startswith(SYSTEM_PREFIX):
        return body[len(SYSTEM_PREFIX) :].strip() or None
    return current


def render_pair(obj: Any, sep: str, context: str | None) -> tuple[bytes | None, str]:
    """(the pairs line for a chat example, "") or (None, why a pairs line cannot hold it)."""
    from tui.core.editing import as_pair

    pair = as_pair(obj)
    if pair is None:
        return None, "it is not one input and one output (several turns or other fields)"
    if pair.weight is not None:
        return None, "it sets a training weight"
    if (pair.system or None) != (context or None):
        where = f"the file's ({context!r})" if context else "none (the file has no `# system:`)"
        return None, f"its system prompt differs from {where}"
    for text in (pair.user, pair.assistant):
        if "\n" in text or "\r" in text:
            return None, "a text has a line break"
        if sep in text:
            return None, f"a text holds the separator {sep!r}"
    return f"{pair.user.strip()}{sep} {pair.assistant.strip()}".encode(), ""


def pairs_entry(line: bytes, eol: bytes, sep: str, context: str | None) -> Entry:
    """The entry for one pairs line, read as `validate` reads it (kind, text, error)."""
    from tui.core.editing import Entry

    if b"\n" in line or b"\r" in line:
        entry = Entry(line, eol, "invalid", source=None, context=context)
        entry.source_error = (NEEDS_JSONL, "a pairs line cannot hold a line break")
        return entry
    _, records = read_pairs(line, sep=sep, system=context)
    rec = next(iter(records), None)
    if rec is None or rec.kind == "blank":
        return Entry(line, eol, "blank", source=line, context=context)
    if rec.kind == "comment":
        return Entry(line, eol, "comment", source=line, context=context)
    if rec.kind == "invalid":
        return Entry(line, eol, "invalid", source_error=rec.error, source=line, context=context)
    text = to_jsonl_line(rec.obj).encode("utf-8")
    return Entry(text, eol, "example", source=line, context=context)


def needs_jsonl(why: str, holder: str = "a pairs line") -> Finding:
    """The finding of an edit the file's format cannot hold (holder: "a CSV row"...)."""
    return Finding(
        NEEDS_JSONL,
        ERROR,
        f"{holder} holds one input and one output, but {why}; "
        "Ctrl+S offers to save the dataset as JSONL",
    )


def pair_draft(entry: Entry, sep: str) -> Pair | None:
    """A broken pairs line as a pair to fix in the form: split at the first separator."""
    from tui.core.editing import Pair

    if entry.source is None or entry.kind != "invalid":
        return None
    line = entry.source.decode("utf-8", "replace")
    user, _, assistant = line.partition(sep)
    return Pair(entry.context, user.strip(), assistant.strip())
