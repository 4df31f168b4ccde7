"""Local records in the user data dir: dataset hash -> file id -> job id -> hyperparameters.

One sqlite file (`platformdirs.user_data_path("tunebench") / "tunebench.sqlite3"`). Uploads are
keyed by (profile, content hash) so the same bytes are not uploaded twice to one endpoint; jobs
remember which upload they trained on. The same link is also written into each job's
`metadata`, so it can be rebuilt on another machine.

The file is opened once per Store (`shared_store()`: once per process and path) and brought up
to date by numbered migrations recorded in `PRAGMA user_version`. Every query runs on the
store's own thread and is awaited, so a slow disk or a file locked by another tunebench never
blocks the UI's event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tui.core.atomic import private_dir
from tui.errors import UsageError

T = TypeVar("T")

# MIGRATIONS[n] brings a database from user_version n to n + 1. Version 0 is a new file or
# one written before versions were recorded (it may already hold these tables).
MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS uploads (
        profile TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        file_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (profile, sha256)
    );
    CREATE TABLE IF NOT EXISTS jobs (
        profile TEXT NOT NULL,
        job_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        file_id TEXT NOT NULL,
        model TEXT NOT NULL,
        hyperparameters TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (profile, job_id)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
LOCK_TIMEOUT_S = 10  # how long a query waits for another process's write


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("tunebench") / "tunebench.sqlite3"


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations this file lacks, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"{path}: written by a newer tunebench (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}); upgrade tunebench"
        )
    for number in range(version, SCHEMA_VERSION):
        conn.executescript(
            f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;"
        )


@dataclass(frozen=True)
class Upload:
    profile: str
    sha256: str
    file_id: str
    filename: str
    bytes: int


@dataclass(frozen=True)
class JobRecord:
    profile: str
    job_id: str
    sha256: str
    file_id: str
    model: str
    hyperparameters: dict[str, Any]


class Store:
    """Uploads and jobs, per profile, in one sqlite file opened on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.opens = 0  # times the file was opened: once, however many queries
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunebench-store")

    async def _run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run query(connection) in one transaction on the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_transaction, query)

    def _in_transaction(self, query: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection()
        with conn:  # commit, or roll back on an error
            return query(conn)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            private_dir(self.path.parent)
            if not self.path.exists():  # user data: readable by the user only
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S)
            try:
                migrate(conn, self.path)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self.opens += 1
        return self._conn

    async def find_upload(self, profile: str, sha256: str) -> Upload | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT profile, sha256, file_id, filename, bytes FROM uploads "
                "WHERE profile = ? AND sha256 = ?",
                (profile, sha256),
            ).fetchone()
        )
        return Upload(*row) if row else None

    async def save_upload(self, upload: Upload) -> None:
        row = (
            upload.profile,
            upload.sha256,
            upload.file_id,
            upload.filename,
            upload.bytes,
            time.time(),
        )
        await self._run(
            lambda db: db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?)", row)
        )

    async def forget_upload(self, profile: str, sha256: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM uploads WHERE profile = ? AND sha256 = ?", (profile, sha256)
            )
        )

    async def save_job(self, record: JobRecord) -> None:
        row = (
            record.profile,
            record.job_id,
            record.sha256,
            record.file_id,
            record.model,
            json.dumps(record.hyperparameters, sort_keys=True),
            time.time(),
        )
        await self._run(
            lambda db: db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        )

    async def jobs(self, profile: str) -> list[JobRecord]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT profile, job_id, sha256, file_id, model, hyperparameters FROM jobs "
                "WHERE profile = ? ORDER BY created_at DESC",
                (profile,),
            ).fetchall()
        )
        return [
            JobRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5])) for row in rows
        ]


_shared: dict[Path, Store] = {}


def shared_store(path: Path | None = None) -> Store:
    """The process's one Store for `path` (default: the user data dir's file)."""
    path = path or default_path()
    store = _shared.get(path)
    if store is None:
        store = _shared[path] = Store(path)
    return store
