"""Benchmark: launching a job from a big file, as `tunebench jobs create` and as the launch form.

    python tests/bench/preflight.py [--examples 1500000] [--file PATH] [--split 10%]
                                    [--skip-cli] [--skip-form] [--repo CHECKOUT]

Uses PATH read-only (else generates a chat JSONL of N examples with validate.py's generator,
kept in --dir). Starts `tunebench emulator` in another process and a private config whose
profile points at it, then:
- `tunebench jobs create FILE` in a subprocess: wall time until the pre-flight's summary is
  printed, until the upload is done, until the job id; peak resident memory of the process
  (and of its scan workers, summed), sampled from /proc every 20 ms;
- the launch form (headless, in a subprocess): the app opened on the file, the form opened with
  the launch key, time from opening until the pre-flight shows its result, and the app's peak
  resident memory over that time.
`uptime` is printed before and after each part: the machine is shared. `--repo`: run another
checkout's tunebench (e.g. one from before a change) with the same script.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from validate import fill_tiktoken_cache, generate  # noqa: E402

FORM_CHILD = """
import asyncio, sys, time
from pathlib import Path
from textual.widgets import Static
from tui.app import TunebenchApp
from tui.config import load_config
from tui.screens.launch import LaunchScreen

async def main(path: Path, split: str) -> None:
    app = TunebenchApp(load_config(), profile_name="emu", dataset_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started, cpu = time.monotonic(), time.process_time()
        app.push_screen(LaunchScreen(path))
        await pilot.pause()
        launch = app.screen
        if split:
            launch.query_one("#f-validation").value = split
            launch.run_preflight()
        panel = launch.query_one("#preflight", Static)
        seen = set()
        while True:
            text = str(panel.render())
            if text.startswith("pre-flight:"):
                seen.add(text.split("…")[0])
            elif "examples" in text or "error" in text.lower():
                break
            await asyncio.sleep(0.05)
        print(f"FORM {time.monotonic() - started:.2f} s wall, "
              f"{time.process_time() - cpu:.2f} s CPU (the app's threads)", flush=True)
        print("STEPS " + " | ".join(sorted(seen)), flush=True)
        print(text, flush=True)

asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


class PeakRss:
    """Peak VmRSS of a process and, separately, of its children summed; sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.main = 0.0
        self.workers = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = 0
        kids: list[int] = []
        while not self._stop.wait(0.02):
            self.main = max(self.main, rss_mb(self.pid))
            if tick % 25 == 0:  # listing /proc costs more: every half second
                kids = children(self.pid)
            tick += 1
            self.workers = max(self.workers, sum(rss_mb(k) for k in kids))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def start_emulator(env: dict[str, str], repo: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "emulator", "--port", "0", "--speed", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=repo,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"the emulator did not start: {url!r}")
    return proc, url


def private_env(home: Path, url: str, repo: Path) -> dict[str, str]:
    from emulator_support import write_emulator_config

    env = dict(os.environ, HOME=str(home), EMU_KEY="sk-emulator", PYTHONPATH=str(repo))
    for sub in ("config", "data", "cache", "state"):  # every user dir in the private home
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{sub.upper()}_HOME"] = str(home / sub)
    write_emulator_config(home, url, "EMU_KEY")
    return env


def bench_cli(path: Path, env: dict[str, str], split: str, repo: Path) -> None:
    args = [sys.executable, "-m", "tui", "jobs", "create", str(path), "--model", "gpt-4o-mini"]
    if split:
        args += ["--validation", split]
    print(f"jobs create: {uptime()}")
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=repo
    )
    peak = PeakRss(proc.pid)
    marks: dict[str, float] = {}
    assert proc.stderr is not None and proc.stdout is not None
    for line in proc.stderr:
        now = time.monotonic() - started
        if " examples (" in line:
            marks.setdefault("pre-flight done", now)
        if line.startswith(("uploaded file-", "reusing file-")):
            marks.setdefault("upload done", now)
        print(f"  [{now:6.1f} s] {line.rstrip()}")
    job = proc.stdout.read().strip()
    proc.wait()
    peak.stop()
    total = time.monotonic() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    print(f"  exit {proc.returncode}, job {job}")
    for name, at in marks.items():
        print(f"  {name}: {at:.1f} s")
    print(f"  job id printed: {total:.1f} s wall, {cpu_s:.1f} s CPU (workers included)")
    print(f"  peak RSS: {peak.main:.0f} MB (scan workers together: {peak.workers:.0f} MB)")
    print(f"  after: {uptime()}")


def bench_form(path: Path, env: dict[str, str], split: str, repo: Path) -> None:
    print(f"launch form: {uptime()}")
    proc = subprocess.Popen(
        [sys.executable, "-c", FORM_CHILD, str(path), split],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=repo,
    )
    peak = PeakRss(proc.pid)
    out, err = proc.communicate()
    peak.stop()
    print("  " + out.strip().replace("\n", "\n  "))
    if proc.returncode:
        print(err[-2000:])
    print(f"  peak RSS of the app: {peak.main:.0f} MB (workers: {peak.workers:.0f} MB)")
    print(f"  after: {uptime()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1_500_000)
    parser.add_argument("--file", type=Path, help="an existing chat JSONL (read only)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench")
    parser.add_argument("--split", default="", help='e.g. "10%%": a held-out validation share')
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-form", action="store_true")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to run")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.file
    if path is None:
        path = args.dir / f"chat-{args.examples}.jsonl"
        if not path.exists():
            generate(path, args.examples)
    cache = args.dir / "tiktoken"
    fill_tiktoken_cache(cache)
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB")
    with tempfile.TemporaryDirectory(prefix="tb-preflight-") as home:
        repo = args.repo.resolve()
        env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(cache), PYTHONPATH=str(repo))
        emulator, url = start_emulator(env, repo)
        try:
            env = private_env(Path(home), url, repo) | {"TIKTOKEN_CACHE_DIR": str(cache)}
            if not args.skip_cli:
                bench_cli(path, env, args.split, repo)
            if not args.skip_form:
                bench_form(path, env, args.split, repo)
        finally:
            emulator.terminate()  # it may be busy training on the file: then it is killed
            try:
                emulator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                emulator.kill()
                emulator.wait()


if __name__ == "__main__":
    main()
