"""The local sqlite store: opened once, migrated by PRAGMA user_version, and awaited on its own
thread so a locked or slow file never stalls the event loop the UI runs on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tui.api.store import SCHEMA_VERSION, JobRecord, Store, Upload, shared_store
from tui.errors import UsageError

UPLOAD = Upload("emu", "ab" * 32, "file-1", "train.jsonl", 123)

# The tables as tunebench wrote them before it recorded a schema version.
UNVERSIONED = """
CREATE TABLE uploads (profile TEXT NOT NULL, sha256 TEXT NOT NULL, file_id TEXT NOT NULL,
    filename TEXT NOT NULL, bytes INTEGER NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (profile, sha256));
CREATE TABLE jobs (profile TEXT NOT NULL, job_id TEXT NOT NULL, sha256 TEXT NOT NULL,
    file_id TEXT NOT NULL, model TEXT NOT NULL, hyperparameters TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (profile, job_id));
INSERT INTO uploads VALUES ('emu', 'cd', 'file-old', 'old.jsonl', 9, 0);
"""


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_the_file_is_opened_once_for_every_query(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    await store.save_upload(UPLOAD)
    await store.save_job(JobRecord("emu", "ftjob-1", UPLOAD.sha256, "file-1", "m", {"n": 1}))
    for _ in range(5):
        assert await store.find_upload("emu", UPLOAD.sha256) == UPLOAD
    await store.forget_upload("emu", UPLOAD.sha256)
    assert [r.job_id for r in await store.jobs("emu")] == ["ftjob-1"]
    assert store.opens == 1
    assert shared_store(tmp_path / "store.sqlite3") is shared_store(tmp_path / "store.sqlite3")


async def test_a_file_from_before_schema_versions_is_migrated_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(UNVERSIONED)
    found = await Store(path).find_upload("emu", "cd")
    assert found is not None and found.file_id == "file-old"
    assert user_version(path) == SCHEMA_VERSION


async def test_a_file_from_a_newer_tunebench_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UsageError, match="newer tunebench"):
        await Store(path).find_upload("emu", "cd")
    assert user_version(path) == SCHEMA_VERSION + 1


async def test_a_query_waiting_for_a_locked_file_leaves_the_event_loop_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.sqlite3"
    store = Store(path)
    await store.jobs("emu")  # created and migrated
    other = sqlite3.connect(path, isolation_level=None)  # another tunebench, mid-write
    other.execute("BEGIN EXCLUSIVE")
    saving = asyncio.create_task(store.save_upload(UPLOAD))
    ticks = 0
    for _ in range(50):  # the loop goes on while the save waits for the lock
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 50 and not saving.done()
    other.execute("COMMIT")
    other.close()
    await saving
    assert await store.find_upload("emu", UPLOAD.sha256) == UPLOAD
