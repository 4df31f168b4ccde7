"""Run tunebench on a real pseudo-terminal and read the screen as a user sees it.

This is what an SSH session gives the app: a pty of a fixed size, a TERM value, keys as
bytes, no mouse. pyte interprets the escape sequences into a grid of characters.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pyte

KEYS = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "f1": b"\x1bOP",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "backspace": b"\x7f",
}


def key_bytes(key: str) -> bytes:
    if key in KEYS:
        return KEYS[key]
    if key.startswith("ctrl+") and len(key) == 6:
        return bytes([ord(key[-1].lower()) - ord("a") + 1])
    return key.encode()


class PtyApp:
    """tunebench in a child process on a pty of `columns` x `lines`."""

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        columns: int = 80,
        lines: int = 24,
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes tunebench on the pty
            os.chdir(cwd)
            os.execvpe(sys.executable, [sys.executable, "-m", "tui", *args], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.exit_status: int | None = None

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def highlighted(self, needle: str) -> bool:
        """Whether `needle` is on screen drawn in reverse video (the current header tab)."""
        for y, line in enumerate(self.screen.display):
            x = line.find(needle)
            if x >= 0:
                row = self.screen.buffer[y]
                return all(row[x + i].reverse for i in range(len(needle)))
        return False

    def wait_for_tab(self, name: str, timeout: float = 20.0) -> None:
        """Wait until the header shows `name` as the current screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.highlighted(name):
                return
            if not self._pump(0.05):
                break
        raise AssertionError(f"tab {name!r} never became current; the screen shows:\n{self.text()}")

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child closed the pty: it has exited
            return False
        if not data:
            return False
        self.stream.feed(data)
        return True

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        """Read output until `needle` is on screen; fail with the screen if it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return self.text()
            if not self._pump(0.05):
                break
        raise AssertionError(f"{needle!r} never appeared; the screen shows:\n{self.text()}")

    def wait_gone(self, needle: str, timeout: float = 20.0) -> str:
        """Read output until `needle` has left the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle not in self.text():
                return self.text()
            if not self._pump(0.05):
                break
        raise AssertionError(f"{needle!r} never went away; the screen shows:\n{self.text()}")

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Read output until the app has drawn nothing for `quiet` seconds (it is idle)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                return
            if not self._pump(0):
                return

    def press(self, *keys: str) -> None:
        for key in keys:
            os.write(self.fd, key_bytes(key))

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = os.waitstatus_to_exitcode(status)
                return self.exit_status
            self._pump(0.05)
        raise AssertionError(f"the app did not exit; the screen shows:\n{self.text()}")

    def close(self) -> None:
        if self.exit_status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
