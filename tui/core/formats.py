"""Reading and writing training files, one record per source line (or CSV row).

Formats: chat JSONL and DPO JSONL (kept byte for byte), pairs text (`input; output`),
CSV/TSV with a header. Every record remembers its source line and its raw bytes so a file
opened and saved without edits is byte-identical, and lines that do not parse are kept.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Any, Literal

BOM = b"\xef\xbb\xbf"
# A line longer than this is reported, not parsed: the cap on work per line.
MAX_LINE_BYTES = 64 * 1024 * 1024

Kind = Literal["example", "invalid", "blank", "comment"]
FORMATS = ("chat", "dpo", "pairs", "csv", "tsv")
JSONL_FORMATS = ("chat", "dpo")
TABLE_DELIMITERS = {"csv": ",", "tsv": "\t"}


@dataclass(slots=True)
class Record:
    """One source line (or CSV row) and what it means.

    kind: "example" (obj is the parsed example, in chat or DPO shape), "invalid" (meant as an
    example but unusable: `error` = (code, message)), "blank" or "comment" (not an example).
    raw: the source text of the record without its final line ending; eol: that ending.
    """

    line: int
    raw: bytes
    eol: bytes
    kind: Kind
    obj: Any = None
    error: tuple[str, str] | None = None


class UnusableInput(ValueError):
    """The bytes are not a training file at all (empty, binary, a JSON array...)."""


# ---------------------------------------------------------------------------- lines


def split_lines(
    data: bytes, first_line: int = 1
) -> tuple[bool, Iterator[tuple[int, bytes, bytes]]]:
    """(has_bom, iterator of (line_number, raw_without_eol, eol)). Lines end at `\\n` only."""
    has_bom = data.startswith(BOM)
    start = len(BOM) if has_bom else 0

    def lines() -> Iterator[tuple[int, bytes, bytes]]:
        pos = start
        number = first_line - 1
        end = len(data)
        while pos < end:
            number += 1
            nl = data.find(b"\n", pos)
            if nl == -1:
                yield number, data[pos:], b""
                return
            if nl > pos and data[nl - 1] == 0x0D:
                yield number, data[pos : nl - 1], b"\r\n"
            else:
                yield number, data[pos:nl], b"\n"
            pos = nl + 1

    return has_bom, lines()


def looks_binary(data: bytes) -> bool:
    """NUL bytes never occur in text files; a few in the first 8 KiB mean binary."""
    return b"\x00" in data[:8192]


# ---------------------------------------------------------------------------- JSONL


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def line_too_long(size: int) -> tuple[str, str]:
    """The (code, message) of a line of `size` bytes, over MAX_LINE_BYTES."""
    return (
        "line_too_long",
        f"line is {size / (1024 * 1024):.0f} MiB; lines over {MAX_LINE_BYTES // (1024 * 1024)} "
        "MiB are not parsed",
    )


def parse_json_line(raw: bytes) -> tuple[Any, tuple[str, str] | None]:
    """Parse one JSONL line. Returns (obj, None) or (None, (code, message))."""
    if len(raw) > MAX_LINE_BYTES:
        return None, line_too_long(len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, ("invalid_utf8", f"not valid UTF-8 (byte {exc.start + 1} of the line)")
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as exc:
        return None, ("invalid_json", f"column {exc.colno}: {exc.msg}")
    except RecursionError:
        return None, ("invalid_json", "JSON nested too deeply to read")
    except ValueError as exc:  # NaN / Infinity, rejected by _reject_constant
        return None, ("invalid_json", str(exc))


def is_dpo(obj: Any) -> bool:
    return isinstance(obj, dict) and (
        "preferred_output" in obj
        or "non_preferred_output" in obj
        or "preferred_completion" in obj
        or ("input" in obj and "messages" not in obj)
    )


# The C scanner behind _DECODER: (value, end) of the JSON value starting at an index, without
# decode()'s whitespace handling. For hot loops that fall back to parse_json_line on any doubt.
scan_json_value: Callable[[str, int], tuple[Any, int]] = make_scanner(_DECODER)  # type: ignore[arg-type]


def jsonl_record(number: int, raw: bytes, eol: bytes) -> Record:
    """The record of one JSONL line: blank, invalid (with its error) or an example."""
    if not raw.strip():
        return Record(number, raw, eol, "blank")
    obj, error = parse_json_line(raw)
    if error is not None:
        return Record(number, raw, eol, "invalid", error=error)
    return Record(number, raw, eol, "example", obj=obj)


def read_jsonl(data: bytes, first_line: int = 1) -> tuple[bool, Iterator[Record]]:
    """Records of a JSONL file, one per physical line, blank lines included."""
    has_bom, lines = split_lines(data, first_line)
    return has_bom, (jsonl_record(number, raw, eol) for number, raw, eol in lines)


def sniff_jsonl(data: bytes, *, complete: bool = True) -> str:
    """'chat' or 'dpo' from the first line that parses; raises UnusableInput for non-JSONL.

    complete: data is the whole file, not only its head (a head is not tried as one JSON
    value: a JSON array or a multi-line object is then reported line by line).
    """
    _, lines = split_lines(data)
    for _number, raw, _eol in lines:
        if not raw.strip():
            continue
        obj, error = parse_json_line(raw)
        if error is None and not isinstance(obj, list):
            return "dpo" if is_dpo(obj) else "chat"
        whole = _whole_json(data) if complete and raw.lstrip()[:1] in (b"[", b"{") else None
        if isinstance(whole, list):
            raise UnusableInput(
                "the file is a JSON array; the API needs JSONL, one JSON object a line"
            )
        if isinstance(whole, dict) and b"\n" in data.strip():
            raise UnusableInput(
                "the file is one JSON object spread over several lines; "
                "JSONL needs each example on one line"
            )
        return "chat"
    return "chat"


def _whole_json(data: bytes) -> Any:
    """The whole file parsed as one JSON value, or None."""
    try:
        return json.loads(data.lstrip(BOM))
    except (ValueError, RecursionError):
        return None


def to_jsonl_line(obj: Any) -> str:
    """One example exactly as uploaded: default separators, UTF-8 unescaped."""
    return json.dumps(obj, ensure_ascii=False)


def export_jsonl(examples: list[Any]) -> bytes:
    """Chat JSONL as it will be uploaded: one object a line, `\\n` endings, no BOM."""
    return "".join(to_jsonl_line(obj) + "\n" for obj in examples).encode("utf-8")


def content_text(content: object) -> str:
    """The text of a message's content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def chat_example(user: str, assistant: str, system: str | None) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": assistant})
    return {"messages": messages}


