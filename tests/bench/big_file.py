"""Benchmark: `tunebench FILE` on a big chat file, as a user at a terminal sees it.

    python tests/bench/big_file.py [--examples 1500000] [--file PATH] [--runs 1]

Generates a chat JSONL of N examples (validate.py's generator: the issue's 1.5M-example /
~560 MB file by default; kept in --dir between runs), then per run starts `tunebench FILE` on
a real pseudo-terminal (80x24) and reads its screen through pyte:
- first screen: from starting the process until the first example's words are on screen;
- scan complete: until the stats line shows the exact figures ("counting…" gone), with the
  token total read off the screen;
- resident memory (VmRSS) of the app once the scan is complete (target: file size + 300 MB);
then times `tunebench validate FILE` on the same file right after (target: the scan takes no
longer than validate), with the CPU time of each: the app's process (its UI thread apart)
and its scan workers, validate's with its workers. The load average is printed with each
run: the machine is shared.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "bench"))

from validate import fill_tiktoken_cache, generate  # noqa: E402


def cpu_seconds(pid: int, *, children: bool = False, thread: int | None = None) -> float:
    """CPU time (user + system) the process has used so far (children: that of its children
    waited for, such as the scan's workers once the pool is shut down; thread: of that
    thread alone): steadier than wall time on a loaded machine."""
    stat = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_rss_mb(pid: int) -> float:
    """Resident memory of the app's worker processes (the scan's pool), summed."""
    total = 0.0
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int(child.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                total += rss_mb(int(child.name))
        except (OSError, ValueError):
            continue
    return total


def run_app(path: Path, first_words: str, env: dict[str, str]) -> dict[str, float | str]:
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(REPO)  # `python -m` imports from the working directory first: this checkout
        argv = [sys.executable, "-m", "tui", str(path)]
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out: dict[str, float | str] = {}
    peak_workers = 0.0
    try:
        while time.perf_counter() - started < 1800:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(fd, 1 << 16)
                except OSError:
                    break
                stream.feed(data)
            text = "\n".join(screen.display)
            if "first_screen_s" not in out and first_words in text:
                out["first_screen_s"] = time.perf_counter() - started
                out["first_screen_cpu_s"] = cpu_seconds(pid)
                out["first_stats"] = screen.display[1].strip()
            if "first_screen_s" in out:
                peak_workers = max(peak_workers, children_rss_mb(pid))
            stats = " ".join(screen.display[1:3])
            if "first_screen_s" in out and "tokens" in stats and "counting" not in stats:
                out["scan_s"] = time.perf_counter() - started
                out["scan_cpu_s"] = cpu_seconds(pid)
                out["ui_cpu_s"] = cpu_seconds(pid, thread=pid)  # the main thread: the UI loop
                out["workers_cpu_s"] = cpu_seconds(pid, children=True)
                tokens = re.search(r"([\d,]+) tokens", stats)
                out["tokens"] = tokens.group(1) if tokens else "?"
                time.sleep(1.0)  # let the last chunk's buffers go
                out["rss_mb"] = rss_mb(pid)
                out["workers_peak_mb"] = peak_workers
                break
        else:
            raise SystemExit("the scan did not finish in 30 minutes:\n" + "\n".join(screen.display))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    return out


def run_validate(path: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, CPU time (its workers included) and the token total of validate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tui", "validate", str(path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    tokens = re.search(r"total ([\d,]*\d)", result.stdout)
    return elapsed, cpu, tokens.group(1) if tokens else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1_500_000)
    parser.add_argument("--file", type=Path, help="an existing chat JSONL instead")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.file or args.dir / f"chat-{args.examples}.jsonl"
    if not path.exists():
        print(f"generating {path} …", flush=True)
        generate(path, args.examples)
    size_mb = path.stat().st_size / 2**20
    with path.open(encoding="utf-8") as f:
        import json

        first = json.loads(f.readline())["messages"][1]["content"]
    first_words = " ".join(first.split()[:2])
    with tempfile.TemporaryDirectory() as home:
        cache = Path(home) / "tiktoken"
        fill_tiktoken_cache(cache)
        env = dict(
            os.environ,
            TERM="xterm-256color",
            LANG="C.UTF-8",
            PYTHONPATH=str(REPO),
            XDG_DATA_HOME=home,  # recovery files and locks go here
            XDG_CONFIG_HOME=home,
            TIKTOKEN_CACHE_DIR=str(cache),
        )
        print(f"{path.name}: {size_mb:,.0f} MiB")
        for run in range(args.runs):
            load = os.getloadavg()[0]
            app = run_app(path, first_words, env)
            validate_s, validate_cpu, validate_tokens = run_validate(path, env)
            print(
                f"run {run + 1} (load {load:.1f} → {os.getloadavg()[0]:.1f}): "
                f"first screen {app['first_screen_s']:.2f} s wall, "
                f"{app['first_screen_cpu_s']:.2f} s CPU ('{app['first_stats']}'); "
                f"scan complete {app['scan_s']:.1f} s vs validate {validate_s:.1f} s; "
                f"CPU app {app['scan_cpu_s']:.1f} s (UI thread {app['ui_cpu_s']:.1f} s) "
                f"+ workers {app['workers_cpu_s']:.1f} s "
                f"vs validate {validate_cpu:.1f} s (workers included); "
                f"tokens {app['tokens']} (validate {validate_tokens}); "
                f"RSS after the scan {app['rss_mb']:,.0f} MB "
                f"(file + {float(app['rss_mb']) - size_mb:,.0f} MB; target file + 300); "
                f"scan workers' peak RSS {app['workers_peak_mb']:,.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
