"""An empty file (0 bytes) opens as a dataset of no examples, where the first example is
added and saved in the file's own format (issue 12: it was unusable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_dataset_screen import loaded, make_app, wait_until
from textual.widgets import Static, TextArea

from tui.core.validate import validate_bytes
from tui.widgets.pair_editor import PairEditor
from tui.widgets.stats_line import StatsLine

SYSTEM = "Popraw gramatykę zdania."
SAVED = {
    "data.csv": '"Ala, mieć, kot",Ala ma kota.\n',
    "data.tsv": "Ala, mieć, kot\tAla ma kota.\n",
    "data.txt": "Ala, mieć, kot; Ala ma kota.\n",
}


@pytest.mark.parametrize("name", ["data.jsonl", "data.csv", "data.tsv", "data.txt"])
async def test_an_empty_file_takes_its_first_example(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert app.workspace.path == path and screen.doc is not None and len(screen.doc) == 0
        assert str(screen.query_one(StatsLine).render()).startswith("0 examples")
        notice = str(screen.query_one("#notice", Static).render())
        assert notice == f"{name} is empty: Ctrl+N adds the first example."
        await pilot.press("ctrl+n", *"Ala, mieć, kot")
        assert not screen.query_one("#notice", Static).display  # it is empty no more
        editor = screen.query_one(PairEditor)
        editor.query_one("#assistant", TextArea).focus()
        await pilot.press(*"Ala ma kota.")
        doc = screen.doc
        await wait_until(pilot, lambda: b"kota." in doc.to_bytes())
        assert str(screen.query_one(StatsLine).render()).startswith("1 example ")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not doc.dirty)
        data = path.read_bytes()
        if name.endswith(".jsonl"):
            messages = json.loads(data)["messages"]
            assert [m["content"] for m in messages[-2:]] == ["Ala, mieć, kot", "Ala ma kota."]
        else:
            header = {"data.csv": "input,output\n", "data.tsv": "input\toutput\n"}.get(name, "")
            assert data.decode() == header + SAVED[name]
        report = validate_bytes(data, filename=str(path))
        assert report.fatal is None and report.n_examples == 1
        assert [p.name for p in tmp_path.glob("data*")] == [name]  # nothing written beside


async def test_undo_of_the_first_example_is_the_empty_file_again(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+n", *"x")
        assert screen.doc is not None and screen.doc.dirty
        await pilot.press("ctrl+z", "ctrl+z")
        await wait_until(pilot, lambda: screen.doc is not None and not screen.doc.dirty)
        assert screen.doc.to_bytes() == b""
