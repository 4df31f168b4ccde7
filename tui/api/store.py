"""Local records in the user data dir: dataset hash -> file id -> job id -> hyperparameters.

One sqlite file (`platformdirs.user_data_path("tunebench") / "tunebench.sqlite3"`). Uploads are
keyed by (profile, content hash) so the same bytes are not uploaded twice to one endpoint; jobs
remember which upload they trained on. The same link is also written into each job's
`metadata`, so it can be rebuilt on another machine.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
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
"""


def default_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("tunebench") / "tunebench.sqlite3"


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
    """Uploads and jobs, per profile. Each call opens its own short transaction."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.executescript(SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def find_upload(self, profile: str, sha256: str) -> Upload | None:
        with self._db() as db:
            row = db.execute(
                "SELECT profile, sha256, file_id, filename, bytes FROM uploads "
                "WHERE profile = ? AND sha256 = ?",
                (profile, sha256),
            ).fetchone()
        return Upload(*row) if row else None

    def save_upload(self, upload: Upload) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                (
                    upload.profile,
                    upload.sha256,
                    upload.file_id,
                    upload.filename,
                    upload.bytes,
                    time.time(),
                ),
            )

    def forget_upload(self, profile: str, sha256: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM uploads WHERE profile = ? AND sha256 = ?", (profile, sha256))

    def save_job(self, record: JobRecord) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.profile,
                    record.job_id,
                    record.sha256,
                    record.file_id,
                    record.model,
                    json.dumps(record.hyperparameters, sort_keys=True),
                    time.time(),
                ),
            )

    def jobs(self, profile: str) -> list[JobRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT profile, job_id, sha256, file_id, model, hyperparameters FROM jobs "
                "WHERE profile = ? ORDER BY created_at DESC",
                (profile,),
            ).fetchall()
        return [
            JobRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5])) for row in rows
        ]
