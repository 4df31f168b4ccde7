"""`tunebench --local MODEL`: a `tunebench serve` subprocess for the app to talk to.

The app process never imports the training stack: the server runs as `python -m tui serve`
on a free loopback port, and its first stdout line is its base URL. Leaving the context stops
it (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from tui.errors import UsageError

START_SECONDS = 180.0
STOP_SECONDS = 10.0


class EmbeddedServe:
    def __init__(self, model: str, *, data_dir: Path | None = None, log: Path) -> None:
        self.model = model
        self.data_dir = data_dir
        self.log_path = log
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> EmbeddedServe:
        command = [sys.executable, "-m", "tui", "serve", "--model", self.model, "--port", "0"]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                env=os.environ.copy(),
            )
        first: list[str] = []
        assert self.process.stdout is not None
        reader = threading.Thread(
            target=lambda: first.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(START_SECONDS)
        url = first[0].strip() if first else ""
        if not url.startswith("http"):
            self._stop()
            raise UsageError(f"tunebench serve --model {self.model} did not start: {self._why()}")
        self.base_url = url
        return self

    def _why(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text().splitlines() if line.strip()]
        except OSError:
            lines = []
        return lines[-1] if lines else f"no URL within {START_SECONDS:.0f} s"

    def _stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()
