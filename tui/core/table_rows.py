"""Rows of a CSV/TSV file as editable entries, and back.

A CSV file is edited in its own format, as pairs files are (see pairs_lines): an edited
example is written back as a row of the file (its other cells and quoting kept, see
formats.encode_row) and read again exactly as `tunebench validate` reads it. What a row
cannot hold (several turns, tools, a weight, a system prompt the file has no column for) is
marked NEEDS_JSONL: Ctrl+S then offers Save as JSONL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.core.formats import TableLayout, encode_row, read_table, row_cells, to_jsonl_line

if TYPE_CHECKING:
    from tui.core.editing import Entry, Pair


def render_row(
    obj: Any, layout: TableLayout, like: bytes | None, context: str | None
) -> tuple[bytes | None, str]:
    """(the row for a chat example, "") or (None, why a row of this file cannot hold it).

    like: the row being replaced (its other cells are kept); context: the system prompt a
    row without one gets (the dataset default).
    """
    from tui.core.editing import as_pair

    pair = as_pair(obj)
    if pair is None:
        return None, "it is not one input and one output (several turns or other fields)"
    if pair.weight is not None:
        return None, "it sets a training weight"
    cells = {layout.columns["user"]: pair.user.strip()}
    cells[layout.columns["assistant"]] = pair.assistant.strip()
    system = (pair.system or "").strip() or None
    column = layout.columns.get("system")
    if column is None:
        if system != (context or None):
            where = f"the file's ({context!r})" if context else "none (no system column)"
            return None, f"its system prompt differs from {where}"
    elif system is None and context:
        return None, f"it has no system prompt, but an empty system cell means {context!r}"
    else:
        old = row_cells(like, layout.delimiter)[column:][:1] if like is not None else []
        # The default stays an empty cell where the row had one (or a new row).
        empty = not old or not old[0].strip()
        cells[column] = "" if system is None or (system == context and empty) else system
    return encode_row(cells, layout, like), ""


def table_entry(row: bytes, eol: bytes, layout: TableLayout, context: str | None) -> Entry:
    """The entry for one row, read as `validate` reads it (kind, text, error)."""
    from tui.core.editing import Entry

    _, records = read_table(layout.header + b"\n" + row, delimiter=layout.delimiter, system=context)
    found = [rec for rec in records if rec.line > 1]
    if len(found) != 1:  # the row reads as several rows (an unclosed quote...)
        error = ("csv_error", "the row does not read as one row of the file")
        return Entry(row, eol, "invalid", source_error=error, source=row, context=context)
    rec = found[0]
    if rec.kind == "blank":  # every cell empty: no example (its text says so)
        return Entry(b"", eol, "blank", source=row, context=context)
    if rec.kind == "invalid":
        return Entry(row, eol, "invalid", source_error=rec.error, source=row, context=context)
    text = to_jsonl_line(rec.obj).encode("utf-8")
    return Entry(text, eol, "example", source=row, context=context)


def row_draft(entry: Entry, layout: TableLayout) -> Pair | None:
    """A broken row (an empty cell, a wrong number of cells) or an empty one (a new
    example) as a pair to fill in the form."""
    from tui.core.editing import Pair

    if entry.source is None or entry.kind not in ("invalid", "blank"):
        return None
    cells = row_cells(entry.source, layout.delimiter)

    def cell(name: str) -> str:
        index = layout.columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    system = cell("system") or entry.context
    return Pair(system or None, cell("user"), cell("assistant"))
