"""The Dataset screen's views and edits: layout, loading, background checks and token
counts, crash recovery, selection, editing and the filter.

DatasetScreen (dataset.py) adds the file actions, the commands and the key bindings.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import DescendantFocus, Key, Resize
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from tui.appref import tunebench_app
from tui.core.editing import Document, Entry
from tui.core.formats import JSONL_FORMATS, UnusableInput
from tui.core.lazydoc import LazyDocument
from tui.core.models import BaseModel
from tui.core.workspace import ADDED, OPENED, Opened, Workspace
from tui.errors import UsageError
from tui.messages import WorkspaceChanged
from tui.screens.base import MainScreen
from tui.widgets.examples_list import ExamplesList
from tui.widgets.jsonl_preview import JsonlPreview
from tui.widgets.problems_panel import ProblemsPanel
from tui.widgets.stats_line import StatsLine, stats_text
from tui.widgets.virtual_list import VirtualList

if TYPE_CHECKING:
    from tui.core.recovery import Recovery
    from tui.widgets.pair_editor import PairEditor

NARROW = 120  # below this width the panes become tabs
SHORT = 24  # below this height the preview shrinks so both fields stay visible
DEBOUNCE = 0.1  # seconds between a keystroke and the problems/list/stats update
AUTOSAVE = 0.8  # seconds from the first unsaved edit to the recovery file
PAINT_WAIT = 0.5  # seconds the check waits for the list's first paint (when it is not shown)
PANES = ("list", "edit", "problems")
READ_AT_ONCE_BYTES = 256 * 1024  # a regular file up to this size is read on the UI thread
_MESSAGE_INDEX = re.compile(r"messages\[(\d+)\]")


class DatasetView(MainScreen):
    """Examples list, pair editor, live JSONL preview, problems and stats of one dataset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = 0
        self._refresh_timer: Timer | None = None
        self._autosave_timer: Timer | None = None
        self._status = ""
        self._busy = ""  # a long operation on the file and its share done
        self._stats = ""
        self._error = ""  # why the file asked for could not be opened
        self._notice_text = ""
        self._while_empty = ""  # the part of the notice true only until an example is added
        self._full_refresh = True
        self._pane = "list"  # the list has the focus first (AUTO_FOCUS)
        self._recovery_error = False  # a recovery write failed and was reported
        self._shown: Document | None = None  # the document the views were last filled from
        self._before_paint: Document | None = None  # shown, its first frame not yet painted
        self._first_read: tuple[Path | None, tuple[Opened | None, BaseException | None]] | None
        self._first_read = None
        # The editor, preview and problems panes; at narrow sizes, where the first frame shows
        # only the list, they are mounted right after that frame is painted (see _mount_panes).
        self.panes_ready = asyncio.Event()
        self._panes_mounting = False

    # ------------------------------------------------------------------ the workspace

    @property
    def workspace(self) -> Workspace:
        """The app's open dataset: this screen shows and edits it, others read it."""
        return tunebench_app(self).workspace

    @property
    def doc(self) -> Document | None:
        return self.workspace.doc

    @property
    def path(self) -> Path | None:
        return self.workspace.path

    @property
    def model(self) -> BaseModel:
        return self.workspace.model

    # ------------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        # The layout's classes are set before the panes are styled, so none is styled twice.
        layout = self._layout_classes(*self.app.size)
        self._set_layout(self._pane, layout)
        later = layout["-narrow"]  # only the list is on the first frame
        path = tunebench_app(self).dataset_path
        if path is None or _read_at_once(path):
            # Read now, so the editor is made for what it will show (no restyle after).
            self._first_read = (path, self._open(path))
        yield StatsLine("Loading…", id="stats")
        yield Static("", id="notice")
        yield Static(self._tabs(), id="pane-tabs")
        with Horizontal(id="panes"):
            with Vertical(id="list-pane"):
                yield Static("Examples  [dim]F2 · / filter[/]", classes="pane-title")
                yield Input(id="filter", placeholder="filter: text, or code:NAME (Esc clears)")
                yield ExamplesList(id="examples")
            with Vertical(id="edit-pane"):
                if not later:
                    opened = self._first_read[1][0] if self._first_read else None
                    yield from self._edit_pane(example=opened is not None and bool(opened.doc))
        with Vertical(id="problems-pane"):
            if not later:
                yield from self._problems_pane()
        if not later:
            self._panes_mounting = True  # mounted with the screen

    @staticmethod
    def _edit_pane(*, example: bool) -> list[Widget]:
        """The editor (disabled without an example to show) and the preview."""
        # The editor's module (Textual's TextArea) is loaded when the pane is first made.
        from tui.widgets.pair_editor import PairEditor

        return [
            PairEditor(id="editor", disabled=not example),
            Vertical(JsonlPreview(id="preview"), id="preview-box"),
        ]

    @staticmethod
    def _problems_pane() -> list[Widget]:
        title = "Problems  [dim]F4 · Enter jumps to the example · f filters by code[/]"
        return [Static(title, classes="pane-title"), ProblemsPanel(id="problems")]

    def on_mount(self) -> None:
        self._layout(self.size.width, self.size.height)
        if self._panes_mounting:  # composed with the screen
            self.panes_ready.set()
        self.load(tunebench_app(self).dataset_path)
        if self.doc is None and self.panes_ready.is_set():
            self._pair_editor().load(None, default_system="")  # until the file is read

    async def ready_for_keys(self) -> None:
        """A key that comes before the panes are mounted waits for them: every key finds the
        whole screen, in order."""
        await self.ensure_panes()

    async def ensure_panes(self) -> None:
        """Mount the editor, preview and problems panes if they are not yet; return when
        they are (their content filled in)."""
        if self._panes_mounting:
            await self.panes_ready.wait()
            return
        self._panes_mounting = True
        await self.query_one("#edit-pane").mount_all(
            self._edit_pane(example=self._entry() is not None)
        )
        await self.query_one("#problems-pane").mount_all(self._problems_pane())
        if not self._pair_editor().is_mounted:
            return  # the app closed while they were being mounted
        self._panes_mounted()

    def _panes_mounted(self) -> None:
        """Fill the panes just mounted with what the screen shows."""
        self.panes_ready.set()
        doc = self._shown
        if doc is not None and doc is self.doc:
            self._fill_panes(doc)
            self._show_current()
        else:
            self._pair_editor().load(None, default_system="")

    def _pair_editor(self) -> PairEditor:
        from tui.widgets.pair_editor import PairEditor

        return self.query_one(PairEditor)

    def _fill_panes(self, doc: Document) -> None:
        own_lines = doc.source_format not in JSONL_FORMATS
        self._pair_editor().lines_of = doc if own_lines else None
        self.query_one(ProblemsPanel).show(doc)

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width, event.size.height)
        if not self._panes_mounting and event.size.width >= NARROW:
            self.call_later(self.ensure_panes)  # widened before they were mounted

    @staticmethod
    def _layout_classes(width: int, height: int) -> dict[str, bool]:
        # Short: the JSONL preview gives its rows to the input and output fields.
        return {"-narrow": width < NARROW, "-short": height < SHORT}

    def _layout(self, width: int, height: int) -> None:
        self._show_pane(self._pane, self._layout_classes(width, height))

    def _set_layout(self, pane: str, layout: dict[str, bool] | None = None) -> bool:
        """Set the classes of the layout and of the pane shown; True if any changed."""
        self._pane = pane
        wanted = {**(layout or {}), **{f"-show-{name}": name == pane for name in PANES}}
        if all(self.has_class(name) == wanted_on for name, wanted_on in wanted.items()):
            return False
        for name, wanted_on in wanted.items():
            self.set_class(wanted_on, name, update=False)
        return True

    def _show_pane(self, pane: str, layout: dict[str, bool] | None = None) -> None:
        if self._set_layout(pane, layout):
            self.update_node_styles()  # one restyle of the screen for all the changes
        self.query_one("#pane-tabs", Static).update(self._tabs())

    def _tabs(self) -> str:
        labels = {"list": "F2 Examples", "edit": "F3 Edit", "problems": "F4 Problems"}
        return "  ".join(
            f"[reverse b] {labels[name]} [/]" if name == self._pane else f" {labels[name]} "
            for name in PANES
        )

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        for pane in PANES:
            node: Any = event.widget
            while node is not None and node is not self:
                if getattr(node, "id", None) == f"{pane}-pane":
                    if pane != self._pane:
                        self._show_pane(pane)
                    return
                node = node.parent

    def action_pane(self, pane: str) -> None:
        self._show_pane(pane)
        if pane == "list":
            self.query_one(ExamplesList).focus()
        elif pane == "problems":
            self.query_one(ProblemsPanel).focus()
        else:
            self._pair_editor().focus_field("user")

    # ------------------------------------------------------------------ loading

    def load(self, path: Path | None) -> None:
        self.workspace.close()
        self._update_stats()
        first, self._first_read = self._first_read, None
        if first is not None and first[0] == path:
            self._take(*first[1])  # read while the screen was composed
        elif path is None or _read_at_once(path):
            # A small file is read here, before the next frame: no thread, and no frame that
            # says Loading… a moment before the examples.
            self._take(*self._open(path))
        else:
            self._read(path)

    def _open(self, path: Path | None) -> tuple[Opened | None, BaseException | None]:
        """The file read (or a new dataset), or why it cannot be opened."""
        try:
            return self.workspace.read(path), None
        except (UnusableInput, OSError, UsageError) as exc:
            if isinstance(exc, UnusableInput):
                return None, UsageError(f"{path}: {exc}")
            return None, exc

    @work(
        thread=True,
        exclusive=True,
        group="dataset-load",
        exit_on_error=False,
        description="dataset-load",
    )
    def _read(self, path: Path | None) -> None:
        self.app.call_from_thread(self._take, *self._open(path))

    def _take(self, opened: Opened | None, error: BaseException | None) -> None:
        if opened is not None:
            self._opened(opened)
        elif error is not None:
            self._open_failed(error)

    def _open_failed(self, error: BaseException) -> None:
        """A file that cannot be opened: one line inline and as a notification."""
        message = tunebench_app(self).report_error(error)
        if self.doc is None:  # nothing open yet: start a new dataset under the error
            self._error = message
            self._take(*self._open(None))
        else:
            self._notice(message)

    def _opened(self, opened: Opened) -> None:
        self.workspace.use(opened)
        self._show_document()
        notices = [self._error] if self._error else []
        self._error = ""
        if opened.read_only:
            notices.append(f"{opened.path}: read-only. Edits can be saved elsewhere (Ctrl+S asks).")
        if opened.other_instance is not None:
            notices.append(
                f"{opened.path.name if opened.path else 'This dataset'} is also open in another "
                f"tunebench (process {opened.other_instance}): saving here overwrites its "
                "saves, and the other way round."
            )
        self._while_empty = ""
        if opened.path is not None and not opened.doc.entries:
            self._while_empty = f"{opened.path.name} is empty: Ctrl+N adds the first example."
            notices.append(self._while_empty)
        if opened.path is None:
            notices.append(
                "New dataset: Enter edits the first pair, Ctrl+N adds one. "
                "Ctrl+O opens a file (or start with `tunebench FILE`)."
            )
        self._notice(" ".join(notices))
        if opened.recovery is not None:
            self._offer_restore(opened.recovery)

    def _show_document(self, select: int | None = None) -> None:
        """Show the workspace's (new) document: list, problems, and in the editor entry
        `select` (None: the first line that is no comment)."""
        doc = self.doc
        if doc is None:
            return
        if select is None:
            kinds = (doc.entries[i].kind for i in range(min(1000, len(doc))))
            select = next((i for i, kind in enumerate(kinds) if kind != "comment"), 0)
        self._shown = doc
        if self.panes_ready.is_set():
            self._fill_panes(doc)
        self.query_one(ExamplesList).show(doc)
        self.query_one(Input).value = ""
        self.query_one(Input).remove_class("-active")
        self.select(min(select, max(0, len(doc) - 1)))
        self.query_one(ExamplesList).focus()
        self._update_stats()
        # The first frame with the examples goes out before the other panes are mounted and
        # before the background check competes for the GIL: both wait for the list's paint
        # (or, if the list is not on screen, a moment).
        self._before_paint = doc
        self.set_timer(PAINT_WAIT, partial(self._after_first_paint, doc))

    @on(ExamplesList.Painted)
    async def _list_painted(self) -> None:
        # While the app starts its frames are held back, to be shown as its first (Ready).
        if self._before_paint is not None and tunebench_app(self).first_frame_shown:
            await self._after_first_paint(self._before_paint)

    async def after_first_frame(self) -> None:
        """The app's first frame is on the terminal (the app calls this)."""
        if self._before_paint is not None:
            await self._after_first_paint(self._before_paint)

    async def _after_first_paint(self, doc: Document) -> None:
        if self._before_paint is not doc:
            return  # done already, or another document is shown since
        self._before_paint = None
        await self.ensure_panes()
        if self.panes_ready.is_set():  # (not if the app closed meanwhile)
            self._check_and_count(doc)

    def _notice(self, text: str) -> None:
        self._notice_text = text
        notice = self.query_one("#notice", Static)
        notice.update(text)
        notice.set_class(bool(text), "-active")

    @work(
        thread=True,
        exclusive=True,
        group="dataset-check",
        exit_on_error=False,
        description="dataset-check",
    )
    def _check_and_count(self, doc: Document) -> None:
        """First full check, then token counts: in chunks, applied on the UI thread."""
        if isinstance(doc, LazyDocument):
            self._scan_big(doc)
            return
        if not doc.checked:
            doc.check_all(lambda chunk: self.app.call_from_thread(self._apply_checks, doc, chunk))
            self.app.call_from_thread(self._checked, doc)
        self._count_all(doc)

    def _scan_big(self, doc: LazyDocument) -> None:
        """A big file (worker thread): check and count it as `validate` does, in worker
        processes, each chunk's totals applied on the UI thread as it comes; the list grows
        as the same chunks index its lines. The file's hash is made last: the figures come
        first."""
        from textual.worker import get_current_worker

        from tui.core.lazydoc import scan_results
        from tui.core.tokens import TokenCounter

        worker = get_current_worker()
        app = self.app
        if doc.counter is None:  # edits count their own tokens from the first key
            counter = TokenCounter(self.model.encoding)
            limit = self.model.example_token_limit
            app.call_from_thread(doc.use_counter, counter, limit, self.model.name)
        if doc.checked:
            return
        source = doc.source
        checks = source.checks

        def stop() -> bool:
            return worker.is_cancelled or doc.source.checks is not checks

        workers = max(1, len(os.sched_getaffinity(0)))
        for result, end, progress in scan_results(doc, self.model, workers, stop):
            app.call_from_thread(self._apply_scan, doc, checks, result, end, progress)
        if checks.complete:
            app.call_from_thread(self._scan_finished, doc, checks)
        if not worker.is_cancelled and doc.source is source:
            app.call_from_thread(self.workspace.hashed, doc, source.index.sha256())

    def _grown(self, doc: LazyDocument) -> None:
        """Take in the lines the scan indexed since."""
        if doc.grow() and doc is self.doc:
            self._full_refresh = True
        if doc.complete and doc is self.doc:
            self.workspace.add_pending()

    def _apply_scan(
        self, doc: LazyDocument, checks: Any, result: Any, end: int, progress: float
    ) -> None:
        if doc.source.checks is not checks:
            return  # re-based on a save since; a new scan runs
        self._grown(doc)
        doc.apply_scan(result, end, progress)
        if doc is self.doc:
            self._schedule_refresh()

    def _scan_finished(self, doc: LazyDocument, checks: Any) -> None:
        if doc.source.checks is not checks:
            return
        self._grown(doc)
        doc.finish_scan()
        if doc is self.doc and self.panes_ready.is_set():
            self.query_one(ProblemsPanel).show(doc, force=True)
            self._show_current()
        if doc is self.doc:
            self._update_stats()  # the whole figures, at once
            self._schedule_refresh()

    def _apply_checks(self, doc: Document, chunk: list[Any]) -> None:
        doc.apply_checks(chunk)
        if doc is self.doc:
            self._schedule_refresh()

    def _checked(self, doc: Document) -> None:
        doc.checked = True
        if doc is self.doc and self.panes_ready.is_set():
            self.query_one(ProblemsPanel).show(doc, force=True)
            self._show_current()
            self._schedule_refresh()

    def _count_all(self, doc: Document) -> None:
        from tui.core.tokens import TokenCounter, example_tokens

        counter = TokenCounter(self.model.encoding)
        # From here on every edit counts its own entry as it is made (on the UI thread, with
        # its own counter): the totals stay exact while this pass runs.
        limit = self.model.example_token_limit
        ui_counter = TokenCounter(self.model.encoding)
        self.app.call_from_thread(doc.use_counter, ui_counter, limit, self.model.name)
        dpo = doc.fmt == "dpo"
        chunk: list[tuple[Entry, bytes, int]] = []

        def flush() -> None:
            self.app.call_from_thread(self._apply_tokens, doc, list(chunk))
            chunk.clear()

        for entry in list(doc.entries):
            text = entry.text
            obj = entry.parse()
            if obj is None:
                continue
            chunk.append((entry, text, example_tokens(obj, counter, dpo=dpo)[0]))
            if len(chunk) >= 5000:
                flush()
        flush()
        self.app.call_from_thread(self._tokens_ready, doc)

    def _apply_tokens(self, doc: Document, chunk: list[tuple[Entry, bytes, int]]) -> None:
        current = self._entry() if doc is self.doc else None
        limit = self.model.example_token_limit
        for entry, text, tokens in chunk:
            doc.set_tokens(entry, text, tokens, limit)
            if entry is current:
                self._preview(doc, entry, self.current)

    def _tokens_ready(self, doc: Document) -> None:
        doc.tokens_ready = True
        if doc is self.doc:
            self._schedule_refresh()

    # ------------------------------------------------------------------ recovery

    def _offer_restore(self, recovery: Recovery) -> None:
        from tui.core.recovery import discard_found, restore
        from tui.screens.dataset_modals import ChoiceModal

        def answered(answer: str | None) -> None:
            if answer == "restore" and self.doc is not None:
                self.workspace.replace_document(restore(self.doc, recovery))
                discard_found(recovery)
                self.notify("Unsaved edits restored; Ctrl+S saves them.")
                self._schedule_autosave()
            elif answer == "beside" and self.doc is not None:
                self._save_recovered(self.doc, recovery)
            elif answer == "discard":
                discard_found(recovery)

        name = self.path.name if self.path else "the new dataset"
        body = (
            f"tunebench stopped with unsaved edits to {name} "
            f"({recovery.changed} changed line(s)). Restore them?"
        )
        choices = [("discard", "Discard"), ("restore", "Restore")]
        focus = "restore"
        if recovery.base_changed:
            body = (
                f"tunebench stopped with unsaved edits to {name} ({recovery.changed} changed "
                f"line(s)), and {name} has changed on disk since. Restore them over the new "
                "file, save the recovered copy beside it, or discard them?"
            )
            choices = [("discard", "Discard"), ("beside", "Save beside"), ("restore", "Restore")]
            focus = "beside"
        self.app.push_screen(
            ChoiceModal("Restore unsaved edits?", body, choices, focus=focus), answered
        )

    @work(thread=True, group="dataset-recovered", exit_on_error=False, description="recovered")
    def _save_recovered(self, doc: Document, recovery: Recovery) -> None:
        """Write a recovery beside the dataset, as `NAME.recovered.jsonl`."""
        from tui.core.atomic import write_atomic
        from tui.core.recovery import discard_found, recovered_bytes
        from tui.errors import UsageError, write_failure

        base = self.path or Path("dataset.jsonl")
        target = base.with_name(f"{base.stem}.recovered.jsonl")
        try:
            write_atomic(target, recovered_bytes(doc, recovery), mode=0o600)
        except OSError as exc:
            failure = UsageError(write_failure(f"save the recovered edits as {target}", exc))
            self.app.call_from_thread(tunebench_app(self).report_error, failure)
            return
        discard_found(recovery)
        self.app.call_from_thread(self.notify, f"Recovered edits saved as {target}.")

    def _schedule_autosave(self) -> None:
        if self._autosave_timer is None:
            self._autosave_timer = self.set_timer(AUTOSAVE, self._autosave)

    def _autosave(self) -> None:
        self._autosave_timer = None
        doc = self.doc
        if doc is not None and doc.dirty:
            self._write_recovery(doc, doc.save_point())

    @work(
        thread=True, group="dataset-autosave", exit_on_error=False, description="dataset-autosave"
    )
    def _write_recovery(self, doc: Document, entries: Any) -> None:
        try:
            self.workspace.write_recovery(doc, entries)
        except OSError as exc:
            self.app.call_from_thread(self._recovery_failed, exc)
            return
        self.app.call_from_thread(self._recovery_written, doc)

    def _recovery_written(self, doc: Document) -> None:
        self._recovery_error = False
        if doc is self.doc and not doc.dirty:  # saved or undone while it was written
            self.workspace.discard_recovery()

    def _recovery_failed(self, exc: OSError) -> None:
        """Once until a write succeeds again: the edits are still here, only not safe from
        a crash."""
        if self._recovery_error:
            return
        self._recovery_error = True
        from tui.errors import UsageError, write_failure

        what = "keep a crash copy of your edits"
        tunebench_app(self).report_error(
            UsageError(f"{write_failure(what, exc)}; they are still here: save them (Ctrl+S)")
        )

    def _forget_recovery(self) -> None:
        """The document holds what the file holds again: nothing to recover."""
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
            self._autosave_timer = None
        self.workspace.discard_recovery()

    # ------------------------------------------------------------------ selection

    def select(self, index: int, *, focus: str | None = None) -> None:
        """Show entry `index` in the editor and preview, and put the list cursor on it."""
        doc = self.doc
        if doc is None:
            return
        # Opening an example from the list or problems puts the cursor at its end.
        editing = self._editing(self.focused)
        other = index != self.current or (focus is not None and not editing)
        self.current = index
        examples = self.query_one(ExamplesList)
        row = examples.row_of(index)
        if row is not None and row != examples.cursor:
            examples.move_to(row, notify=False)
        self._show_current(reload_editor=True, other=other)
        if focus is not None:
            self._pair_editor().focus_field(focus)

    def _entry(self) -> Entry | None:
        doc = self.doc
        if doc is None or not doc.entries:
            return None
        self.current = max(0, min(self.current, len(doc) - 1))
        return doc.entries[self.current]

    def _show_current(
        self, *, reload_editor: bool = True, force_raw: bool = False, other: bool = False
    ) -> None:
        """Show the current entry; `other`: it is another example than the one shown."""
        if not self.panes_ready.is_set():
            return  # shown when the panes are mounted
        entry = self._entry()
        if reload_editor and self.doc is not None:
            self._pair_editor().load(
                entry, default_system=self.doc.default_system, force_raw=force_raw, other=other
            )
        if self.doc is not None:
            self._preview(self.doc, entry, self.current)
        else:
            self.query_one(JsonlPreview).show(entry, 0)

    def _preview(self, doc: Document, entry: Entry | None, index: int) -> None:
        """The preview of entry `index`, with what the whole file says of it (a repeat)."""
        if not self.panes_ready.is_set():
            return
        repeat = doc.duplicate_of(index) if entry is not None else None
        self.query_one(JsonlPreview).show(entry, doc.line_of(index), (repeat,) if repeat else ())

    @on(VirtualList.Highlighted, "#examples")
    def _example_highlighted(self, event: VirtualList.Highlighted) -> None:
        examples = self.query_one(ExamplesList)
        index = examples.entry_index(event.row)
        other, self.current = index != self.current, index
        self._show_current(other=other)

    async def take_key(self, event: Key) -> bool:
        """Keys that move the focus (Enter on an example or a problem, Ctrl+N, F3, Esc, Tab
        in the editor) act as they arrive: the focus has moved before the next key is
        routed, so keys typed right after land where the user expects, in order. So do the
        lists' own keys (arrows, Home, End), which Textual would run only after the keys
        queued behind."""
        key = event.key
        focused = self.focused
        active = self.active_bindings.get(key)
        if key == "enter" and isinstance(focused, ExamplesList) and focused.row_count:
            self._open_example(focused.cursor)
        elif key == "enter" and isinstance(focused, ProblemsPanel) and focused.row_count:
            self._open_problem(focused.cursor)
        elif key == "ctrl+n":
            self.action_new_example()
        elif key == "f3":
            self.action_pane("edit")
        elif key == "escape" and not isinstance(focused, ExamplesList):
            self.action_back()
        elif key in ("tab", "shift+tab") and self._editing(focused):
            if key == "tab":
                self.focus_next()
            else:
                self.focus_previous()
        elif (
            isinstance(focused, VirtualList)
            and active is not None
            and active.enabled
            and active.node is focused
        ):
            await self.app.run_action(active.binding.action, focused)
        else:
            return False
        return True

    def _editing(self, focused: Widget | None) -> bool:
        """The focus is in the editor's fields (Tab there moves to the next field)."""
        return (
            focused is not None
            and self.panes_ready.is_set()
            and self._pair_editor() in focused.ancestors
        )

    @on(VirtualList.Selected, "#examples")
    def _example_selected(self, event: VirtualList.Selected) -> None:
        self._open_example(event.row)

    def _open_example(self, row: int) -> None:
        examples = self.query_one(ExamplesList)
        self.select(examples.entry_index(row), focus="user")
        self._show_pane("edit")

    @on(VirtualList.Selected, "#problems")
    def _problem_selected(self, event: VirtualList.Selected) -> None:
        self._open_problem(event.row)

    def _open_problem(self, row: int) -> None:
        index, finding = self.query_one(ProblemsPanel).row(row)
        if self.doc is None:
            return
        if index < 0:  # a whole-file problem: show the examples it is about, if any
            if finding.code == "duplicate_example":
                self.filter_by_code(finding.code)
                self.query_one(ExamplesList).focus()
            return
        examples = self.query_one(ExamplesList)
        if examples.row_of(index) is None:
            self._apply_filter("")
        self.select(index)
        self._show_pane("edit")
        self._pair_editor().focus_field(*self._field_of(index, finding.message))

    def _field_of(self, index: int, message: str) -> tuple[str, int | None]:
        """The editor field a problem message points at: (role, message index)."""
        match = _MESSAGE_INDEX.search(message)
        if match is None or self.doc is None:
            return "user", None
        k = int(match.group(1))
        obj = self.doc.entries[index].parse()
        try:
            role = obj["messages"][k]["role"]
        except (TypeError, KeyError, IndexError):
            return "user", k
        return (role if role in ("system", "user", "assistant") else "user"), k

    # ------------------------------------------------------------------ editing

    def on_pair_editor_edited(self, event: PairEditor.Edited) -> None:
        from tui.widgets.pair_editor import SOURCE_LINE

        doc = self.doc
        if doc is None or not doc.entries:
            return
        index = self.current
        entry = doc.replace(
            index, event.text, key=(index, event.field), source_line=event.field == SOURCE_LINE
        )
        editor = self._pair_editor()
        typed_on = event.field != "messages" and editor.current_text() != event.text
        if typed_on:
            # Keys landed in the field after this edit was posted (a slow link, a busy
            # machine): reloading would put the older text back over them. Their own
            # edit follows (adopt posts it) and reloads then.
            editor.adopt(entry, event.field)
        else:
            editor.load(entry, default_system=doc.default_system, force_raw=editor.raw_mode)
        self._preview(doc, entry, index)
        self._changed(entry, row_only=True)

    def _changed(self, entry: Entry | None = None, *, row_only: bool = False) -> None:
        """After any edit: debounced views, a token count, the recovery file.

        row_only: only the current entry changed (typing), so the list redraws one row.
        """
        self._full_refresh = self._full_refresh or not row_only
        self._update_stats()  # O(1): the stats are never a debounce behind the text
        self._schedule_refresh()
        if self.doc is not None and not self.doc.dirty:
            self._forget_recovery()
        else:
            self._schedule_autosave()

    def _schedule_refresh(self) -> None:
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(DEBOUNCE, self._refresh_views)

    def _refresh_views(self) -> None:
        self._refresh_timer = None
        doc = self.doc
        if doc is None:
            return
        examples = self.query_one(ExamplesList)
        if self._full_refresh:
            examples.refresh_rows()
        else:
            examples.refresh_entry(self.current)
        self._full_refresh = False
        if self.panes_ready.is_set():
            self.query_one(ProblemsPanel).show(doc)
        self._update_stats()
        if self.app.screen is not self and self in self.app.screen_stack:
            # A dialog is open over this screen (the restore offer arrives before the first
            # check ends): repaint it, or the screen showing through it stays stale.
            self.app.screen.refresh()

    def _update_stats(self) -> None:
        state = ""
        if self.doc is not None:
            if self.workspace.read_only:
                state = "read-only"
            elif self.doc.dirty:
                state = "unsaved"
            elif self.path is not None:
                state = "saved"
        for part in (self._status, self._busy):
            if part:
                state = f"{state} · {part}" if state else part
        doc = self.doc
        checking = doc is not None and not doc.checked
        progress = None
        if isinstance(doc, LazyDocument) and not doc.checked:
            progress = (len(doc), doc.scan_progress)
        app = tunebench_app(self)
        local = app.loaded.is_local(app.profile_name)
        text = stats_text(
            self.workspace.stats(),
            self.model,
            checking=checking,
            state=state,
            progress=progress,
            local=local,
        )
        if text != self._stats:
            self._stats = text
            self.query_one(StatsLine).show(text)

    def _after_op(self, index: int | None) -> None:
        if index is None or self.doc is None:
            return
        examples = self.query_one(ExamplesList)
        if examples.view is not None and examples.row_of(index) is None:
            examples.show(self.doc, None)
            self.query_one("#filter", Input).remove_class("-active")
        else:
            examples.refresh_rows()
        self.select(index)
        self._changed(self._entry())
        if self._while_empty and self.doc.entries:  # the first example is in: no longer empty
            self._notice(" ".join(self._notice_text.replace(self._while_empty, "").split()))
            self._while_empty = ""

    def action_undo(self) -> None:
        if self.doc is None or not self.doc.can_undo:
            self.notify("Nothing to undo.")
            return
        self._after_op(self.doc.undo())

    def action_redo(self) -> None:
        if self.doc is None or not self.doc.can_redo:
            self.notify("Nothing to redo.")
            return
        self._after_op(self.doc.redo())

    def action_new_example(self) -> None:
        if self.doc is None:
            return
        if isinstance(self.doc, LazyDocument) and not self.doc.complete:
            self.notify("The file is still being read; Ctrl+N adds at its end in a moment.")
            return
        index = len(self.doc)  # at the end, as the key's label and the help say
        self.doc.insert(index, [self.doc.new_example_text(index)])
        self._after_op(len(self.doc) - 1)  # (an empty CSV got its header before it)
        self._show_pane("edit")
        self._pair_editor().focus_field("user")

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        """Changes made outside this screen: a restore, an example from the Playground."""
        if message.what == OPENED and self.doc is not self._shown:
            self._show_document(self.current)
        elif message.what == ADDED and message.index is not None:
            self._after_op(message.index)

    def action_duplicate(self) -> None:
        entry = self._entry()
        if entry is None or self.doc is None:
            return
        self.doc.insert(self.current + 1, [entry.text])
        self._after_op(self.current + 1)

    def _keeps_system_line(self, *indexes: int) -> bool:
        """Refuse (with a word) to delete or move a pairs `# system:` line: the pairs below
        it would silently get another system prompt."""
        doc = self.doc
        if doc is not None and any(doc.is_system_line(i) for i in indexes):
            self.notify(
                "This line sets the system prompt of the pairs below it; "
                "change it with Ctrl+T (system prompt for all).",
                severity="warning",
            )
            return True
        return False

    def action_delete(self) -> None:
        if self._entry() is None or self.doc is None or self._keeps_system_line(self.current):
            return
        self.doc.delete(self.current)
        if not self.doc.entries:
            self._after_op(None)
            self.query_one(ExamplesList).refresh_rows()
            self._show_current()
            self._changed()
            return
        self._after_op(min(self.current, len(self.doc) - 1))

    def action_move(self, delta: int) -> None:
        if self._entry() is None or self.doc is None:
            return
        target = self.current + delta
        if 0 <= target < len(self.doc) and not self._keeps_system_line(self.current, target):
            self.doc.move(self.current, target)
            self._after_op(target)

    def action_toggle_raw(self) -> None:
        editor = self._pair_editor()
        self._show_current(force_raw=not editor.raw_mode)
        if editor.raw_mode is False and editor.entry is not None:
            editor.focus_field("user")
        else:
            editor.focus_field("raw")

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("-active")
        self._show_pane("list")
        field.focus()

    def filter_by_code(self, code: str) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("-active")
        with field.prevent(Input.Changed):
            field.value = f"code:{code}"
        self._apply_filter(field.value)

    @on(ProblemsPanel.FilterByCode)
    def _filter_by_problem(self, event: ProblemsPanel.FilterByCode) -> None:
        self.filter_by_code(event.code)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one(ExamplesList).focus()

    def _apply_filter(self, query: str) -> None:
        if self.doc is None:
            return
        examples = self.query_one(ExamplesList)
        view = self.doc.matching(query) if query.strip() else None
        examples.show(self.doc, view)
        if not query.strip():
            self.query_one("#filter", Input).remove_class("-active")
        shown = len(view) if view is not None else len(self.doc)
        if view is not None:
            self._status = f"filter: {shown:,} of {len(self.doc):,}"
            if view:
                self.select(view[0])
        else:
            self._status = ""
            examples.move_to(examples.row_of(self.current) or 0, notify=False)
        self._update_stats()

    def action_back(self) -> None:
        """Esc clears an active filter; from the editor or problems it goes back to the list
        (at once, so a key typed right after Esc goes to the list, not the field)."""
        field = self.query_one("#filter", Input)
        if field.has_class("-active"):
            field.value = ""
            self._apply_filter("")
            self.set_focus(self.query_one(ExamplesList))
        elif self._pane != "list":
            self._show_pane("list")
            self.set_focus(self.query_one(ExamplesList))


def _read_at_once(path: Path) -> bool:
    """A small regular file (not a FIFO, which could block): read without a worker."""
    try:
        st = os.stat(path)
    except OSError:
        return False  # the worker reports it
    return stat.S_ISREG(st.st_mode) and st.st_size <= READ_AT_ONCE_BYTES
