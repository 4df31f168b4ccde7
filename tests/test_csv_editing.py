"""A CSV file is edited and saved as CSV (issue 12, item 8): edited rows are written back as
rows of the file, every other row byte for byte; what a row cannot hold is said in one line
and Save as JSONL is offered, as in pairs files."""

from __future__ import annotations

import json
from pathlib import Path

from test_dataset_screen import loaded, make_app, problem_rows, wait_until
from textual.widgets import Input, TextArea

from tui.core.validate import validate_bytes
from tui.screens.dataset_modals import ChoiceModal, PathModal
from tui.widgets.pair_editor import PairEditor

# Another column the app does not use, CRLF line ends, cells quoted only where needed.
ROWS = [
    "id,input,output,note",
    '1,"Mama, ja, chcieć, ciastko","Mamo, chcę dostać ciastko.",first',
    *(f"{i},Kot {i} spać,Kot {i} śpi.," for i in range(2, 13)),
    "99,bez odpowiedzi,,keep me",
]
CSV = "".join(row + "\r\n" for row in ROWS)


def write_csv(tmp_path: Path) -> Path:
    path = tmp_path / "grammar.csv"
    path.write_bytes(CSV.encode())
    return path


async def test_a_fixed_row_is_saved_as_a_row_of_the_csv(tmp_path: Path) -> None:
    """The broken row (empty output) opens in the form; the fix is saved into the CSV
    itself (its other cells kept, quoted where the text needs it); every other row is
    byte-identical and no JSONL is written."""
    path = write_csv(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert any("empty_output" in r for r in problem_rows(screen))
        await pilot.press("f4", "end", "enter")  # the last problem: the empty output
        editor = screen.query_one(PairEditor)
        assert editor.mode == "pair"
        assert editor.query_one("#user", TextArea).text == "bez odpowiedzi"
        editor.query_one("#assistant", TextArea).focus()
        await pilot.press(*'Bez, "odpowiedzi".')
        await wait_until(pilot, lambda: not any("empty_output" in r for r in problem_rows(screen)))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.doc is not None and not screen.doc.dirty)
        assert not isinstance(app.screen, ChoiceModal)  # nothing offered: it is a CSV row
        rows = [*ROWS[:-1], '99,bez odpowiedzi,"Bez, ""odpowiedzi"".",keep me']
        assert path.read_bytes() == "".join(row + "\r\n" for row in rows).encode()
        assert not list(tmp_path.glob("*.jsonl"))
        report = validate_bytes(path.read_bytes(), filename=str(path))
        assert report.n_examples == 13 and not report.errors


async def test_a_new_example_in_a_csv_is_a_new_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+n")  # at the end, the input field focused
        editor = screen.query_one(PairEditor)
        await wait_until(pilot, lambda: editor.mode == "pair" and editor.entry is not None)
        await pilot.press(*"Pies, lubić, kość")
        editor.query_one("#assistant", TextArea).focus()
        await pilot.press(*"Pies lubi kość.")
        doc = screen.doc
        assert doc is not None
        await wait_until(pilot, lambda: b"Pies lubi" in doc.to_bytes())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.doc is not None and not screen.doc.dirty)
        data = path.read_bytes()
        new_row = ',"Pies, lubić, kość",Pies lubi kość.,\r\n'  # the file's line ends
        assert data == (CSV + new_row).encode()
        assert validate_bytes(data, filename=str(path)).n_examples == 13


async def test_multi_turn_in_a_csv_says_so_and_offers_jsonl(tmp_path: Path) -> None:
    path = write_csv(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "alt+n")  # the first pair becomes a conversation
        await wait_until(pilot, lambda: any("needs_jsonl" in r for r in problem_rows(screen)))
        row = next(r for r in problem_rows(screen) if "needs_jsonl" in r)
        assert row.split()[0] == "2"  # the line of the row in the file
        assert "a CSV row holds one input and one output, but" in row
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("enter")  # Save as JSONL… (focused)
        assert isinstance(app.screen, PathModal)
        target = tmp_path / "grammar.jsonl"
        assert app.screen.query_one(Input).value == str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.workspace.path == target)
        first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
        assert [m["role"] for m in first["messages"]] == ["user", "assistant", "user"]
        assert path.read_bytes() == CSV.encode()  # the CSV is untouched


def test_rows_keep_the_files_quoting_and_their_other_cells() -> None:
    from tui.core.formats import encode_row, table_layout

    minimal = table_layout(b"input,output,source", ",")
    assert encode_row({0: "a", 1: "b"}, minimal) == b"a,b,"
    assert encode_row({0: "a,b", 1: 'say "hi"'}, minimal) == b'"a,b","say ""hi""",'
    assert encode_row({0: "two\nlines", 1: "b"}, minimal) == b'"two\nlines",b,'
    # The cells not written stay as the row spells them; an unchanged value keeps its quotes.
    old = b'"a", x ,"kept, as is"'
    assert encode_row({0: "a", 1: "y"}, minimal, old) == b'"a",y,"kept, as is"'
    quoted = table_layout(b'"input","output"', ",")  # a writer that quotes every cell
    assert encode_row({0: "a", 1: "b"}, quoted) == b'"a","b"'
    tabs = table_layout(b"input\toutput", "\t")
    assert encode_row({0: "a, b", 1: "c\td"}, tabs) == b'a, b\t"c\td"'


async def test_the_header_row_is_shown_not_edited(tmp_path: Path) -> None:
    path = write_csv(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("home", "enter", *"x")
        editor = screen.query_one(PairEditor)
        assert editor.query_one("#raw", TextArea).text == ROWS[0] and editor.disabled
        assert screen.doc is not None and not screen.doc.dirty
