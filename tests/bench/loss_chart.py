"""Benchmark: the loss chart's redraw with many metric points, as the job screen draws it.

    python tests/bench/loss_chart.py [--points 10000] [--size 160x48] [--runs 30]

A LossChart fills a headless app of the given size and gets N steps of train loss and
accuracy (and a validation point every 10 steps). Timed, each after what triggers it in the
app: a new point, a cursor move, a toggle (EMA, log scale, in turn); a redraw
is everything Textual asks of the widget to paint it again (`render_lines` of its region).
Prints the median and range of each (target: < 20 ms at 160x48 with 10,000 points).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual.app import App, ComposeResult
from textual.geometry import Region

from tui.widgets.loss_chart import LossChart


def metrics(step: int, total: int) -> dict[str, float]:
    data = {
        "train_loss": 3.0 / (1 + step / 500) + (step % 7) * 0.05,
        "train_mean_token_accuracy": min(0.99, step / total + 0.3),
    }
    if step % 10 == 0:
        data["valid_loss"] = 3.2 / (1 + step / 500)
        data["valid_mean_token_accuracy"] = min(0.99, step / total + 0.25)
    return data


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart()


def redraw_ms(chart: LossChart, cpu: list[float]) -> float:
    """One repaint of the whole chart, as the compositor asks for it after a refresh (wall
    time; its CPU time is appended to cpu)."""
    region = Region(0, 0, chart.outer_size.width, chart.outer_size.height)
    started, started_cpu = time.perf_counter(), time.thread_time()
    chart.render_lines(region)
    cpu.append((time.thread_time() - started_cpu) * 1000)
    return (time.perf_counter() - started) * 1000


async def run(
    points: int, size: tuple[int, int], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall ms, CPU ms) of each kind of redraw."""
    app = ChartApp()
    results: dict[str, list[float]] = {"new points": [], "cursor": [], "toggle": []}
    cpu: dict[str, list[float]] = {name: [] for name in results}
    async with app.run_test(size=size) as pilot:
        chart = app.query_one(LossChart)
        chart.set_total_steps(points + runs)
        chart.add_points((s, metrics(s, points)) for s in range(1, points + 1))
        chart.focus()
        await pilot.pause()
        for i in range(runs):
            step = points + i + 1
            chart.add_points([(step, metrics(step, points))])
            results["new points"].append(redraw_ms(chart, cpu["new points"]))
            await pilot.pause()
            chart.action_cursor(-1)  # as the left key does
            results["cursor"].append(redraw_ms(chart, cpu["cursor"]))
            await pilot.pause()
            chart.action_flip(("smooth", "log_scale")[i % 2])  # on and off in turn
            results["toggle"].append(redraw_ms(chart, cpu["toggle"]))
            await pilot.pause()
        assert chart.n_points == points + runs
    return results, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--size", default="160x48", help="terminal WIDTHxHEIGHT")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    results, cpu = asyncio.run(run(args.points, (width, height), args.runs))
    print(f"loss chart, {args.points:,} points, {width}x{height}, {args.runs} redraws each:")
    for name, values in results.items():
        print(
            f"  redraw after {name:<10}: median {statistics.median(values):5.1f} ms "
            f"(range {min(values):.1f}-{max(values):.1f} ms; target < 20 ms), "
            f"CPU median {statistics.median(cpu[name]):.1f} ms"
        )


if __name__ == "__main__":
    main()
