"""What `serve` keeps across restarts: files, jobs, events, checkpoints and tuned models in
one sqlite database, file contents and training outputs as files under the data dir.

Rows hold the API objects as JSON, so handlers return them as they are. Used from the
server's event loop thread only (sqlite calls are short).
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import string
import time
from pathlib import Path
from typing import Any

ORG = "org-local"
ORG_SLUG = "local"
_ALPHABET = string.ascii_letters + string.digits
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, meta TEXT);
CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, data TEXT,
    private TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, job_id TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, job_id TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS models (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, meta TEXT,
    job_id TEXT, base TEXT, adapter TEXT);
CREATE TABLE IF NOT EXISTS speeds (base TEXT PRIMARY KEY, tokens_per_second REAL);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id, seq);
CREATE INDEX IF NOT EXISTS checkpoints_job ON checkpoints (job_id, seq);
"""


def now() -> int:
    return int(time.time())


def new_id(prefix: str, n: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(n))


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.files_dir = data_dir / "files"
        self.jobs_dir = data_dir / "jobs"
        for folder in (self.files_dir, self.jobs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(data_dir / "serve.sqlite3", check_same_thread=False)
        # A metrics event is written at every training step, from the event loop: in the
        # default rollback journal each commit waits for two fsyncs (about 8 ms here), in WAL
        # with synchronous=NORMAL for none (0.1 ms). A power cut may lose the last commits;
        # the database stays whole.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- files ---------------------------------------------------------------------------------

    def add_file(self, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": new_id("file-", 22),
            "object": "file",
            "bytes": len(content),
            "created_at": now(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }
        self.file_path(meta["id"]).write_bytes(content)
        with self.db:
            self.db.execute("INSERT INTO files (id, meta) VALUES (?, ?)", (meta["id"], _j(meta)))
        return meta

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / file_id

    def file(self, file_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT meta FROM files WHERE id = ?", (file_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def files(self) -> list[dict[str, Any]]:
        """Oldest first."""
        return [json.loads(r[0]) for r in self.db.execute("SELECT meta FROM files ORDER BY seq")]

    def delete_file(self, file_id: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self.file_path(file_id).unlink(missing_ok=True)

    # -- jobs ----------------------------------------------------------------------------------

    def add_job(self, data: dict[str, Any]) -> None:
        with self.db:
            self.db.execute("INSERT INTO jobs (id, data) VALUES (?, ?)", (data["id"], _j(data)))

    def save_job(self, data: dict[str, Any]) -> None:
        with self.db:
            self.db.execute("UPDATE jobs SET data = ? WHERE id = ?", (_j(data), data["id"]))

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def jobs(self) -> list[dict[str, Any]]:
        """Newest first, as the API lists them."""
        rows = self.db.execute("SELECT data FROM jobs ORDER BY seq DESC")
        return [json.loads(r[0]) for r in rows]

    def job_private(self, job_id: str) -> dict[str, Any]:
        """What only the server needs: resume checkpoint, output dir."""
        row = self.db.execute("SELECT private FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return {} if row is None else json.loads(row[0])

    def set_job_private(self, job_id: str, private: dict[str, Any]) -> None:
        with self.db:
            self.db.execute("UPDATE jobs SET private = ? WHERE id = ?", (_j(private), job_id))

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def add_event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
        kind: str = "message",
    ) -> None:
        event = {
            "object": "fine_tuning.job.event",
            "id": new_id("ftevent-"),
            "created_at": now(),
            "level": level,
            "message": message,
            "data": {} if data is None else data,
            "type": kind,
        }
        with self.db:
            self.db.execute("INSERT INTO events (job_id, data) VALUES (?, ?)", (job_id, _j(event)))

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self.db.execute(
            "SELECT data FROM events WHERE job_id = ? ORDER BY seq DESC", (job_id,)
        )
        return [json.loads(r[0]) for r in rows]

    def add_checkpoint(self, job_id: str, data: dict[str, Any]) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO checkpoints (job_id, data) VALUES (?, ?)", (job_id, _j(data))
            )

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self.db.execute(
            "SELECT data FROM checkpoints WHERE job_id = ? ORDER BY seq DESC", (job_id,)
        )
        return [json.loads(r[0]) for r in rows]

    # -- tuned models --------------------------------------------------------------------------

    def add_model(self, model_id: str, job_id: str, base: str, adapter: Path) -> None:
        meta = {"id": model_id, "object": "model", "created": now(), "owned_by": ORG}
        with self.db:
            self.db.execute(
                "INSERT INTO models (id, meta, job_id, base, adapter) VALUES (?, ?, ?, ?, ?)",
                (model_id, _j(meta), job_id, base, str(adapter)),
            )

    def models(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT meta FROM models ORDER BY seq")
        return [json.loads(r[0]) for r in rows]

    def model(self, model_id: str) -> tuple[dict[str, Any], str, Path] | None:
        """(meta, base model id, adapter dir) of a tuned model."""
        row = self.db.execute(
            "SELECT meta, base, adapter FROM models WHERE id = ?", (model_id,)
        ).fetchone()
        return None if row is None else (json.loads(row[0]), row[1], Path(row[2]))

    def delete_model(self, model_id: str) -> None:
        """The model, its checkpoint record if it is one, and its adapter's files."""
        found = self.model(model_id)
        with self.db:
            self.db.execute("DELETE FROM models WHERE id = ?", (model_id,))
            self.db.execute(
                "DELETE FROM checkpoints "
                "WHERE json_extract(data, '$.fine_tuned_model_checkpoint') = ?",
                (model_id,),
            )
        if found is not None:
            self.remove_output(found[2])

    def has_model_at(self, folder: Path) -> bool:
        row = self.db.execute("SELECT 1 FROM models WHERE adapter = ?", (str(folder),))
        return row.fetchone() is not None

    def remove_output(self, folder: Path) -> None:
        """Delete a training output folder; only ever one under the jobs folder."""
        if folder.resolve().is_relative_to(self.jobs_dir.resolve()):
            shutil.rmtree(folder, ignore_errors=True)

    # -- measured speed, for the pre-flight's time estimate -------------------------------------

    def speed(self, base: str) -> float | None:
        row = self.db.execute(
            "SELECT tokens_per_second FROM speeds WHERE base = ?", (base,)
        ).fetchone()
        return None if row is None else float(row[0])

    def set_speed(self, base: str, tokens_per_second: float) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO speeds (base, tokens_per_second) VALUES (?, ?)",
                (base, tokens_per_second),
            )


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