# ---------------------------------------------------------------------------- pairs

SYSTEM_PREFIX = "system:"


def read_pairs(
    data: bytes, *, sep: str = ";", system: str | None = None
) -> tuple[bool, Iterator[Record]]:
    """Records of a pairs text file: `input; output` a line.

    `#` lines are comments; `# system: TEXT` sets the system prompt for the pairs after it
    (`system` is the prompt before any such line). A line without exactly one separator or
    with an empty side is an invalid record, never guessed.
    """
    if not sep:
        raise ValueError("the separator must not be empty")
    has_bom, lines = split_lines(data)

    def records() -> Iterator[Record]:
        current = system
        for number, raw, eol in lines:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = ("invalid_utf8", f"not valid UTF-8 (byte {exc.start + 1} of the line)")
                yield Record(number, raw, eol, "invalid", error=bad)
                continue
            stripped = text.strip()
            if not stripped:
                yield Record(number, raw, eol, "blank")
                continue
            if stripped.startswith("#"):
                body = stripped[1:].strip()
                if body.lower().startswith(SYSTEM_PREFIX):
                    current = body[len(SYSTEM_PREFIX) :].strip() or None
                yield Record(number, raw, eol, "comment")
                continue
            parts = text.split(sep)
            error = _pair_error(parts, sep)
            if error is not None:
                yield Record(number, raw, eol, "invalid", error=error)
                continue
            user, assistant = parts[0].strip(), parts[1].strip()
            yield Record(number, raw, eol, "example", obj=chat_example(user, assistant, current))

    return has_bom, records()


def _pair_error(parts: list[str], sep: str) -> tuple[str, str] | None:
    if len(parts) == 1:
        return "missing_separator", f"no separator {sep!r}: expected `input{sep} output`"
    if len(parts) > 2:
        return (
            "multiple_separators",
            f"{len(parts) - 1} separators {sep!r}: expected exactly one; a text containing "
            f"{sep!r} needs another separator (dataset.separator in the config)",
        )
    if not parts[0].strip():
        return "empty_input", f"nothing before the separator {sep!r} (the user message)"
    if not parts[1].strip():
        return "empty_output", f"nothing after the separator {sep!r} (the assistant message)"
    return None


# ---------------------------------------------------------------------------- CSV / TSV

USER_COLUMNS = ("input", "user", "prompt")
ASSISTANT_COLUMNS = ("output", "assistant", "completion", "response")
SYSTEM_COLUMNS = ("system",)


