"""The Dataset screen driven by real keys: edit, problems, undo, save, recovery, filter."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from emulator_support import chat_line
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.dataset import DatasetScreen
from tui.screens.dataset_modals import ChoiceModal, PathModal, SystemPromptModal
from tui.widgets.examples_list import ExamplesList
from tui.widgets.jsonl_preview import JsonlPreview
from tui.widgets.pair_editor import PairEditor
from tui.widgets.problems_panel import ProblemsPanel

SYSTEM = "Popraw gramatykę zdania."


def example(user: str, assistant: str = "Mamo, chcę dostać ciastko.") -> str:
    return chat_line(user, assistant, SYSTEM)


def write_dataset(path: Path, n: int = 12) -> bytes:
    lines = [example(f"Mama, ja, chcieć, ciastko {i}") for i in range(n)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


def make_app(path: Path | None = None) -> TunebenchApp:
    return TunebenchApp(load_config(), profile_name="openai", dataset_path=path)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], tries: int = 250) -> None:
    """Bounded polling of state (debounce timers, workers), never a fixed sleep."""
    for _ in range(tries):
        if condition():
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


async def loaded(pilot: Pilot) -> DatasetScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DatasetScreen)
    await wait_until(pilot, lambda: screen.doc is not None and screen.doc.tokens_ready)
    await wait_until(pilot, lambda: screen._refresh_timer is None)
    return screen


def preview_text(screen: DatasetScreen) -> str:
    return screen.query_one(JsonlPreview).plain_text


def problem_rows(screen: DatasetScreen) -> list[str]:
    panel = screen.query_one(ProblemsPanel)
    return [panel.render_row(i, 200).plain for i in range(panel.row_count)]


async def test_type_a_new_pair_and_see_its_jsonl_line() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", *"hello", "tab", *"world")
        await wait_until(pilot, lambda: "world" in preview_text(screen))
        pair = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "world"}]
        line = json.dumps({"messages": pair})
        assert preview_text(screen).splitlines()[1] == line
        assert screen.doc is not None and screen.doc.entries[0].text.decode() == line


async def test_break_the_role_see_the_problem_fix_it_undo_redo(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        assert not any("error" in row for row in problem_rows(screen))
        await pilot.press("down", "down", "enter", "ctrl+r")
        raw = screen.query_one("#raw", TextArea)
        assert raw.has_focus
        col = raw.text.index('"assistant"') + 2  # after `"a`
        raw.cursor_location = (0, col)
        await pilot.press("delete")  # "assistant" -> "asistant"
        await wait_until(pilot, lambda: any("unrecognized_role" in r for r in problem_rows(screen)))
        row = next(r for r in problem_rows(screen) if "unrecognized_role" in r)
        assert row.split()[0] == "3"  # the line number of the third example
        assert "'asistant'" in preview_text(screen)
        await pilot.press("s")  # fix it
        await wait_until(
            pilot, lambda: not any("unrecognized_role" in r for r in problem_rows(screen))
        )
        assert "no problems" in preview_text(screen)
        # Fixed back to what the file holds: nothing unsaved.
        assert screen.doc is not None and not screen.doc.dirty
        # Undo and redo: unsaved exactly when the bytes differ from the file's. (The typing
        # is one undo step, or two if the machine took longer than the coalescing window.)
        for key in ("ctrl+z", "ctrl+z", "ctrl+y", "ctrl+y", "ctrl+z", "ctrl+z"):
            await pilot.press(key)
            assert screen.doc.dirty == (screen.doc.to_bytes() != path.read_bytes())
        assert screen.doc.to_bytes() == path.read_bytes()


async def test_unedited_save_is_byte_identical_and_edits_are_saved(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    lines = [example(f"u{i}") for i in range(11)]
    lines[1] = (
        '{"messages":[{"role":"user","content":"compact"},{"role":"assistant","content":"x"}]}'
    )
    data = ("\r\n".join(lines[:3]) + "\r\n\n" + "\n".join(lines[3:])).encode()  # no final \n
    path.write_bytes(data)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not screen.doc.dirty)  # type: ignore[union-attr]
        await app.workers.wait_for_complete()
        assert path.read_bytes() == data
        await pilot.press("down", "enter", "end", *" ok", "ctrl+s")
        await wait_until(pilot, lambda: b"compact ok" in path.read_bytes())
        saved = path.read_bytes().split(b"\n")
        original = data.split(b"\n")
        assert saved[0] == original[0] and saved[2:] == original[2:]
        assert "saved" in str(screen.query_one("#stats").render())


async def test_changed_on_disk_is_noticed_before_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        path.write_bytes(path.read_bytes() + b"\n" + example("someone else").encode() + b"\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        assert "changed on disk" in str(app.screen.query_one("#body").render())
        await pilot.press("enter")  # the focused answer is Cancel, not Overwrite
        assert not isinstance(app.screen, ChoiceModal)
        assert b"someone else" in path.read_bytes()


async def test_enter_on_discard_unsaved_edits_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", *"x", "escape", "ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        assert "unsaved changes" in str(app.screen.query_one("#body").render())
        await pilot.press("enter")  # Cancel has the focus: nothing is thrown away
        assert app.screen is screen
        assert screen.doc is not None and screen.doc.dirty
        assert b"x" in screen.doc.entries[0].text


async def test_set_the_system_prompt_for_all_is_undoable(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, SystemPromptModal)
        app.screen.query_one(TextArea).select_all()
        await pilot.press(*"Fix it.", "ctrl+s")
        await wait_until(pilot, lambda: screen.doc.default_system == "Fix it.")  # type: ignore[union-attr]
        assert screen.doc is not None
        assert all(b'"content": "Fix it."' in e.text for e in screen.doc.entries)
        assert app.workspace.system_prompt == "Fix it."
        await pilot.press("ctrl+z")
        assert screen.doc.to_bytes() == data
        assert app.workspace.system_prompt == SYSTEM


async def test_recovery_after_a_crash_restores_the_edits(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    data = write_dataset(path)
    from tui.core.recovery import recovery_path

    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "end", *" zzz")
        await wait_until(pilot, lambda: recovery_path(path).exists())
    # The app is gone without saving (as after kill -9); the file is untouched.
    assert path.read_bytes() == data
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("enter")  # Restore is the default answer
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        await wait_until(
            pilot, lambda: screen.doc is not None and b"zzz" in screen.doc.entries[0].text
        )
        assert screen.doc is not None and screen.doc.dirty
        assert screen.doc.entries[1].text == data.split(b"\n")[1]


async def test_filter_by_problem_code(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [example(f"u{i}") for i in range(12)]
    lines[4] = lines[4].replace('"assistant"', '"asistant"')
    lines[9] = '{"messages": [broken'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+f", *"code:invalid_json")
        examples = screen.query_one("#examples")
        await wait_until(pilot, lambda: examples.row_count == 1)  # type: ignore[attr-defined]
        assert screen.current == 9
        assert "line 10" in preview_text(screen)
        await pilot.press("escape")
        assert examples.row_count == 12  # type: ignore[attr-defined]
        # From the problems panel: `f` filters by the code under the cursor.
        await pilot.press("f4")
        panel = screen.query_one(ProblemsPanel)
        rows = problem_rows(screen)
        panel.move_to(next(i for i, r in enumerate(rows) if "unrecognized_role" in r))
        await pilot.press("f")
        assert examples.row_count == 1  # type: ignore[attr-defined]
        assert screen.current == 4
        # Text filter with `/` from the list; Enter on a problem jumps to its example.
        await pilot.press("escape", "f2", "slash", *"zzz", "enter")
        assert examples.row_count == 0  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("f2", "slash", *"u1", "enter")
        assert examples.row_count == 3  # type: ignore[attr-defined]  # u1, u10, u11
        await pilot.press("escape", "f4", "end", "enter")
        assert screen.current == 9 and "line 10" in preview_text(screen)
        assert screen.query_one("#raw", TextArea).has_focus


async def test_add_training_example_message_adds_an_undoable_row(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("3")
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Kot, być, mały"},
            {"role": "assistant", "content": "Kot jest mały."},
        ]
        assert app.workspace.add_example(messages) == 12
        await wait_until(pilot, lambda: len(screen.doc or ()) == 13)
        assert app.current_mode == "playground"  # the user stays where they were
        await pilot.press("1")
        assert app.screen is screen
        assert screen.doc is not None and json.loads(screen.doc.entries[12].text) == {
            "messages": messages
        }
        assert screen.current == 12
        await pilot.press("ctrl+z")
        assert len(screen.doc) == 12


async def test_quit_with_unsaved_changes_asks(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("enter", *"x", "ctrl+q")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("escape")
        assert isinstance(app.screen, DatasetScreen)


async def test_read_only_file_opens_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    path.chmod(0o444)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        assert "read-only" in str(screen.query_one("#notice").render())


PAIRS = (
    "# system: Popraw gramatykę zdania.\n"
    "Mama, ja, chcieć, ciastko; Mamo, chcę ciastko.\n"
    "bez separatora\n" + "".join(f"Kot {i}, spać; Kot {i} śpi.\n" for i in range(10))
)


async def test_pairs_problems_show_the_line_of_the_file(tmp_path: Path) -> None:
    """Item 2: with a `# system:` line, the broken pair is line 3 of the file, as validate
    says (it was shown as 2)."""
    from tui.core.validate import validate_bytes

    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS, encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        rows = [r for r in problem_rows(screen) if "missing_separator" in r]
        assert len(rows) == 1 and rows[0].split()[0] == "3"
        report = validate_bytes(path.read_bytes(), filename=str(path))
        assert [p.line for p in report.problems if p.code == "missing_separator"] == [3]
        await pilot.press("f4", "enter")  # jump to it: the preview names the same line
        assert preview_text(screen).startswith("line 3")


async def test_broken_pair_is_fixed_in_the_pair_form_and_saved_as_pairs(tmp_path: Path) -> None:
    """Items 1 and 8: the broken line opens as input/output fields (not raw JSON); the fix
    is saved into the pairs file itself, every other line byte for byte."""
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS, encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("f4", "enter")
        editor = screen.query_one(PairEditor)
        assert editor.mode == "pair"
        assert editor.query_one("#user", TextArea).text == "bez separatora"
        editor.query_one("#assistant", TextArea).focus()
        await pilot.press(*"Bez separatora.")
        await wait_until(
            pilot, lambda: not any("missing_separator" in r for r in problem_rows(screen))
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.doc is not None and not screen.doc.dirty)
        lines = PAIRS.splitlines(keepends=True)
        lines[2] = "bez separatora; Bez separatora.\n"
        assert path.read_text(encoding="utf-8") == "".join(lines)
        assert not (tmp_path / "pairs.jsonl").exists()


async def test_multi_turn_in_a_pairs_file_offers_save_as_jsonl(tmp_path: Path) -> None:
    """Item 8: what a pairs line cannot hold is said, and Save as JSONL is offered; the
    pairs file stays as it was."""
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS, encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "alt+n")  # the pair becomes a conversation
        await wait_until(pilot, lambda: any("needs_jsonl" in r for r in problem_rows(screen)))
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ChoiceModal)
        await pilot.press("enter")  # Save as JSONL… (focused)
        assert isinstance(app.screen, PathModal)
        assert app.screen.query_one(Input).value == str(tmp_path / "pairs.jsonl")
        await pilot.press("enter")
        target = tmp_path / "pairs.jsonl"
        await wait_until(
            pilot, lambda: app.workspace.path == target and app.workspace.doc is not None
        )
        first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
        assert first["messages"][0] == {"role": "system", "content": SYSTEM}
        assert len(first["messages"]) == 4
        assert path.read_text(encoding="utf-8") == PAIRS  # the pairs file is untouched


async def test_multi_turn_example_is_edited_as_a_message_list(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "alt+n")  # the pair becomes system, user, assistant, user
        await wait_until(pilot, lambda: len(screen.query("MessageArea")) == 4)
        await wait_until(pilot, lambda: screen.focused is screen.query("MessageArea").last())
        await pilot.press(*"Dalej?", "alt+n", *"Tak.")
        await wait_until(pilot, lambda: b"Tak." in screen.doc.entries[0].text)  # type: ignore[union-attr]
        assert screen.doc is not None
        roles = [m["role"] for m in json.loads(screen.doc.entries[0].text)["messages"]]
        assert roles == ["system", "user", "assistant", "user", "assistant"]
        await pilot.press("alt+r")  # assistant -> system
        await wait_until(
            pilot, lambda: b'"role": "system", "content": "Tak."' in screen.doc.entries[0].text
        )  # type: ignore[union-attr]
        await pilot.press("alt+x")
        await wait_until(pilot, lambda: b"Tak." not in screen.doc.entries[0].text)  # type: ignore[union-attr]
        assert '"content": "Dalej?"' in preview_text(screen)


async def test_every_action_is_in_help_and_palette(tmp_path: Path) -> None:
    from tui.screens.help import HelpScreen

    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("DataTable")
        actions = {table.get_row_at(i)[1] for i in range(table.row_count)}  # type: ignore[attr-defined]
        expected = {"Save", "Undo", "Redo", "New", "Launch job", "System prompt for all"}
        assert (
            expected | {"Split train/validation", "Import pairs/CSV", "Duplicate example"}
            <= actions
        )
        await pilot.press("escape", "ctrl+p", *"split train")
        await wait_until(
            pilot,
            lambda: (
                "Split train/validation"
                in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
            ),
        )  # type: ignore[attr-defined]


async def test_import_export_and_split(tmp_path: Path) -> None:
    path = tmp_path / "grammar.jsonl"
    write_dataset(path, n=20)
    pairs = tmp_path / "more.txt"
    pairs.write_text(
        "Kot, być, mały; Kot jest mały.\nPies, biegać; Pies biega.\n", encoding="utf-8"
    )
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("f5", *str(pairs), "enter")
        await wait_until(pilot, lambda: len(screen.doc or ()) == 22)
        assert screen.doc is not None
        added = json.loads(screen.doc.entries[21].text)["messages"]
        assert added[0] == {"role": "system", "content": SYSTEM}  # the dataset default
        await pilot.press("ctrl+z")
        assert len(screen.doc) == 20
        await pilot.press("f8", "enter")  # suggested name: grammar.export.jsonl
        exported = tmp_path / "grammar.export.jsonl"
        await wait_until(pilot, lambda: exported.exists())
        assert exported.read_bytes() == path.read_bytes()
        await pilot.press("f9", "enter")  # validation share 0.1, seed 42
        train, valid = tmp_path / "grammar.train.jsonl", tmp_path / "grammar.valid.jsonl"
        await wait_until(pilot, lambda: train.exists() and valid.exists())
        assert len(valid.read_bytes().splitlines()) == 2
        assert sorted(train.read_bytes().splitlines() + valid.read_bytes().splitlines()) == sorted(
            path.read_bytes().splitlines()
        )


async def test_a_file_that_is_no_dataset_gives_one_line_and_a_new_dataset(tmp_path: Path) -> None:
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\x00\x00\x00binary")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        notice = str(screen.query_one("#notice").render())
        assert notice.startswith(f"{path}: the file is binary")
        assert app.dataset_path is None and screen.doc is not None and len(screen.doc) == 1


async def test_launch_key_saves_then_opens_the_launch_form(tmp_path: Path) -> None:
    from tui.screens.launch import LaunchScreen

    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "end", *" nowy", "ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        assert b"nowy" in path.read_bytes() and screen.doc is not None and not screen.doc.dirty
        assert app.workspace.saved_path == path


async def test_screen_keys_work_before_the_dataset_has_loaded(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen.focused, ExamplesList)  # not a text field
        await pilot.press("2")
        assert type(app.screen).__name__ == "JobsScreen"


async def test_keys_typed_while_an_edit_is_handled_are_kept(tmp_path: Path) -> None:
    """Over a slow link a key can land in the field after the editor posted an edit and
    before the screen handled it; handling it must not put the older text back (seen
    over a loaded pty: the end of a typed word vanished)."""
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("f3")
        editor = screen.query_one(PairEditor)
        user = screen.query_one("#user", TextArea)
        user.focus()
        user.move_cursor(user.document.end)
        user.insert(" k")
        await pilot.pause()
        pending = PairEditor.Edited(editor.current_text() or b"", "user")
        user.insert("ość")  # typed on before the screen handles `pending`
        screen.post_message(pending)
        await wait_until(pilot, lambda: screen._refresh_timer is None)
        await pilot.pause()
        assert user.text == "Mama, ja, chcieć, ciastko 0 kość"
        assert screen.doc is not None
        assert json.loads(screen.doc.entries[0].text)["messages"][1]["content"] == user.text
        # Deleting what a still-pending edit added: the dataset follows the field.
        user.insert("!")
        pending = PairEditor.Edited(editor.current_text() or b"", "user")
        user.replace("", (0, len("Mama, ja, chcieć, ciastko 0 kość")), user.document.end)
        screen.post_message(pending)
        await wait_until(pilot, lambda: screen._refresh_timer is None)
        await pilot.pause()
        assert user.text == "Mama, ja, chcieć, ciastko 0 kość"
        assert json.loads(screen.doc.entries[0].text)["messages"][1]["content"] == user.text


async def test_stats_are_validates_figures_while_typing(tmp_path: Path) -> None:
    """Item 6: right after each key (no save, no pause for a count), the stats line shows
    what validate reports for the bytes Ctrl+S would write."""
    from tui.core.validate import validate_bytes

    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("enter", "tab", "end", *" hello world")
        doc = screen.doc
        assert doc is not None and b"hello world" in doc.to_bytes()
        report = validate_bytes(doc.to_bytes(), app.workspace.model.name, filename=str(path))
        line = str(screen.query_one("#stats").render())
        assert f"{report.tokens.total:,} tokens" in line
        assert report.estimate is not None
        assert f"{report.estimate.n_epochs} epochs" in line


async def test_ctrl_n_adds_the_new_example_at_the_end(tmp_path: Path) -> None:
    """Item 9: the key says New and the help says new example: it goes at the end."""
    path = tmp_path / "pairs.jsonl"
    write_dataset(path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+n")
        assert screen.doc is not None and len(screen.doc) == 13
        assert screen.current == 12
        assert json.loads(screen.doc.entries[12].text)["messages"][1:] == [
            {"role": "user", "content": ""},
            {"role": "assistant", "content": ""},
        ]
