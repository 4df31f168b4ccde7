"""Benchmark: memory growth of editing a big dataset, driving the real app headless (Pilot).

    python tests/bench/bench_keystroke_memory.py [N] [KEYS]

Opens N examples (default 100,000), waits for the background check and token count, opens
the example in the middle, types 50 keys to warm up, then KEYS more (default 1,000), each
a real key press handled to the end (edit, undo step, checks, stats, autosave of the
recovery file). Reports the resident memory (RSS, from /proc) before and after the KEYS,
after a garbage collection. Target: growth < 5 MB for 1,000 keys in 100,000 examples.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

SYSTEM = "Popraw gramatykę zdania. Odpowiedz jednym poprawnym zdaniem po polsku."


def write_dataset(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Kot, być, mały, i, czarny (nr {i})"},
                {"role": "assistant", "content": f"Kot jest mały i czarny. Numer {i}."},
            ]
            f.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")


def rss_mb() -> float:
    """Resident memory now (not the peak)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def measure(path: Path, keys: int) -> tuple[float, float, float]:
    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.screens.dataset import DatasetScreen

    app = TunebenchApp(load_config(), profile_name="openai", dataset_path=path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        while screen.doc is None or not screen.doc.tokens_ready:
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        screen.select(len(screen.doc) // 2, focus="user")
        letters = "abcdefghij "

        async def type_keys(count: int) -> None:
            for n in range(count):
                await pilot.press(letters[n % len(letters)])

        await type_keys(50)
        await pilot.pause(1.0)  # the autosave timer fires; its worker ends
        await app.workers.wait_for_complete()
        gc.collect()
        before = rss_mb()
        start = time.perf_counter()
        await type_keys(keys)
        elapsed = time.perf_counter() - start
        await pilot.pause(1.0)
        await app.workers.wait_for_complete()
        gc.collect()
        after = rss_mb()
        assert screen.doc.dirty
    return before, after, elapsed


async def main(n: int, keys: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = tmp  # recovery files go here, not to the user's dir
        os.environ["XDG_CONFIG_HOME"] = tmp
        path = Path(tmp) / "big.jsonl"
        write_dataset(path, n)
        before, after, elapsed = await measure(path, keys)
    print(f"{n:,} examples, {keys:,} keystrokes in {elapsed:.1f} s")
    print(f"RSS before {before:.1f} MB, after {after:.1f} MB")
    print(f"growth: {after - before:+.2f} MB (target < 5 MB)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [100_000, 1_000][len(args) :])))
