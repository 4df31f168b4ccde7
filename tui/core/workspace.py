"""The open dataset, owned by the app and shared by every screen.

One Workspace holds the document being edited (its entries, undo/redo, problems and running
totals), where it came from (path, format, the bytes' hash and stamp), where Ctrl+S writes,
and the base model its tokens and cost are counted for. Screens never reach into each other
for the dataset: they read this object and hear about its changes through `listen` (the app
turns each change into a Textual message, see tui/messages.py).

No Textual here: reading a file (`read`) is pure and runs in a worker; every mutation happens
on the UI thread, which is the only thread that calls the listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.editing import Document, Entry, Pair, encode_example, pair_example
from tui.core.filestamp import FileStamp
from tui.core.models import BaseModel
from tui.core.recovery import Recovery

# What changed, as the listeners hear it.
OPENED = "opened"  # a new document replaced the old one (a file, a restore, a new dataset)
EDITED = "edited"  # entries changed; `index` is the entry to show
ADDED = "added"  # an example was appended from outside the Dataset screen (the Playground)
SAVED = "saved"  # the file on disk now holds the document; path may have changed

Listener = Callable[[str, int | None], None]

# JSONL files from this size open lazily: lines read from the file when shown, the checks
# and counts made by a background scan (see core/lazydoc.py). Smaller files are read whole.
LAZY_MIN_BYTES = 8 * 1024 * 1024
FIRST_SCREEN_BYTES = 1024 * 1024  # indexed before the first screen; the scan does the rest


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures of the stats line: what `validate` reports for the bytes Ctrl+S writes.

    tokens, epochs, billed_tokens and cost are None until every example has been counted.
    """

    examples: int
    errors: int
    warnings: int
    tokens: int | None
    epochs: int | None
    billed_tokens: int | None
    cost_usd: float | None


def stats_of(doc: Document, model: BaseModel, epochs: int | None = None) -> Stats:
    """O(1): every figure is a running total the edits keep (see editing.Document)."""
    from tui.core.estimate import default_epochs

    c = doc.counts
    whole = doc.dataset_findings()
    errors = c.errors + sum(1 for _, f in whole if f.is_error)
    # Each example repeating an earlier one is a warning of its own, as validate says.
    warnings = c.warnings + doc.duplicates + sum(1 for _, f in whole if not f.is_error)
    if not doc.tokens_ready:
        return Stats(c.examples, errors, warnings, None, None, None, None)
    n_epochs = epochs if epochs is not None else default_epochs(c.examples)
    billed = n_epochs * doc.billed_tokens_per_epoch
    price = model.price_per_1m_training_tokens
    cost = None if price is None else round(billed / 1_000_000 * price, 4)
    return Stats(c.examples, errors, warnings, doc.tokens_total, n_epochs, billed, cost)


@dataclass
class Opened:
    """A file read and split in a worker, ready for `Workspace.use` on the UI thread."""

    doc: Document
    path: Path | None
    save_path: Path | None
    sha256: str
    stamp: FileStamp | None
    read_only: bool
    recovery: Recovery | None
    other_instance: int | None = None  # pid of another live tunebench with this file open


