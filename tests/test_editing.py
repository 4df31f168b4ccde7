"""The edit model, recovery files and the split, without the UI."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.editing import (
    Document,
    Pair,
    apply_system_batch,
    as_pair,
    encode_example,
    pair_example,
    set_system_for_all,
)
from tui.core.problems import Finding
from tui.core.recovery import (
    claim,
    find_recovery,
    lock_path,
    recovery_path,
    restore,
    snapshot,
    source_digest,
    write_recovery,
)
from tui.core.spans import finding_span, json_spans
from tui.core.split import split_indices


def line(user: str, system: str | None = "S") -> bytes:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": "a"}]
    return json.dumps({"messages": messages}).encode()


def checked(data: bytes) -> Document:
    doc = Document.from_bytes(data, "chat")
    doc.check_all(doc.apply_checks)
    return doc


def test_typing_coalesces_into_one_undo_step_and_counts_follow() -> None:
    data = b"\n".join(line(f"u{i}") for i in range(10)) + b"\n"
    doc = checked(data)
    assert doc.counts.examples == 10 and doc.counts.errors == 0
    broken = doc.entries[3].text.replace(b'"assistant"', b'"asistant"')
    doc.replace(3, broken[:-3], key=(3, "raw"))
    doc.replace(3, broken, key=(3, "raw"))
    assert doc.counts.error_entries == 1
    assert [p.line for p in doc.problems()] == [4, 4]
    assert doc.undo() == 3
    assert doc.to_bytes() == data and not doc.dirty
    assert doc.counts.errors == 0


def test_insert_delete_move_and_duplicates() -> None:
    doc = checked(b"\n".join(line(f"u{i}") for i in range(10)) + b"\n")
    doc.insert(10, [line("u1")])
    assert doc.duplicates == 1
    repeat = Finding("duplicate_example", "warning", "the same example as line 2")
    assert doc.duplicate_rows() == [(10, repeat)]  # on its own line, as validate says
    assert doc.matching("code:duplicate_example") == [10]
    doc.move(10, 0)
    assert doc.entries[0].text == line("u1")
    assert doc.duplicate_rows() == [
        (2, Finding(repeat.code, repeat.severity, "the same example as line 1"))
    ]
    doc.delete(0)
    assert doc.duplicates == 0 and len(doc) == 10
    doc.undo()
    doc.undo()
    doc.undo()
    assert len(doc) == 10 and not doc.dirty


def test_set_system_for_all_keeps_overrides_and_undoes() -> None:
    data = b"\n".join([line("a"), line("b", system="other"), line("c", system=None)]) + b"\n"
    doc = checked(data)
    assert doc.default_system == "S"
    apply_system_batch(doc, set_system_for_all(doc, "New"), "New")
    systems = [as_pair(e.parse()).system for e in doc.entries]  # type: ignore[union-attr]
    assert systems == ["New", "other", "New"]
    doc.undo()
    assert doc.to_bytes() == data and doc.default_system == "S"


def test_recovery_round_trip(tmp_path: Path) -> None:
    data = b"\n".join(line(f"u{i}") for i in range(5)) + b"\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    doc = checked(data)
    doc.replace(2, line("edited"))
    doc.insert(5, [line("new")])
    sha = source_digest(data)
    write_recovery(snapshot(doc, path, sha), recovery_path(path))
    found = find_recovery(path, sha)
    assert found is not None and found.changed == 2 and not found.base_changed
    restored = restore(checked(data), found)
    assert restored.to_bytes() == doc.to_bytes() and restored.dirty


def test_a_recovery_survives_the_file_changing_on_disk(tmp_path: Path) -> None:
    data = b"\n".join(line(f"u{i}") for i in range(5)) + b"\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    doc = checked(data)
    doc.replace(2, line("edited"))
    write_recovery(snapshot(doc, path, source_digest(data)), recovery_path(path))
    # Another program replaces the file (as editors and our own saves do).
    other = b"\n".join(line(f"v{i}") for i in range(3)) + b"\n"
    (tmp_path / "new").write_bytes(other)
    (tmp_path / "new").replace(path)
    found = find_recovery(path, source_digest(other))
    assert found is not None and found.base_changed
    restored = restore(checked(other), found)
    assert restored.to_bytes() == doc.to_bytes()  # every line as it was edited
    assert restored.dirty  # it differs from the file now on disk


def test_recoveries_are_per_instance_and_private(tmp_path: Path) -> None:
    import os
    import stat
    import subprocess
    import sys

    data = b"\n".join(line(f"u{i}") for i in range(3)) + b"\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    doc = checked(data)
    doc.replace(0, line("mine"))
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_recovery(snapshot(doc, path, source_digest(data)), recovery_path(path, live.pid))
        assert find_recovery(path, source_digest(data)) is None  # a live instance's: not ours
        assert claim(path) is None  # free: this process takes the lock
        assert claim(path) is None  # and holds it
        lock_path(path).write_text(f"{live.pid}\n")
        assert claim(path) == live.pid  # another live instance holds it: a warning
    finally:
        live.kill()
        live.wait()
    assert find_recovery(path, source_digest(data)) is not None  # gone: offered now
    assert claim(path) is None  # a stale lock is taken over
    folder = recovery_path(path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert os.getpid() == int(lock_path(path).read_text())


def test_split_is_deterministic_and_keeps_duplicates_together() -> None:
    texts = [line(f"u{i % 40}") for i in range(100)]  # every text 2-3 times
    train, valid = split_indices(texts, 0.2, seed=7)
    assert (train, valid) == split_indices(texts, 0.2, seed=7)
    assert sorted(train + valid) == list(range(100))
    assert {texts[i] for i in train}.isdisjoint({texts[i] for i in valid})
    assert 15 <= len(valid) <= 25
    assert split_indices(texts, 0.2, seed=8) != (train, valid)


def test_problem_spans_point_at_the_json_value() -> None:
    obj = {"messages": [{"role": "user", "content": "x"}, {"role": "bot", "content": "y"}]}
    text = json.dumps(obj)
    start, end = finding_span("messages[1].role: 'bot' is not a role", json_spans(obj, text))
    assert text[start:end] == '"bot"'
    assert json_spans(obj, json.dumps(obj, indent=1)) == {}  # another layout: no guessing


def test_an_example_over_the_token_limit_gets_a_warning() -> None:
    doc = checked(b"\n".join(line(f"u{i}") for i in range(10)) + b"\n")
    entry = doc.entries[4]
    doc.set_tokens(entry, entry.text, 70_000, limit=65_536)
    assert [(p.line, p.code) for p in doc.problems()] == [(5, "too_many_tokens")]
    assert doc.counts.warnings == 1
    doc.set_tokens(entry, entry.text, 100, limit=65_536)
    assert doc.problems() == [] and doc.counts.warnings == 0


def test_the_editor_counts_examples_as_the_validator_does() -> None:
    """Lines that do not parse (broken JSON, a pairs line without a separator) are no
    examples: the editor's count and its 'at least 10' check agree with `validate`."""
    from tui.core.validate import validate_bytes

    jsonl = b"\n".join([*(line(f"u{i}") for i in range(10)), b'{"messages": [', b"[1, 2]"])
    pairs = b"# system: S\nKot; Kot\nbez separatora\nA; B; C\nPies; Pies\n"
    for data, fmt, name in ((jsonl, "chat", "t.jsonl"), (pairs, "pairs", "t.txt")):
        doc = Document.from_bytes(data, fmt)
        doc.check_all(doc.apply_checks)
        doc.checked = True  # as the screen marks it when the first check is done
        report = validate_bytes(data, filename=name)
        assert doc.counts.examples == report.n_examples, name
        too_few = [f for _, f in doc.dataset_findings() if f.code == "invalid_n_examples"]
        assert bool(too_few) == any(p.code == "invalid_n_examples" for p in report.problems)
    doc = checked(jsonl)
    assert doc.counts.examples == 11  # ten examples and `[1, 2]` (a data_type error)
    doc.replace(10, line("fixed"), key=(10, "raw"))  # the broken line, mended
    assert doc.counts.examples == 12


