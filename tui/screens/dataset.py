"""The Dataset screen: its file actions (save, open, import, export, split), commands and keys
on top of DatasetView (dataset_view.py), which shows and edits the examples."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import SystemCommand
from textual.binding import Binding

from tui.appref import tunebench_app
from tui.core.editing import Batch, Document, Entry, apply_system_batch, set_system_for_all
from tui.core.lazydoc import LazyDocument
from tui.core.models import MODELS, resolve_model
from tui.screens.dataset_view import DatasetView
from tui.widgets.examples_list import ExamplesList

# The dialogs (tui.screens.dataset_modals) and the editor's TextArea are imported where they
# are first used: the first frame needs neither, and loading them costs start-up time.

if TYPE_CHECKING:
    from tui.core.filestamp import FileStamp
    from tui.core.lazydoc import Piece, Rest
    from tui.core.workspace import Opened


class DatasetScreen(DatasetView):
    TITLE = "Dataset"
    # The list, not a text field: screen keys (1/2/3) work from the first frame.
    AUTO_FOCUS = "ExamplesList"
    DEFAULT_CSS = """
    DatasetScreen #panes { height: 1fr; }
    DatasetScreen #list-pane { width: 40; border-right: vkey $border-blurred; }
    DatasetScreen #edit-pane { width: 1fr; }
    DatasetScreen #problems-pane { height: 12; border-top: hkey $border-blurred; }
    DatasetScreen #filter { display: none; border: none; height: 1; padding: 0 1; }
    DatasetScreen #filter.-active { display: block; }
    DatasetScreen ExamplesList, DatasetScreen ProblemsPanel { height: 1fr; }
    DatasetScreen #preview-box { height: auto; max-height: 45%; border-top: hkey $border-blurred; }
    DatasetScreen #pane-tabs { display: none; height: 1; background: $panel; }
    DatasetScreen .pane-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    DatasetScreen.-narrow #pane-tabs { display: block; }
    DatasetScreen.-narrow .pane-title { display: none; }
    DatasetScreen.-narrow #list-pane, DatasetScreen.-narrow #edit-pane,
    DatasetScreen.-narrow #problems-pane { display: none; width: 1fr; border: none; }
    DatasetScreen.-narrow #problems-pane { height: 1fr; }
    DatasetScreen.-narrow.-show-problems #panes { display: none; }
    DatasetScreen.-narrow.-show-list #list-pane { display: block; }
    DatasetScreen.-narrow.-show-edit #edit-pane { display: block; }
    DatasetScreen.-narrow.-show-problems #problems-pane { display: block; }
    DatasetScreen.-narrow #preview-box { max-height: 40%; }
    DatasetScreen.-short #preview-box { max-height: 3; }
    DatasetScreen.-short #editor-note { display: none; }
    DatasetScreen.-short PairEditor #system { border: none; height: 1; padding: 0 1; }
    DatasetScreen.-short PairEditor #system-label { display: block; padding: 0 0 0 1; }
    DatasetScreen.-short PairEditor TextArea { min-height: 3; }
    DatasetScreen #notice { display: none; height: auto; background: $warning 30%; padding: 0 1; }
    DatasetScreen #notice.-active { display: block; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", priority=True, id="dataset.save"),
        Binding("ctrl+z", "undo", "Undo", priority=True, id="dataset.undo"),
        Binding("ctrl+y", "redo", "Redo", priority=True, show=False, id="dataset.redo"),
        Binding("ctrl+n", "new_example", "New", id="dataset.new"),
        Binding("ctrl+f", "filter", "Filter", id="dataset.filter"),
        Binding("ctrl+l", "launch", "Launch job", id="dataset.launch"),
        Binding("escape", "back", "Back to the list", show=False, id="dataset.back"),
        Binding("f2", "pane('list')", "Examples pane", show=False, id="dataset.pane_list"),
        Binding("f3", "pane('edit')", "Editor pane", show=False, id="dataset.pane_edit"),
        Binding("f4", "pane('problems')", "Problems pane", show=False, id="dataset.pane_problems"),
        Binding("ctrl+o", "open", "Open file", show=False, id="dataset.open"),
        Binding("ctrl+r", "toggle_raw", "Raw JSON / pair form", show=False, id="dataset.raw"),
        Binding(
            "ctrl+t",
            "system_prompt",
            "System prompt for all",
            show=False,
            id="dataset.system_prompt",
        ),
        Binding(
            "ctrl+g", "external_editor", "Edit in $EDITOR", show=False, id="dataset.external_editor"
        ),
        Binding("ctrl+b", "choose_model", "Base model", show=False, id="dataset.model"),
        Binding("f5", "import", "Import pairs/CSV", show=False, id="dataset.import"),
        Binding("f8", "export", "Export chat JSONL", show=False, id="dataset.export"),
        Binding("f9", "split", "Split train/validation", show=False, id="dataset.split"),
    ]

    _reopen_system: tuple[Path, str] | None = None  # (file, its prompt) being read again

    # ------------------------------------------------------------------ saving

    def has_unsaved(self) -> bool:
        return self.doc is not None and self.doc.dirty

    def action_save(self, then: str | None = None) -> None:
        if self.doc is None:
            return
        workspace = self.workspace
        if self.doc.needs_jsonl:
            self._offer_jsonl(self.doc.needs_jsonl)
            return
        if workspace.save_path is None or workspace.read_only:
            self._save_as(then)
            return
        self._save(workspace.save_path, force=False, then=then)

    def _save_as(self, then: str | None = None) -> None:
        from tui.screens.dataset_modals import PathModal

        if self.path is not None:
            suggestion = str(self.path)
            if self.workspace.read_only:
                suggestion = str(self.path.with_stem(self.path.stem + ".edited"))
        else:
            suggestion = "dataset.jsonl"

        def chosen(value: str | None) -> None:
            if value:
                self._save(Path(value).expanduser(), force=False, then=then, new_target=True)
            elif then == "quit":
                self.notify("Not saved, so tunebench stays open.", severity="warning")

        self.app.push_screen(
            PathModal(
                "Save as",
                f"In the file's own format ({self.workspace.format}), written atomically.",
                suggestion,
                "Save",
            ),
            chosen,
        )

    def _offer_jsonl(self, count: int) -> None:
        """Some edits are more than the file's format can hold: say so, offer JSONL."""
        from tui.screens.dataset_modals import ChoiceModal, PathModal

        name = self.path.name if self.path else "the file"
        suggestion = str(self.path.with_suffix(".jsonl")) if self.path else "dataset.jsonl"

        def chosen(value: str | None) -> None:
            if value and self.doc is not None:
                self._save_jsonl(Path(value).expanduser(), self.doc.jsonl_bytes())

        def answered(answer: str | None) -> None:
            if answer == "jsonl":
                self.app.push_screen(
                    PathModal("Save as JSONL", "Every example as a chat line.", suggestion, "Save"),
                    chosen,
                )

        self.app.push_screen(
            ChoiceModal(
                f"{name} cannot hold {count} example(s)",
                f"A {self.workspace.format} file holds one input and one output per "
                f"{'row' if self.workspace.format in ('csv', 'tsv') else 'line'}; "
                f"{count} example(s) need more (see the needs_jsonl problems). "
                f"Save the dataset as a JSONL file instead? {name} stays as it is.",
                [("cancel", "Keep editing"), ("jsonl", "Save as JSONL…")],
                focus="jsonl",
            ),
            answered,
        )

    @work(thread=True, group="dataset-save", exit_on_error=False, description="dataset-save-jsonl")
    def _save_jsonl(self, path: Path, data: bytes) -> None:
        from tui.core.atomic import write_atomic

        try:
            write_atomic(path, data)
        except OSError as exc:
            self.app.call_from_thread(self._save_failed, path, exc, None)
            return
        self.app.call_from_thread(self._saved_jsonl, path)

    def _saved_jsonl(self, path: Path) -> None:
        self.notify(f"Saved {path.name} as JSONL; it is now the open dataset.")
        self.load(path)

    @work(
        thread=True,
        exclusive=True,
        group="dataset-save",
        exit_on_error=False,
        description="dataset-save",
    )
    def _save(self, path: Path, *, force: bool, then: str | None, new_target: bool = False) -> None:
        from tui.core.atomic import write_atomic
        from tui.core.filestamp import changed_on_disk, stamp_of
        from tui.core.lazydoc import save_lazy

        doc = self.doc
        if doc is None:
            return
        workspace = self.workspace
        expected = workspace.stamp if path == workspace.save_path and not new_target else None
        if not force and (
            changed_on_disk(path, expected) if expected is not None or new_target else False
        ):
            self.app.call_from_thread(self._confirm_overwrite, path, then, new_target)
            return
        point: Any = self.app.call_from_thread(doc.save_point)
        source = None
        try:
            if isinstance(doc, LazyDocument):  # streamed: untouched runs copied in blocks
                stamp, source = save_lazy(doc, path, point)
            else:
                bom = b"\xef\xbb\xbf" if doc.has_bom else b""
                data = bom + b"".join(e.saved + e.eol for e in point)  # the file's own format
                write_atomic(path, data)
                stamp = stamp_of(path, data)
        except OSError as exc:
            self.app.call_from_thread(self._save_failed, path, exc, then)
            return
        self.app.call_from_thread(self._saved, doc, point, path, stamp, then, source)

    def _save_failed(self, path: Path, exc: OSError, then: str | None) -> None:
        """One plain line; the edits stay, unsaved (and Save and quit does not quit)."""
        from tui.errors import UsageError, write_failure

        stays = "; your edits are kept (Ctrl+P: Save dataset as… writes elsewhere)"
        if then == "quit":
            stays += "; tunebench stays open"
        message = tunebench_app(self).report_error(
            UsageError(write_failure(f"save {path.name}", exc) + stays)
        )
        self._notice(message)
        self._update_stats()

    def _confirm_overwrite(self, path: Path, then: str | None, new_target: bool) -> None:
        from tui.screens.dataset_modals import ChoiceModal

        def answered(answer: str | None) -> None:
            if answer == "overwrite":
                self._save(path, force=True, then=then, new_target=new_target)
            elif answer == "elsewhere":
                self._save_as(then)

        exists = "changed on disk since it was opened" if not new_target else "already exists"
        self.app.push_screen(
            ChoiceModal(
                "Overwrite?",
                f"{path} {exists}. Overwrite it with your version?",
                [("cancel", "Cancel"), ("elsewhere", "Save elsewhere"), ("overwrite", "Overwrite")],
                focus="cancel",
            ),
            answered,
        )

    def _saved(
        self,
        doc: Document,
        point: Any,
        path: Path,
        stamp: FileStamp,
        then: str | None,
        source: Any = None,
    ) -> None:
        self.workspace.saved(doc, point, path, stamp, source)
        if isinstance(doc, LazyDocument) and not doc.checked and doc is self.doc:
            self._check_and_count(doc)  # saved before the first scan ended: scan the new file
        self._notice("")
        self._update_stats()
        self.notify(f"Saved {path.name} ({len(doc):,} lines).")
        if then == "quit":
            self.app.exit()
        elif then == "launch":
            self._launch_job()

    # ------------------------------------------------------------------ file actions

    def action_open(self) -> None:
        from tui.screens.dataset_modals import PathModal

        def chosen(value: str | None) -> None:
            if value:
                self._open_path(Path(value).expanduser())

        self._unless_unsaved(
            lambda: self.app.push_screen(
                PathModal(
                    "Open a dataset",
                    "Chat or DPO .jsonl, pairs .txt (`input; output` a line), .csv or .tsv.",
                    button="Open",
                ),
                chosen,
            )
        )

    def _open_path(self, path: Path) -> None:
        if not path.is_file():
            self.notify(f"{path}: no such file", severity="error")
            return
        self.load(path)

    def _unless_unsaved(self, then: Callable[[], object]) -> None:
        from tui.screens.dataset_modals import ChoiceModal

        if not self.has_unsaved():
            then()
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                self.workspace.discard_recovery()
                then()

        self.app.push_screen(
            ChoiceModal(
                "Unsaved changes",
                "The open dataset has unsaved changes. Discard them?",
                [("cancel", "Cancel"), ("discard", "Discard")],
                focus="cancel",
            ),
            answered,
        )

    def confirm_quit(self) -> None:
        from tui.screens.dataset_modals import ChoiceModal

        def answered(answer: str | None) -> None:
            if answer == "save":
                self.action_save(then="quit")
            elif answer == "discard":
                self.workspace.discard_recovery()
                self.app.exit()

        self.app.push_screen(
            ChoiceModal(
                "Quit with unsaved changes?",
                "The dataset has unsaved changes.",
                [
                    ("cancel", "Cancel"),
                    ("discard", "Quit without saving"),
                    ("save", "Save and quit"),
                ],
            ),
            answered,
        )

    def action_import(self) -> None:
        from tui.screens.dataset_modals import PathModal

        def chosen(value: str | None) -> None:
            if value:
                self._import(Path(value).expanduser())

        self.app.push_screen(
            PathModal(
                "Import into this dataset",
                "Pairs .txt, .csv/.tsv or chat .jsonl; examples are appended (Ctrl+Z undoes).",
                button="Import",
            ),
            chosen,
        )

    @work(
        thread=True,
        exclusive=True,
        group="dataset-import",
        exit_on_error=False,
        description="dataset-import",
    )
    def _import(self, path: Path) -> None:
        from tui.core.formats import check_usable, detect_format

        workspace = self.workspace
        data = path.read_bytes()
        check_usable(data)
        fmt = detect_format(data, path.name)
        system = workspace.system_prompt
        other = Document.from_bytes(data, fmt, sep=workspace.separator, system=system)
        texts = [e.text for e in other.entries if e.kind != "blank"]
        self.app.call_from_thread(self._imported, path, texts)

    def _imported(self, path: Path, texts: list[bytes]) -> None:
        if self.doc is None or not texts:
            self.notify(f"{path.name}: nothing to import.", severity="warning")
            return
        index = len(self.doc)
        self.doc.insert(index, texts)
        self._after_op(index)
        self.notify(f"Imported {len(texts):,} example(s) from {path.name}.")

    def action_export(self) -> None:
        from tui.screens.dataset_modals import PathModal

        suggestion = str(self.path.with_suffix(".export.jsonl")) if self.path else "export.jsonl"

        def chosen(value: str | None) -> None:
            if isinstance(self.doc, LazyDocument) and value:
                self._export_big(Path(value).expanduser(), self.doc, self.doc.save_point())
            elif value and self.doc is not None:
                self._export(Path(value).expanduser(), self.doc.export_bytes())

        self.app.push_screen(
            PathModal(
                "Export chat JSONL",
                "Examples without errors, as they will be uploaded.",
                suggestion,
                "Export",
            ),
            chosen,
        )

    @work(thread=True, group="dataset-export", exit_on_error=False, description="dataset-export")
    def _export(self, path: Path, data: bytes) -> None:
        from tui.core.atomic import write_atomic

        write_atomic(path, data)
        lines = data.count(b"\n")
        self.app.call_from_thread(self.notify, f"Exported {lines:,} example(s) to {path}.")

    @work(thread=True, group="dataset-export", exit_on_error=False, description="dataset-export")
    def _export_big(self, path: Path, doc: LazyDocument, point: Any) -> None:
        """A big file's export, streamed from its lines (nothing held whole)."""
        from tui.core.atomic import write_atomic_with

        written: list[int] = []
        write_atomic_with(path, lambda f: written.append(doc.write_export(f, point)))
        self.app.call_from_thread(self.notify, f"Exported {written[0]:,} example(s) to {path}.")

    def action_split(self) -> None:
        from tui.screens.dataset_modals import SplitModal

        if self.doc is None:
            return
        stem = self.path.with_suffix("") if self.path else Path("dataset")
        train, valid = Path(f"{stem}.train.jsonl"), Path(f"{stem}.valid.jsonl")

        def chosen(value: tuple[float, int] | None) -> None:
            doc = self.doc
            if not value or doc is None:
                return
            if isinstance(doc, LazyDocument):  # streamed in the worker, from a save point
                self._split_big(doc, doc.save_point(), value[0], value[1], train, valid)
            else:
                self._split(list(doc.entries), value[0], value[1], train, valid)

        self.app.push_screen(SplitModal(f"{train.name} and {valid.name}"), chosen)

    @work(thread=True, group="dataset-split", exit_on_error=False, description="dataset-split")
    def _split(
        self, entries: list[Entry], share: float, seed: int, train: Path, valid: Path
    ) -> None:
        from tui.core.atomic import write_atomic
        from tui.core.split import split_bytes

        texts = [
            e.text
            for e in entries
            if e.kind == "example" and not any(f.is_error for f in e.findings)
        ]
        train_data, valid_data, n_train, n_valid = split_bytes(texts, share, seed)
        write_atomic(train, train_data)
        write_atomic(valid, valid_data)
        self._split_done(n_train, n_valid, train, valid)

    @work(thread=True, group="dataset-split", exit_on_error=False, description="dataset-split")
    def _split_big(
        self,
        doc: LazyDocument,
        point: list[Piece | Rest],
        share: float,
        seed: int,
        train: Path,
        valid: Path,
    ) -> None:
        from tui.core.atomic import write_atomic_with

        counts: list[int] = []
        write_atomic_with(
            train,
            lambda train_f: write_atomic_with(
                valid,
                lambda valid_f: counts.extend(
                    doc.write_split(train_f, valid_f, point, share, seed)
                ),
            ),
        )
        self._split_done(counts[0], counts[1], train, valid)

    def _split_done(self, n_train: int, n_valid: int, train: Path, valid: Path) -> None:
        self.app.call_from_thread(
            self.notify, f"Split: {n_train:,} in {train.name}, {n_valid:,} in {valid.name}."
        )

    def action_system_prompt(self) -> None:
        from tui.screens.dataset_modals import SystemPromptModal

        if self.doc is None:
            return
        if self.workspace.format == "pairs":
            self.notify(
                "In a pairs file the system prompt is its `# system:` line: edit that line "
                "(Ctrl+R on it); the pairs below it follow.",
                severity="warning",
            )
            return
        if isinstance(self.doc, LazyDocument):
            self._ask_system_big(self.doc)
            return

        def chosen(value: str | None) -> None:
            if value is not None and self.doc is not None:
                self._system_for_all(self.doc, value)

        self.app.push_screen(SystemPromptModal(self.doc.default_system), chosen)

    @work(
        thread=True,
        exclusive=True,
        group="dataset-system",
        exit_on_error=False,
        description="dataset-system",
    )
    def _system_for_all(self, doc: Document, new: str) -> None:
        batch = set_system_for_all(doc, new)
        self.app.call_from_thread(self._apply_system, doc, batch, new)

    def _apply_system(self, doc: Document, batch: Batch, new: str) -> None:
        apply_system_batch(doc, batch, new)
        self.query_one(ExamplesList).refresh_rows()
        self._show_current()
        self._changed(self._entry())
        self.notify(f"System prompt set on {len(batch.ops):,} example(s). Ctrl+Z undoes.")

    # A big file's Ctrl+T: an undoable edit would hold two entries per example (gigabytes
    # at 1.5M examples), so the file itself is rewritten, streamed and atomic, then read
    # again (see core/system_stream.py). In place rather than into a new file: the file
    # keeps its name, lock and place in the jobs, no second 512 MB copy is left on the
    # disk, and it is what Ctrl+S of the same edit would end in. The dialog says so first.

    def _ask_system_big(self, doc: LazyDocument) -> None:
        workspace = self.workspace
        path = workspace.save_path
        if path is None or workspace.read_only:
            name = path.name if path is not None else "The dataset"
            self.notify(
                f"{name} is read-only, and Ctrl+T on a big file rewrites the file: "
                "save it elsewhere first (Ctrl+P: Save dataset as…).",
                severity="warning",
            )
            return
        size = doc.source.index.size
        size_text = f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size / 1024:,.0f} KB"
        big = (
            f"{path.name} is big ({size_text}): applying rewrites the file itself "
            "now, streamed and atomic, your unsaved edits included, then reads it again. "
            "Ctrl+Z cannot undo it. Esc while it runs stops it and leaves the file as it was."
        )

        def chosen(value: str | None) -> None:
            if value is not None and self.doc is doc:
                self._start_system_big(doc, path, value)

        from tui.screens.dataset_modals import SystemPromptModal

        self.app.push_screen(SystemPromptModal(doc.default_system, big=big), chosen)

    def _start_system_big(self, doc: LazyDocument, path: Path, new: str) -> None:
        from tui.screens.dataset_modals import ProgressModal

        stamp = self.workspace.stamp
        point = doc.save_point()
        modal = ProgressModal(
            "System prompt for all examples",
            f"Rewriting {path.name}. Esc stops it; the file stays as it was.",
            lambda: worker.cancel(),
        )
        self.app.push_screen(modal)
        worker = self._system_big(doc, path, stamp, point, doc.default_system, new, modal)

    @work(
        thread=True,
        exclusive=True,
        group="dataset-system",
        exit_on_error=False,
        description="dataset-system-big",
    )
    def _system_big(
        self,
        doc: LazyDocument,
        path: Path,
        stamp: FileStamp | None,
        point: Any,
        old: str,
        new: str,
        modal: Any,
    ) -> None:
        from textual.worker import get_current_worker

        from tui.core.system_stream import Stopped, rewrite_system_for_all

        worker = get_current_worker()
        app = self.app
        try:
            st = os.stat(path)
        except OSError as exc:
            app.call_from_thread(self._system_failed, modal, path, exc)
            return
        if stamp is not None and (st.st_size, st.st_mtime_ns) != (stamp.size, stamp.mtime_ns):
            app.call_from_thread(self._system_refused, modal, path)
            return
        shown = [-1]

        def progress(share: float) -> None:
            percent = int(share * 100)
            if percent != shown[0]:
                shown[0] = percent
                app.call_from_thread(self._system_progress, modal, percent)

        try:
            changed = rewrite_system_for_all(
                doc,
                path,
                point,
                old,
                new,
                progress=progress,
                stop=lambda: worker.is_cancelled,
                workers=max(1, len(os.sched_getaffinity(0))),
            )
        except Stopped:
            app.call_from_thread(self._system_stopped, modal, path)
            return
        except OSError as exc:
            app.call_from_thread(self._system_failed, modal, path, exc)
            return
        if changed:
            app.call_from_thread(self._system_written, modal, path, new, changed)
        else:
            app.call_from_thread(self._system_unchanged, modal, path, new)

    def _system_progress(self, modal: Any, percent: int) -> None:
        self._busy = f"system prompt… {percent}%"
        modal.show(self._busy)
        self._update_stats()

    def _system_ended(self, modal: Any) -> None:
        self._busy = ""
        if modal.is_attached:
            modal.dismiss()
        self._update_stats()

    def _system_stopped(self, modal: Any, path: Path) -> None:
        self._system_ended(modal)
        self.notify(f"Stopped: {path.name} is as it was; your edits are still here.")

    def _system_refused(self, modal: Any, path: Path) -> None:
        from tui.errors import UsageError

        self._system_ended(modal)
        message = tunebench_app(self).report_error(
            UsageError(
                f"{path}: changed on disk since it was opened; not rewritten "
                "(open it again with Ctrl+O, or save your version first)"
            )
        )
        self._notice(message)

    def _system_failed(self, modal: Any, path: Path, exc: OSError) -> None:
        from tui.errors import UsageError, write_failure

        self._system_ended(modal)
        message = tunebench_app(self).report_error(
            UsageError(f"{write_failure(f'rewrite {path.name}', exc)}; it is as it was")
        )
        self._notice(message)

    def _system_unchanged(self, modal: Any, path: Path, new: str) -> None:
        self._system_ended(modal)
        self.notify(
            f"No example uses another system prompt than {new!r} or none: {path.name} is as it was."
        )

    def _system_written(self, modal: Any, path: Path, new: str, changed: int) -> None:
        """The file holds the new prompt: read it again (the scan counts it as validate
        does), keeping the prompt as the dataset default."""
        self._system_ended(modal)
        self.workspace.discard_recovery()  # the edits it held are in the file now
        self._reopen_system = (path, new)
        self.load(path)
        self.notify(
            f"System prompt set on {changed:,} example(s); {path.name} rewritten "
            "(Ctrl+Z cannot undo this)."
        )

    def _opened(self, opened: Opened) -> None:
        reopened, self._reopen_system = self._reopen_system, None
        if reopened is not None and opened.path == reopened[0]:
            opened.doc.default_system = reopened[1]
        super()._opened(opened)

    def action_choose_model(self) -> None:
        from tui.screens.dataset_modals import ModelModal

        options = []
        for model in MODELS:
            if "supervised" not in model.methods and "dpo" not in model.methods:
                continue
            price = model.price_per_1m_training_tokens
            cost = f"${price:g}/1M" if price is not None else "no per-token price"
            options.append((model.name, f"{model.name}  ({cost})"))

        def chosen(name: str | None) -> None:
            if name is None or self.doc is None:
                return
            self.workspace.model = resolve_model(name)
            # Another tokenizer or example limit: count again (in the worker).
            self.doc.reset_tokens()
            self._check_and_count(self.doc)
            self._update_stats()

        self.app.push_screen(ModelModal(options, self.model.name), chosen)

    def action_external_editor(self) -> None:
        from textual.widgets import TextArea

        editor = self._pair_editor()
        area = editor.focused_area() or (
            editor.query_one("#raw", TextArea)
            if editor.raw_mode
            else editor.query_one("#assistant", TextArea)
        )
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            f.write(area.text)
            name = f.name
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(command), name], check=False)
            text = Path(name).read_text(encoding="utf-8")
        finally:
            Path(name).unlink(missing_ok=True)
        if text.endswith("\n") and not area.text.endswith("\n"):
            text = text[:-1]
        area.load_text(text)

    def action_launch(self) -> None:
        if self.doc is None:
            return
        if self.doc.dirty or self.workspace.save_path is None:
            self.action_save(then="launch")
            return
        self._launch_job()

    def _launch_job(self) -> None:
        """Hand the saved file to the Jobs launch form (the app action launch_job)."""
        self.app.call_later(self.app.run_action, "launch_job")

    # ------------------------------------------------------------------ palette

    def _editor(self, action: str) -> Callable[[], object]:
        """The editor's action, looked up when run."""
        return lambda: getattr(self._pair_editor(), f"action_{action}")()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Every action of this screen, for the command palette."""
        commands = [
            ("Save dataset", "Write the dataset file (atomic)", self.action_save),
            ("Save dataset as…", "Write the dataset to another file", self._save_as),
            ("Undo", "Undo the last edit", self.action_undo),
            ("Redo", "Redo the last undone edit", self.action_redo),
            ("New example", "Add an empty example at the end", self.action_new_example),
            ("Duplicate example", "Copy this example below it", self.action_duplicate),
            ("Delete example", "Remove this example (undoable)", self.action_delete),
            ("Move example up", "Swap with the one above", lambda: self.action_move(-1)),
            ("Move example down", "Swap with the one below", lambda: self.action_move(1)),
            ("Open dataset…", "Open a .jsonl, pairs .txt, .csv or .tsv", self.action_open),
            ("Import pairs/CSV…", "Append examples from a file", self.action_import),
            ("Export chat JSONL…", "Write the examples as uploaded", self.action_export),
            ("Split train/validation…", "Two files, by seed", self.action_split),
            (
                "Set system prompt for all…",
                "Undoable (a big file is rewritten: not undoable)",
                self.action_system_prompt,
            ),
            ("Filter examples…", "By text or code:NAME", self.action_filter),
            ("Raw JSON / form", "Edit the line as JSON", self.action_toggle_raw),
            ("Add message", "A new turn after the focused one", self._editor("add_message")),
            (
                "Remove message",
                "The focused message of a multi-turn example",
                self._editor("remove_message"),
            ),
            ("Change message role", "system → user → assistant", self._editor("cycle_role")),
            ("Edit in $EDITOR", "The current text in your editor", self.action_external_editor),
            ("Choose base model…", "For tokens, epochs and cost", self.action_choose_model),
            (
                "Save dataset and launch job",
                "Save if needed, then the launch form",
                self.action_launch,
            ),
        ]
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        if self.doc is not None:
            for code, count in list(self.doc.codes().items())[:20]:
                yield SystemCommand(
                    f"Filter by problem: {code} ({count})",
                    "Show only examples with this problem",
                    partial(self.filter_by_code, code),
                )