class Workspace:
    """The open dataset and everything screens need to know about it."""

    def __init__(self, *, system_prompt: str, separator: str, model: BaseModel) -> None:
        self.configured_system = system_prompt  # from the config: for new datasets
        self.separator = separator
        self.model = model  # tokens, epochs and cost are counted for this model
        self.doc: Document | None = None
        self.path: Path | None = None  # the file opened
        self.save_path: Path | None = None  # where Ctrl+S writes (None: ask)
        self.source_sha256 = ""
        self.stamp: FileStamp | None = None
        self.read_only = False
        self.other_instance: int | None = None  # another live tunebench has the file open
        self._pending: list[list[dict[str, Any]]] = []  # added before the first document
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ observing

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def changed(self, what: str, index: int | None = None) -> None:
        """Tell every listener (UI thread only)."""
        for listener in list(self._listeners):
            listener(what, index)

    # ------------------------------------------------------------------ what screens read

    @property
    def format(self) -> str:
        """The format of the file as read: chat, dpo, pairs, csv or tsv."""
        return self.doc.source_format if self.doc is not None else "chat"

    @property
    def dirty(self) -> bool:
        return self.doc is not None and self.doc.dirty

    @property
    def system_prompt(self) -> str:
        """The open dataset's default system prompt, else the configured one."""
        if self.doc is not None and self.doc.default_system:
            return self.doc.default_system
        return self.configured_system

    def stats(self) -> Stats | None:
        return stats_of(self.doc, self.model) if self.doc is not None else None

    @property
    def saved_path(self) -> Path | None:
        """The dataset file as saved (no unsaved edits, a format jobs upload), else None."""
        if self.doc is None or self.doc.dirty:
            return None
        return self.save_path

    # ------------------------------------------------------------------ opening

    def read(self, path: Path | None) -> Opened:
        """Read and split a file, or make a new dataset. Pure: runs in a worker.

        Raises formats.UnusableInput or OSError for a file that cannot be opened.
        """
        from tui.core.atomic import remove_dead_temps
        from tui.core.filestamp import is_read_only, stamp_of
        from tui.core.formats import BOM, check_usable, detect_format
        from tui.core.recovery import claim, find_recovery, source_digest

        system = self.configured_system
        if path is None:
            empty = Document(default_system=system)
            blank = encode_example(pair_example(Pair(system or None, "", "")))
            doc = Document([empty.make_entry(blank)], default_system=system)
            return Opened(doc, None, None, "", None, False, find_recovery(None, ""))
        lazy = self._read_lazy(path)
        if lazy is not None:
            return lazy
        data = path.read_bytes()
        remove_dead_temps(path)  # of saves killed mid-way
        if data not in (b"", BOM):  # an empty file is a dataset of no examples yet
            check_usable(data)
        fmt = detect_format(data, path.name)
        doc = Document.from_bytes(data, fmt, sep=self.separator, system=system)
        sha = source_digest(data)
        return Opened(
            doc,
            path,
            path,  # saved in its own format: pairs stay pairs, CSV stays CSV
            sha,
            stamp_of(path, data),
            is_read_only(path),
            find_recovery(path, sha),
            claim(path),
        )

    def _read_lazy(self, path: Path) -> Opened | None:
        """A big JSONL file opened without reading it: its first lines are indexed here, the
        rest by the scan (see LazyDocument). None: read it whole."""
        import os

        from tui.core.atomic import remove_dead_temps
        from tui.core.filestamp import FileStamp, is_read_only
        from tui.core.formats import JSONL_FORMATS, check_head, detect_format
        from tui.core.lazydoc import LazyDocument, file_sha256
        from tui.core.lineindex import LineIndex
        from tui.core.recovery import claim, find_recovery
        from tui.core.validate import HEAD_BYTES

        st = os.stat(path)
        if st.st_size < LAZY_MIN_BYTES:
            return None
        index = LineIndex(path)
        head = index.read(0, HEAD_BYTES)
        check_head(head)
        fmt = detect_format(head, path.name, complete=False)
        if fmt not in JSONL_FORMATS:
            return None  # pairs and CSV are read whole (a CSV row may span lines)
        remove_dead_temps(path)
        index.index_more(FIRST_SCREEN_BYTES)
        doc = LazyDocument.open(index, fmt)
        doc.grow()
        doc.default_system = self.configured_system or doc.guess_default_system()
        # The file's hash is made by the scan (half a second for 512 MB), or here if a
        # recovery needs comparing with it.
        stamp = FileStamp(st.st_size, st.st_mtime_ns, "")
        recovery = find_recovery(path, lambda: file_sha256(path))
        return Opened(doc, path, path, "", stamp, is_read_only(path), recovery, claim(path))

    def hashed(self, doc: Document, sha256: str) -> None:
        """The hash of the file `doc` was opened from is known (UI thread)."""
        if doc is self.doc and not self.source_sha256 and self.stamp is not None:
            from tui.core.filestamp import FileStamp

            self.source_sha256 = sha256
            self.stamp = FileStamp(self.stamp.size, self.stamp.mtime_ns, sha256)

    def use(self, opened: Opened) -> None:
        """Make a read file the open dataset; examples added meanwhile are appended."""
        if self.path != opened.path:
            self.release()
        self.other_instance = opened.other_instance
        self.path = opened.path
        self.save_path = opened.save_path
        self.source_sha256 = opened.sha256
        self.stamp = opened.stamp
        self.read_only = opened.read_only
        self.replace_document(opened.doc)

    def replace_document(self, doc: Document) -> None:
        """Another document for the same file (a restored recovery, a reload)."""
        old = self.doc
        if old is not None and old.counter is not None:
            doc.use_counter(old.counter, self.model.example_token_limit, self.model.name)
        self.doc = doc
        self.changed(OPENED)
        self.add_pending()

    def add_pending(self) -> None:
        """Append the examples added before the document (or its end) was known."""
        pending, self._pending = self._pending, []
        for messages in pending:
            self.add_example(messages)

    def close(self) -> None:
        """No document (while another file is read)."""
        self.doc = None

    # ------------------------------------------------------------------ recovery

    def write_recovery(self, doc: Document, entries: Any) -> None:
        """Write this instance's recovery file of `doc` (a worker; raises OSError)."""
        from tui.core.lazydoc import file_sha256
        from tui.core.recovery import recovery_path, snapshot, write_recovery

        if self.path is not None and not self.source_sha256:
            self.source_sha256 = file_sha256(self.path)  # a big file's, not hashed yet
        snap = snapshot(doc, self.path, self.source_sha256, entries)
        write_recovery(snap, recovery_path(self.path))

    def discard_recovery(self) -> None:
        """Remove this instance's recovery file of the open dataset: nothing to recover."""
        from tui.core.recovery import discard

        discard(self.path)

    def release(self) -> None:
        """Leave the open dataset: its lock goes, and its recovery unless it is needed."""
        from tui.core.recovery import release

        if self.doc is not None and not self.doc.dirty:
            self.discard_recovery()
        release(self.path)

    # ------------------------------------------------------------------ editing from outside

    def add_example(self, messages: list[dict[str, Any]]) -> int | None:
        """Append an example as a new, undoable row; returns its index (None: kept until a
        document is open)."""
        from tui.core.lazydoc import LazyDocument

        doc = self.doc
        if doc is None or (isinstance(doc, LazyDocument) and not doc.complete):
            self._pending.append(messages)  # added at the end, once the end is known
            return None
        doc.insert(len(doc), [encode_example({"messages": messages})])
        index = len(doc) - 1  # the last line (an empty CSV got its header before it)
        self.changed(ADDED, index)
        return index

    # ------------------------------------------------------------------ saving

    def save_bytes(self) -> bytes:
        """What Ctrl+S writes (UI thread: a consistent copy of the entries)."""
        doc = self.doc
        if doc is None:
            return b""
        return doc.to_bytes()

    def saved(
        self, doc: Document, point: Any, path: Path, stamp: FileStamp, source: Any = None
    ) -> None:
        """The save of `doc` at `point` (its save_point: the entries written) reached `path`
        (UI thread). Entries edited since stay unsaved. `source`: a big file's new Source
        (see lazydoc.save_lazy)."""
        from tui.core.lazydoc import LazyDocument
        from tui.core.recovery import claim, discard, release

        if isinstance(doc, LazyDocument):
            doc.rebase(point, source)
        else:
            doc.mark_saved(point)
        if self.path != path:  # saved as another file: the old one's lock and recovery go
            discard(self.path)
            release(self.path)
            self.other_instance = claim(path)
        self.path = self.save_path = path
        self.stamp = stamp
        self.read_only = False
        self.source_sha256 = stamp.sha256
        if not isinstance(doc, LazyDocument):
            self._mark_origins(doc, point)
        if not doc.dirty:
            self.discard_recovery()
        self.changed(SAVED)

    @staticmethod
    def _mark_origins(doc: Document, point: list[Entry]) -> None:
        """Each entry written holds that line of the new file; the others hold none."""
        for i, entry in enumerate(point):
            entry.origin = i  # the line of the new file it holds
        written = set(map(id, point))
        for entry in doc.entries:
            if id(entry) not in written:
                entry.origin = None