def test_a_late_count_of_the_old_document_leaves_the_restored_one_exact(tmp_path: Path) -> None:
    """Item 6: restoring while the first count runs: the count still landing for the old
    document must not touch the restored document's entries or totals."""
    data = b"\n".join(line(f"u{i}") for i in range(5)) + b"\n"
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    doc = checked(data)
    doc.replace(2, line("edited"))
    sha = source_digest(data)
    write_recovery(snapshot(doc, path, sha), recovery_path(path))
    found = find_recovery(path, sha)
    assert found is not None
    counting = checked(data)  # the document whose first count is still running
    restored = restore(counting, found)
    for entry in counting.entries:  # the count lands after the restore
        counting.set_tokens(entry, entry.text, 87)
    assert restored.tokens_total == 0
    assert all(e.tokens is None for e in restored.entries)


def test_pairs_recovery_restores_pairs_lines(tmp_path: Path) -> None:
    data = "# system: S\nKot, spać; Kot śpi.\nMama; Mamo!\n".encode()
    path = tmp_path / "d.txt"
    path.write_bytes(data)
    doc = Document.from_bytes(data, "pairs", sep=";")
    doc.replace(1, encode_example(pair_example(Pair("S", "Kot", "Kot śpi."))))
    sha = source_digest(data)
    write_recovery(snapshot(doc, path, sha), recovery_path(path))
    found = find_recovery(path, sha)
    assert found is not None
    restored = restore(Document.from_bytes(data, "pairs", sep=";"), found)
    assert (
        restored.to_bytes()
        == doc.to_bytes()
        == "# system: S\nKot; Kot śpi.\nMama; Mamo!\n".encode()
    )
