"""Benchmark: the problems panel while the first check runs, on a file where every line is
a problem (the worst case: one row per line).

    python tests/bench/problem_rows.py [--lines 300000] [--repo PATH]

Measures the UI thread's share of the first check, as the Dataset screen does it: each chunk
of results applied to the document, then the panel's rows asked for (as its refresh does
after a chunk). Two paths:
- a file under the lazy threshold (8 MB) is read whole and checked in chunks of 5,000 lines
  (`Document.check_all` / `apply_checks`); its lines are short invalid JSON;
- a big file opens lazily and is scanned in 4 MB chunks by worker processes
  (`scan_results` / `LazyDocument.apply_scan`); its lines are chat examples without an
  assistant message, padded past 8 MB.
Prints the UI time in total and for the slowest chunk, the rows at the end, and the load
average (the machine is shared). --repo: the checkout to measure (e.g. one before a change).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def whole_file(lines: int) -> bytes:
    return "".join(f"not json {i}\n" for i in range(lines)).encode()


def big_file(lines: int) -> bytes:
    pad = "x" * max(0, 8 * 1024 * 1024 // lines - 40)
    return "".join(
        json.dumps({"messages": [{"role": "user", "content": f"Kot {i} {pad}"}]}) + "\n"
        for i in range(lines)
    ).encode()


def report(name: str, times: list[float], rows: int) -> None:
    print(
        f"{name}: UI time {sum(times):.2f} s over {len(times)} chunks "
        f"(slowest chunk {max(times) * 1000:.0f} ms), {rows:,} rows; {load()}",
        flush=True,
    )


def bench_whole(lines: int) -> None:
    from tui.core.editing import Document

    doc = Document.from_bytes(whole_file(lines), "chat")
    times: list[float] = []

    def progress(chunk: list[object]) -> None:
        start = time.perf_counter()
        doc.apply_checks(chunk)  # type: ignore[arg-type]
        doc.problem_rows()
        times.append(time.perf_counter() - start)

    doc.check_all(progress)  # type: ignore[arg-type]
    report(f"whole file, {lines:,} lines", times, len(doc.problem_rows()))


def bench_lazy(lines: int, folder: Path) -> None:
    from tui.core.lazydoc import LazyDocument, scan_results
    from tui.core.lineindex import LineIndex
    from tui.core.models import resolve_model
    from tui.core.tokens import TokenCounter

    model = resolve_model("gpt-4.1-mini-2025-04-14")
    path = folder / "broken.jsonl"
    path.write_bytes(big_file(lines))
    index = LineIndex(path)
    index.index_more()
    doc = LazyDocument.open(index, "chat")
    doc.grow()
    doc.use_counter(TokenCounter(model.encoding), model.example_token_limit, model.name)
    doc.problem_rows()  # the panel shows the first screen's rows
    times: list[float] = []
    workers = len(os.sched_getaffinity(0))
    for result in scan_results(doc, model, workers, lambda: False):
        start = time.perf_counter()
        doc.apply_scan(*result)
        doc.grow()
        doc.problem_rows()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    doc.finish_scan()
    doc.problem_rows()
    times.append(time.perf_counter() - start)
    size = path.stat().st_size / 1e6
    report(f"big file, {lines:,} lines ({size:.0f} MB)", times, len(doc.problem_rows()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(args.repo.resolve()))
    import tui

    print(f"{tui.__file__}; {load()}", flush=True)
    bench_whole(args.lines)
    with tempfile.TemporaryDirectory(prefix="tunebench-rows-") as folder:
        bench_lazy(args.lines, Path(folder))


if __name__ == "__main__":
    main()
