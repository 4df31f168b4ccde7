"""The worker processes of a scan never outlive the process that started them: after
kill -9 or SIGTERM of the app or of `tunebench validate`, after Ctrl+C, after a normal quit,
every worker is gone (a clean-clone CI run once left two workers of a killed app asleep,
reparented to pid 1, 16 minutes later).

The apps run as under `nohup` (SIGHUP ignored, as in a CI job), so the end of their terminal
does not end the workers for them. A scan is held where it matters: the app's workers wait on
a FIFO in the middle of a chunk (a test-only sitecustomize wraps the worker's scan function),
`validate` reads a pipe that delivers three chunks and then nothing.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from emulator_support import chat_line
from terminal import PtyApp

ROOT = Path(__file__).resolve().parent.parent
WORKERS = len(os.sched_getaffinity(0))

pytestmark = pytest.mark.skipif(WORKERS < 2, reason="one CPU: scans run without workers")

HOLD = '''\
"""Test only: the app's scan workers stop in the middle of a chunk until the FIFO named by
TUNEBENCH_TEST_HOLD has no writer (the test holds one), and SIGHUP is ignored as under nohup."""
import contextlib
import os
import select
import signal

import tui.core.pool as pool

signal.signal(signal.SIGHUP, signal.SIG_IGN)
_scan = pool._scan_in_worker


def _scan_in_worker(*args):
    fd = os.open(os.environ["TUNEBENCH_TEST_HOLD"], os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.read(fd, 1)  # b"" at once if the test has let go (no writer) ...
    except BlockingIOError:  # ... else it still holds: readable (end of file) when it lets go
        select.select([fd], [], [])
    os.close(fd)
    return _scan(*args)


_scan_in_worker.__qualname__ = "_scan_in_worker"
_scan_in_worker.__module__ = pool.__name__
pool._scan_in_worker = _scan_in_worker
'''


def children(pid: int) -> list[int]:
    """The live (not yet exited) child processes of `pid`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[1]) == pid and fields[0] not in "ZX":
            found.append(int(proc.name))
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        select.select([], [], [], 0.02)  # the condition is polled: nothing signals it


def state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def wait_gone(pids: list[int], timeout: float = 30.0) -> None:
    """Until every process of `pids` has exited (a zombie has: nobody may reap an orphan).
    Each exit is waited for on a pidfd, which becomes readable when its process ends."""
    waiting = {}
    for pid in pids:
        try:
            waiting[os.pidfd_open(pid)] = pid
        except ProcessLookupError:  # already gone and reaped
            continue
    deadline = time.monotonic() + timeout
    try:
        while waiting:
            left = deadline - time.monotonic()
            ready, _, _ = select.select(list(waiting), [], [], max(0.0, left))
            if not ready:
                alive = {pid: state(pid) for pid in waiting.values()}
                raise AssertionError(f"worker processes still alive after {timeout} s: {alive}")
            for fd in ready:
                del waiting[fd]
                os.close(fd)
    finally:
        for fd in waiting:
            os.close(fd)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[dict[str, str], Callable[[], None]]]:
    """An environment whose app holds its scan workers, and the function that lets them go."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HOLD)
    fifo = tmp_path / "hold"
    os.mkfifo(fifo)
    writer = [os.open(fifo, os.O_RDWR)]  # never blocks; a writer for as long as it is open

    def release() -> None:
        if writer:
            os.close(writer.pop())

    env = dict(
        os.environ,
        TERM="xterm-256color",
        LANG="C.UTF-8",
        PYTHONPATH=f"{site}{os.pathsep}{ROOT}",
        TUNEBENCH_TEST_HOLD=str(fifo),
    )
    yield env, release
    release()


def big_file(path: Path) -> None:
    """Big enough to open lazily and to take several chunks (workers start at the second)."""
    lines = [chat_line(f"Kot, spać, kanapa {i}", "Kot śpi.", "Popraw.") for i in range(150_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def app_scanning(
    tmp_path: Path, held: tuple[dict[str, str], Callable[[], None]]
) -> Iterator[tuple[PtyApp, list[int], Callable[[], None]]]:
    """The app on a big file, its scan workers held mid-chunk: (app, worker pids, release)."""
    env, release = held
    path = tmp_path / "big.jsonl"
    big_file(path)
    app = PtyApp([str(path)], env=env, cwd=tmp_path)
    workers: list[int] = []
    try:
        app.wait_for("counting…", timeout=60)
        wait_until(lambda: len(children(app.pid)) >= WORKERS, f"{WORKERS} scan workers")
        workers = children(app.pid)
        yield app, workers, release
    finally:
        release()
        app.close()
        wait_gone(workers)  # whatever the test did: none is left to the next test


def test_the_workers_of_an_app_killed_during_a_scan_end_with_it(
    app_scanning: tuple[PtyApp, list[int], Callable[[], None]],
) -> None:
    app, workers, _release = app_scanning
    assert "counting…" in app.text()
    os.kill(app.pid, signal.SIGKILL)
    os.waitpid(app.pid, 0)
    app.exit_status = -signal.SIGKILL
    wait_gone(workers)  # while still held mid-chunk: nothing but their parent's end wakes them


def test_quitting_during_a_scan_leaves_no_worker(
    app_scanning: tuple[PtyApp, list[int], Callable[[], None]],
) -> None:
    app, workers, release = app_scanning
    app.press("ctrl+q")
    release()  # the chunks in hand are finished (or dropped); the app does not wait for more
    assert app.wait_exit(timeout=60) == 0
    wait_gone(workers)


def _as_in_a_terminal() -> None:
    """Ctrl+C and SIGTERM at their defaults (a suite run under nohup or `&` passes them on
    ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["ctrl+c", "sigterm", "kill -9"])
def test_validate_stopped_during_a_scan_leaves_no_worker(how: str, tmp_path: Path) -> None:
    """validate reads a pipe that gave it three chunks and then waits: its workers idle,
    waiting for the fourth, when validate is stopped."""
    line = chat_line("Kot, spać, kanapa", "Kot śpi.", "Popraw.").encode() + b"\n"
    data = line * (13 * 1024 * 1024 // len(line))  # three 4 MB chunks and a bit
    errors = tmp_path / "stderr"  # a file: a worker left behind would keep a pipe open
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "validate", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            preexec_fn=_as_in_a_terminal,
            start_new_session=True,  # a process group of its own, as a terminal's job
        )
    assert proc.stdin is not None
    workers: list[int] = []
    try:
        proc.stdin.write(data)  # returns once validate has read all but a pipe's buffer
        proc.stdin.flush()
        wait_until(lambda: len(children(proc.pid)) >= WORKERS, f"{WORKERS} validate workers")
        workers = children(proc.pid)
        if how == "ctrl+c":  # the terminal signals the whole foreground job: validate, its
            os.killpg(proc.pid, signal.SIGINT)  # workers, and the pipeline's producer, which
            proc.stdin.close()  # ends (a Ctrl+C just before a read is seen once it returns)
        else:
            proc.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        wait_gone(workers)
    err = errors.read_text()
    if how == "ctrl+c":
        assert proc.returncode == 130  # as the shell reports a job ended by Ctrl+C
        assert "Traceback" not in err
    else:
        assert proc.returncode == -(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
