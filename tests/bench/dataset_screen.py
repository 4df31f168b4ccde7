"""Benchmark of the Dataset screen at scale, driving the real app headless with Pilot.

    python tests/bench/dataset_screen.py [N]

Measures in one run:
- first screen: from before importing the app to the first paint with the examples list
  filled, for N examples (default 100,000, ~35 MB);
- keystroke-to-preview: from sending a key to the first screen update painted after the
  preview shows the typed text (p50/p95/max over 150 keys), with 100 and with N examples,
  after the background check and token count have finished;
- peak memory (max RSS of the process, the mapped file's pages included).
Targets (issue 16): first screen < 1 s, p95 < 50 ms and not growing with size, memory at
most the file's size + 300 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

KEYS = 150
USERS = [
    "Mama, ja, chcieć, ciastko",
    "Kot, być, mały, i, czarny, ale, on, lubić, mleko",
    "My, iść, do, kino, wczoraj, wieczorem, z, przyjaciele",
    "Ona, mieć, dwa, brat, i, jeden, siostra, który, mieszkać, w, Kraków",
]
ASSISTANTS = [
    "Mamo, chcę dostać ciastko, proszę, bo jestem bardzo głodny po szkole.",
    "Kot jest mały i czarny, ale lubi mleko, które pije codziennie rano w kuchni.",
    "Wczoraj wieczorem poszliśmy z przyjaciółmi do kina na nowy film przygodowy.",
    "Ona ma dwóch braci i jedną siostrę, która mieszka w Krakowie od wielu lat.",
]


def write_dataset(path: Path, n: int) -> int:
    system = "Popraw gramatykę zdania. Odpowiedz jednym poprawnym zdaniem po polsku."
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            example = {
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"{USERS[i % 4]} (nr {i})"},
                    {"role": "assistant", "content": f"{ASSISTANTS[i % 4]} Numer {i}."},
                ]
            }
            f.write(json.dumps(example, ensure_ascii=False) + "\n")
    return path.stat().st_size


async def run_app(path: Path, *, first_screen_from: float | None) -> dict[str, float]:
    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.screens.dataset import DatasetScreen
    from tui.widgets.examples_list import ExamplesList
    from tui.widgets.jsonl_preview import JsonlPreview

    app = TunebenchApp(load_config(), profile_name="openai", dataset_path=path)
    out: dict[str, float] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DatasetScreen)
        examples = screen.query_one(ExamplesList)
        first_paint: list[float] = []
        screen_paint = screen._compositor_refresh

        def paint_once() -> None:
            screen_paint()
            if examples.row_count and not first_paint:
                first_paint.append(time.perf_counter())

        screen._compositor_refresh = paint_once  # type: ignore[method-assign]
        while not first_paint:
            await asyncio.sleep(0.005)
        screen._compositor_refresh = screen_paint  # type: ignore[method-assign]
        if first_screen_from is not None:
            # From before importing the app to the first paint showing the examples.
            out["first_screen_s"] = first_paint[0] - first_screen_from
        assert screen.doc is not None
        t = time.perf_counter()
        while not screen.doc.tokens_ready:
            await pilot.pause(0.05)
        out["checked_and_counted_s"] = time.perf_counter() - t
        await pilot.pause(0.2)
        middle = len(screen.doc) // 2
        screen.select(middle, focus="user")
        await pilot.press("end")
        preview = screen.query_one(JsonlPreview)
        marks: dict[str, float] = {}
        expected = [""]
        show, paint = preview.show, screen._compositor_refresh

        def timed_show(*args: object) -> None:
            show(*args)  # type: ignore[arg-type]
            if "show" not in marks and expected[0] in preview.plain_text:
                marks["show"] = time.perf_counter()

        def timed_paint() -> None:
            paint()
            if "show" in marks and "paint" not in marks:
                marks["paint"] = time.perf_counter()

        preview.show = timed_show  # type: ignore[method-assign]
        screen._compositor_refresh = timed_paint  # type: ignore[method-assign]
        latencies = []
        typed = ""
        for n in range(KEYS):
            ch = "abcdefghij"[n % 10]
            typed += ch
            expected[0] = typed
            marks.clear()
            t = time.perf_counter()
            await pilot.press(ch)  # returns once the app is idle again
            while "paint" not in marks:
                await pilot.pause()
            # From sending the key to the first screen update showing it in the preview.
            latencies.append((marks["paint"] - t) * 1000)
        latencies.sort()
        out["p50_ms"] = statistics.median(latencies)
        out["p95_ms"] = latencies[int(0.95 * len(latencies)) - 1]
        out["max_ms"] = latencies[-1]
        assert screen.doc.dirty
        await app.workers.wait_for_complete()
    return out


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = tmp  # recovery files go here, not to the user's dir
        os.environ["XDG_CONFIG_HOME"] = tmp
        big = Path(tmp) / "big.jsonl"
        small = Path(tmp) / "small.jsonl"
        size = write_dataset(big, n)
        write_dataset(small, 100)
        generated = time.perf_counter()
        print(f"{n:,} examples, {size / 1e6:.1f} MB (written in {generated - START:.1f} s)")
        big_result = await run_app(big, first_screen_from=generated)
        small_result = await run_app(small, first_screen_from=None)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"first screen with {n:,} examples: {big_result['first_screen_s']:.2f} s (target < 1 s)")
    print(
        f"full check + token count in the background: {big_result['checked_and_counted_s']:.1f} s"
    )
    for label, r in (("100", small_result), (f"{n:,}", big_result)):
        print(
            f"keystroke-to-preview, {label:>7} examples: p50 {r['p50_ms']:.1f} ms, "
            f"p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms (target p95 < 50 ms)"
        )
    budget_mb = size / 2**20 + 300
    print(f"peak memory (max RSS): {rss_mb:.0f} MB (target <= file + 300 MB = {budget_mb:.0f} MB)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
