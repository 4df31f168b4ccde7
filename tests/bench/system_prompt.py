"""Benchmark: Ctrl+T (system prompt for all) on a big chat file, driving the real app headless.

    python tests/bench/system_prompt.py [--examples 1500000] [--file PATH]

Copies --file (never edited in place) or generates N examples (validate.py's generator) into a
temporary directory, opens it in the app (Pilot, 160x48), waits for the first scan, types an
unsaved edit, then Ctrl+T, a changed prompt and Ctrl+S, and measures:
- the rewrite: from Ctrl+S in the dialog to the file replaced (the progress dialog gone);
- the rescan after it: until the stats are exact again (token total known);
- peak RSS during the operation, of the app and of its worker processes (sampled from /proc
  every 20 ms), against the target of the file's size + 300 MB;
then checks the stats equal `validate` on the rewritten file (validate runs in-process after
the app has closed, and is timed too). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "bench"))


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


class Sampler:
    """Peak RSS of this process, and of its children together, per phase, while running."""

    def __init__(self) -> None:
        self.phase = "rewrite"
        self.app_kb: dict[str, int] = {}
        self.children_kb: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            phase = self.phase
            self.app_kb[phase] = max(self.app_kb.get(phase, 0), rss_kb(me))
            workers = sum(rss_kb(c) for c in children(me))
            self.children_kb[phase] = max(self.children_kb.get(phase, 0), workers)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def uptime() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run(path: Path) -> dict[str, float]:
    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.core.lazydoc import LazyDocument
    from tui.screens.dataset import DatasetScreen
    from tui.screens.dataset_modals import ProgressModal, SystemPromptModal

    app = TunebenchApp(load_config(), profile_name="openai", dataset_path=path)
    out: dict[str, float] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        t = time.perf_counter()
        while not (isinstance(screen.doc, LazyDocument) and screen.doc.tokens_ready):
            await pilot.pause(0.05)
        out["first_scan_s"] = time.perf_counter() - t
        out["rss_before_mb"] = rss_kb(os.getpid()) / 1024
        await pilot.press("enter", *" zzz", "escape")
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, SystemPromptModal)
        await pilot.press("end", *" Nowy")
        seen: list[str] = []
        with Sampler() as sampler:
            t = time.perf_counter()
            await pilot.press("ctrl+s")
            while not isinstance(app.screen, ProgressModal):
                await pilot.pause(0.01)
            while isinstance(app.screen, ProgressModal):
                seen.append(screen._busy)
                await pilot.pause(0.05)
            out["rewrite_s"] = time.perf_counter() - t
            sampler.phase = "rescan"
            t2 = time.perf_counter()
            while not (isinstance(screen.doc, LazyDocument) and screen.doc.tokens_ready):
                await pilot.pause(0.05)
            out["rescan_s"] = time.perf_counter() - t2
        for phase in ("rewrite", "rescan"):
            out[f"peak_app_{phase}_mb"] = sampler.app_kb.get(phase, 0) / 1024
            out[f"peak_workers_{phase}_mb"] = sampler.children_kb.get(phase, 0) / 1024
        out["progress_updates"] = len({s for s in seen if s})
        stats = app.workspace.stats()
        assert stats is not None
        out["examples"], out["errors"], out["warnings"] = (
            stats.examples,
            stats.errors,
            stats.warnings,
        )
        out["tokens"] = stats.tokens or -1
        await app.workers.wait_for_complete()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1_500_000)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = tmp  # recovery files go here, not to the user's dir
        os.environ["XDG_CONFIG_HOME"] = tmp
        path = Path(tmp) / "big.jsonl"
        if args.file is not None:
            shutil.copyfile(args.file, path)
        else:
            from validate import generate

            generate(path, args.examples)
        size_mb = path.stat().st_size / 2**20
        print(f"{path.stat().st_size:,} bytes ({size_mb:,.0f} MiB); load before {uptime()}")
        result = asyncio.run(run(path))
        print(f"load after {uptime()}")
        from tui.core.validate import validate_stream

        t = time.perf_counter()
        with path.open("rb") as f:
            report = validate_stream(
                f, "gpt-4.1-mini-2025-04-14", filename=path.name, workers=os.cpu_count() or 1
            )
        validate_s = time.perf_counter() - t
    print(f"first scan (before Ctrl+T): {result['first_scan_s']:.1f} s")
    print(
        f"rewrite (Ctrl+S in the dialog to the file replaced): {result['rewrite_s']:.1f} s, "
        f"{result['progress_updates']:.0f} progress updates shown"
    )
    print(f"rescan of the new file until exact figures: {result['rescan_s']:.1f} s")
    print(f"validate on the new file: {validate_s:.1f} s")
    print(
        f"app RSS before: {result['rss_before_mb']:.0f} MB (target <= file + 300 MB = "
        f"{size_mb + 300:,.0f} MB)"
    )
    for phase in ("rewrite", "rescan"):
        print(
            f"peak during the {phase}: app {result[f'peak_app_{phase}_mb']:.0f} MB, worker "
            f"processes {result[f'peak_workers_{phase}_mb']:.0f} MB together"
        )
    same = (
        result["examples"],
        result["errors"],
        result["warnings"],
        result["tokens"],
    ) == (report.n_examples, len(report.errors), len(report.warnings), report.tokens.total)
    print(
        f"stats after: {result['examples']:,.0f} examples, {result['tokens']:,.0f} tokens; "
        f"validate: {report.n_examples:,} examples, {report.tokens.total:,} tokens: "
        f"{'equal' if same else 'DIFFERENT'}"
    )


if __name__ == "__main__":
    main()