def read_table(
    data: bytes, *, delimiter: str = ",", system: str | None = None
) -> tuple[bool, Iterator[Record]]:
    """Records of a CSV/TSV file with a header row; one record per row (rows may span lines).

    Raises UnusableInput if the text is not UTF-8 or the header lacks the needed columns.
    """
    has_bom = data.startswith(BOM)
    body = data[len(BOM) :] if has_bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnusableInput(f"not valid UTF-8 text (byte {exc.start + 1})") from None
    physical = _physical_lines(text)
    # csv needs line endings preserved inside quoted cells; feed it the physical lines.
    reader = csv.reader(_LineFeed(physical), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UnusableInput("the file is empty") from None
    except csv.Error as exc:
        raise UnusableInput(f"line 1: cannot read the header: {exc}") from None
    columns = _columns(header)
    header_end = reader.line_num

    def records() -> Iterator[Record]:
        yield _table_record(physical, 0, header_end, "comment")
        start = header_end
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = max(reader.line_num, start + 1)
                rec = _table_record(physical, start, end, "invalid")
                hint = " (a quote that is never closed?)" if "end of data" in str(exc) else ""
                rec.error = ("csv_error", f"{exc}{hint}")
                yield rec
                start = end
                continue
            end = reader.line_num
            rec = _table_record(physical, start, end, "example")
            if not any(cell.strip() for cell in row):
                rec.kind = "blank"
            else:
                obj, error = _row_example(row, columns, len(header), system)
                if error is not None:
                    rec.kind, rec.error = "invalid", error
                else:
                    rec.obj = obj
            yield rec
            start = end

    return has_bom, records()


def _physical_lines(text: str) -> list[str]:
    """Lines split at `\\n` only (str.splitlines also splits at U+2028 and friends)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


class _LineFeed:
    """An iterator over physical lines that csv.reader can consume one at a time."""

    def __init__(self, lines: list[str]) -> None:
        self._it = iter(lines)

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        return next(self._it)


def _table_record(physical: list[str], start: int, end: int, kind: Kind) -> Record:
    text = "".join(physical[start:end])
    eol = ""
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            eol = ending
            text = text[: -len(ending)]
            break
    return Record(start + 1, text.encode("utf-8"), eol.encode(), kind)


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]

    def find(options: tuple[str, ...]) -> int | None:
        for option in options:
            if option in names:
                return names.index(option)
        return None

    user, assistant = find(USER_COLUMNS), find(ASSISTANT_COLUMNS)
    if user is None or assistant is None:
        raise UnusableInput(
            "line 1: the header needs an input (or user) column and an output (or assistant) "
            f"column; found {', '.join(repr(h) for h in header) or 'nothing'}"
        )
    columns = {"user": user, "assistant": assistant}
    system = find(SYSTEM_COLUMNS)
    if system is not None:
        columns["system"] = system
    return columns


def _row_example(
    row: list[str], columns: dict[str, int], width: int, system: str | None
) -> tuple[dict[str, Any] | None, tuple[str, str] | None]:
    if len(row) != width:
        return None, ("csv_field_count", f"{len(row)} fields, the header has {width}")
    user = row[columns["user"]].strip()
    assistant = row[columns["assistant"]].strip()
    if not user:
        return None, ("empty_input", "the input (user) cell is empty")
    if not assistant:
        return None, ("empty_output", "the output (assistant) cell is empty")
    row_system = row[columns["system"]].strip() if "system" in columns else ""
    return chat_example(user, assistant, row_system or system), None


# ---------------------------------------------------------------------------- dispatch


def detect_format(data: bytes, filename: str | None = None, *, complete: bool = True) -> str:
    """The format of a file from its name, then its content. Raises UnusableInput.

    Without a filename the bytes are JSONL (chat or DPO), as the API takes an upload; pairs
    text and CSV/TSV are recognised by their extension (.txt, .csv, .tsv) or content.
    complete: data is the whole file, not only its head (see sniff_jsonl).
    """
    if filename is None:
        return sniff_jsonl(data, complete=complete)
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".tsv") or name.endswith(".tab"):
        return "tsv"
    if name.endswith(".txt"):
        return "pairs"
    if name.endswith(".jsonl") or name.endswith(".json") or name.endswith(".ndjson"):
        return sniff_jsonl(data, complete=complete)
    head = data.lstrip(BOM).lstrip()[:1]
    if head in (b"{", b"["):
        return sniff_jsonl(data, complete=complete)
    return "pairs"


def read_records(
    data: bytes, fmt: str, *, sep: str = ";", system: str | None = None
) -> tuple[bool, Iterator[Record]]:
    """(has_bom, records) for any format. Raises UnusableInput for unusable bytes."""
    if fmt in JSONL_FORMATS:
        return read_jsonl(data)
    if fmt == "pairs":
        return read_pairs(data, sep=sep, system=system)
    if fmt == "csv":
        return read_table(data, delimiter=",", system=system)
    if fmt == "tsv":
        return read_table(data, delimiter="\t", system=system)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


EMPTY_BYTES = BOM + b" \t\r\n"  # a file of only these is empty


def check_usable(data: bytes) -> None:
    """Raise UnusableInput for bytes that are no training file of any format."""
    if not data.strip(EMPTY_BYTES):
        raise UnusableInput("the file is empty")
    check_head(data)


def check_head(head: bytes) -> None:
    """check_usable without the emptiness test: for the first bytes of a stream."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnusableInput("the file is UTF-16 text; save it as UTF-8")
    if looks_binary(head):
        raise UnusableInput("the file is binary (it contains NUL bytes), not a text file")


# ---------------------------------------------------------------------------- CSV / TSV rows


@dataclass(frozen=True, slots=True)
class TableLayout:
    """What writing a row back into a CSV/TSV file needs: its columns and quoting style.

    quote_all: every cell of the header is quoted (a writer that quotes all cells); else
    only cells that need it are quoted (csv's QUOTE_MINIMAL, what most tools write).
    """

    header: bytes  # the header row as the file holds it (no line ending)
    delimiter: str
    columns: dict[str, int]  # "user", "assistant" and maybe "system" -> cell index
    width: int
    quote_all: bool


def table_layout(header: bytes, delimiter: str) -> TableLayout:
    """The layout of a CSV/TSV file from its header row. Raises UnusableInput."""
    text = header.decode("utf-8")
    cells = next(csv.reader([text], delimiter=delimiter, strict=True), [])
    raw = raw_cells(text, delimiter)
    quote_all = raw is not None and bool(raw) and all(c.startswith('"') for c in raw)
    return TableLayout(header, delimiter, _columns(cells), len(cells), quote_all)


def raw_cells(row: str, delimiter: str) -> list[str] | None:
    """The cells of one CSV row as the file spells them (quotes included), or None for a
    row that is not plainly `cell,cell` (text after a closing quote, an open quote)."""
    cells: list[str] = []
    pos, end = 0, len(row)
    while True:
        if row.startswith('"', pos):
            close = pos + 1
            while True:
                close = row.find('"', close)
                if close == -1:
                    return None
                if row.startswith('"', close + 1):
                    close += 2  # a doubled quote inside the cell
                    continue
                break
            stop = close + 1
            if stop < end and row[stop] != delimiter:
                return None
        else:
            stop = row.find(delimiter, pos)
            stop = end if stop == -1 else stop
        cells.append(row[pos:stop])
        if stop >= end:
            return cells
        pos = stop + 1


def encode_row(cells: dict[int, str], layout: TableLayout, like: bytes | None = None) -> bytes:
    """A CSV/TSV row (no line ending) holding `cells` (column index -> text).

    The other cells are those of `like` (the row being replaced) exactly as it spells them,
    else empty; a written cell is quoted if the file quotes every cell or the text needs it.
    """
    delimiter = layout.delimiter
    old = raw_cells(like.decode("utf-8"), delimiter) if like is not None else None
    if old is None and like is not None:  # an odd row: its values, spelled anew
        old = [_quote_cell(cell, layout) for cell in row_cells(like, delimiter)]
    row = list(old or [])
    row += [_quote_cell("", layout)] * (layout.width - len(row))
    for index, text in cells.items():
        if _cell_value(row[index], delimiter).strip() != text.strip():
            row[index] = _quote_cell(text, layout)
    return delimiter.join(row).encode("utf-8")


def _cell_value(raw: str, delimiter: str) -> str:
    return (row_cells(raw.encode("utf-8"), delimiter) or [""])[0]


def row_cells(row: bytes, delimiter: str) -> list[str]:
    """The values of one CSV/TSV row (lenient: a malformed row gives what csv makes of it)."""
    try:
        return next(csv.reader([row.decode("utf-8", "replace")], delimiter=delimiter), [])
    except csv.Error:
        return []


def _quote_cell(text: str, layout: TableLayout) -> str:
    needs = any(c in text for c in (layout.delimiter, '"', "\n", "\r"))
    if needs or layout.quote_all:
        return '"' + text.replace('"', '""') + '"'
    return text
