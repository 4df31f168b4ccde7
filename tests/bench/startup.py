"""Benchmark: start to first screen of `tunebench FILE` on a small file, vs a bare Textual app.

    python tests/bench/startup.py [--examples 100] [--runs 7] [--size 80x24]

Each run starts a fresh process on a real pseudo-terminal (80x24 unless --size, as over SSH;
at 120 columns and more the Dataset screen shows every pane at once) and reads its
output through pyte until the screen shows what a user waits for: the bare app's label, or
tunebench's Dataset screen with the file's first example. Runs alternate between the two so
machine noise hits both alike; the medians and ranges of wall time and of the CPU time the
process used until then (steadier on a loaded machine) are printed, and their ratios
(target: tunebench <= 1.5x the bare app).

tunebench's modules are compiled to bytecode first, as an installed package has them (pip
compiles at install; an editable checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise
compile every module on every start, which Textual, installed, never does).
"""

from __future__ import annotations

import argparse
import compileall
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte

REPO = Path(__file__).resolve().parents[2]

BARE_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Label

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("bare app ready")
        yield Footer()

Bare().run()
"""


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_text(
    argv: list[str],
    needle: str,
    env: dict[str, str],
    size: tuple[int, int] = (80, 24),
    timeout: float = 60,
) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from starting argv on a pty of `size` (columns, rows) until
    `needle` is on its screen. CPU time is what a loaded machine disturbs least."""
    columns, rows = size
    screen = pyte.Screen(columns, rows)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            stream.feed(data)
            if any(needle in line for line in screen.display):
                return time.perf_counter() - started, cpu_seconds(pid)
        shown = "\n".join(screen.display)
        raise RuntimeError(f"{needle!r} not shown within {timeout} s:\n{shown}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def write_small(path: Path, n: int) -> str:
    """A chat file of n examples; returns the first user message (what the screen shows)."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            example = {
                "messages": [
                    {"role": "system", "content": "Popraw gramatykę zdania."},
                    {"role": "user", "content": f"Kot, spać, kanapa {i}"},
                    {"role": "assistant", "content": f"Kot śpi na kanapie {i}."},
                ]
            }
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
    return "Kot, spać, kanapa 0"


def summary(runs: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (
        f"wall median {statistics.median(walls) * 1000:.0f} ms "
        f"(range {min(walls) * 1000:.0f}-{max(walls) * 1000:.0f}), "
        f"CPU median {statistics.median(cpus) * 1000:.0f} ms "
        f"(range {min(cpus) * 1000:.0f}-{max(cpus) * 1000:.0f})"
    )


def ratio(ours: list[tuple[float, float]], bare: list[tuple[float, float]], i: int) -> str:
    """Ratio of medians, and the range of per-pair ratios, of wall (i=0) or CPU (i=1)."""
    pairs = sorted(o[i] / b[i] for o, b in zip(ours, bare, strict=True))
    medians = statistics.median(o[i] for o in ours) / statistics.median(b[i] for b in bare)
    return f"{medians:.2f}x (pairs {pairs[0]:.2f}-{pairs[-1]:.2f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples in the file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="80x24", help="terminal COLUMNSxROWS")
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.lower().split("x"))
    size = (columns, rows)
    compileall.compile_dir(REPO / "tui", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(REPO))
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")):
            env[var] = str(home / sub)  # a fresh config; the tokenizer cache stays warm
        data = home / "small.jsonl"
        needle = write_small(data, args.examples)
        bare_script = home / "bare.py"
        bare_script.write_text(BARE_APP)
        bare_cmd = [sys.executable, str(bare_script)]
        ours_cmd = [sys.executable, "-m", "tui", str(data)]
        time_to_text(ours_cmd, needle, env, size)  # first start: writes the config, warms caches
        bare: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for _ in range(args.runs):
            bare.append(time_to_text(bare_cmd, "bare app ready", env, size))
            ours.append(time_to_text(ours_cmd, needle, env, size))
    print(f"bare Textual app to first screen: {summary(bare)}")
    print(f"tunebench, {args.examples} examples, {columns}x{rows}:  {summary(ours)}")
    print(
        f"tunebench / bare: wall {ratio(ours, bare, 0)}, CPU {ratio(ours, bare, 1)}; target <= 1.5x"
    )


if __name__ == "__main__":
    main()
