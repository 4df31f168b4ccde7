"""Benchmark: a job with 10,000 metric events in the job detail screen.

Run: `python tests/bench/jobs.py [--events 10000]`. Measures, against the emulator over HTTP:
- loading the full history (requests made, seconds) with the follower's paging;
- the detail screen from opening to a chart with every point;
- one chart redraw with 10,000 steps at 80x24 and 160x48 (target < 50 ms);
- live appends: how many redraws a stream of events causes (batched per poll, not per event).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

N_EVENTS = 10_000
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _metrics(step: int) -> dict[str, float]:
    data: dict[str, float] = {
        "step": step,
        "total_steps": N_EVENTS,
        "train_loss": 3.0 / (1 + step / 500) + (step % 7) * 0.05,
        "train_mean_token_accuracy": min(0.99, step / N_EVENTS + 0.3),
    }
    if step % 10 == 0:
        data["valid_loss"] = 3.2 / (1 + step / 500)
        data["valid_mean_token_accuracy"] = min(0.99, step / N_EVENTS + 0.25)
    return data


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tunebench-bench-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(home / var.lower())
    import openai

    from tui.api.jobs import EventFollower
    from tui.emulator import Emulator

    async with Emulator(seed=3, speed=1000.0, env_faults=False) as emu:
        client = openai.AsyncOpenAI(api_key="sk", base_url=emu.base_url)
        line = (
            b'{"messages": [{"role": "user", "content": "a b c"}, '
            b'{"role": "assistant", "content": "d e f"}]}\n'
        )
        uploaded = await client.files.create(file=("b.jsonl", line * 10), purpose="fine-tune")
        job = await client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=uploaded.id)
        emu_job = emu.store.jobs[job.id]
        assert emu_job.task is not None
        await emu_job.task
        emu_job.events.clear()
        for step in range(1, N_EVENTS + 1):
            emu_job.event(f"Step {step}/{N_EVENTS}", kind="metrics", data=_metrics(step))
        emu_job.data.update(status="running", finished_at=None, fine_tuned_model=None)

        # 1. Paging the history.
        requests = 0
        original = client.fine_tuning.jobs.list_events

        def counting(*args: object, **kwargs: object) -> object:
            nonlocal requests
            requests += 1
            return original(*args, **kwargs)  # type: ignore[arg-type]

        client.fine_tuning.jobs.list_events = counting  # type: ignore[method-assign]
        follower = EventFollower(client, job.id)
        started = time.perf_counter()
        events = await follower.fetch_new()
        history_s = time.perf_counter() - started
        print(f"history: {len(events)} events in {requests} request(s), {history_s:.2f} s")
        requests = 0
        await follower.fetch_new()
        print(f"follow-up poll with nothing new: {requests} request(s)")

        # 2.-4. The detail screen.
        cfg = home / "config.yaml"
        cfg.write_text(
            "default_profile: emu\nprofiles:\n  emu:\n    kind: emulator\n"
            f"    base_url: {emu.base_url}\n    api_key_env: EMU_KEY\n"
            "ui:\n  poll_interval: 0.05\n"
        )
        cfg.chmod(0o600)
        os.environ["TUNEBENCH_CONFIG"] = str(cfg)
        os.environ["EMU_KEY"] = "sk"
        from tui.app import TunebenchApp
        from tui.config import load_config
        from tui.screens.job_detail import JobDetailScreen
        from tui.widgets.loss_chart import LossChart

        for size in ((80, 24), (160, 48)):
            app = TunebenchApp(load_config(), profile_name="emu")
            async with app.run_test(size=size) as pilot:
                started = time.perf_counter()
                app.push_screen(JobDetailScreen(job.id))
                while not (
                    app.screen.query(LossChart)
                    and app.screen.query_one(LossChart).n_points == N_EVENTS
                ):
                    await pilot.pause(0.005)
                opened_s = time.perf_counter() - started
                chart = app.screen.query_one(LossChart)
                timings = []
                for _ in range(20):
                    t = time.perf_counter()
                    chart.render()
                    timings.append((time.perf_counter() - t) * 1000)
                chart.smooth = True
                chart.log_scale = True
                t = time.perf_counter()
                chart.render()
                toggled = (time.perf_counter() - t) * 1000

                renders = 0

                def counted(render: object = chart.render) -> object:
                    nonlocal renders
                    renders += 1
                    return render()  # type: ignore[operator]

                chart.render = counted  # type: ignore[method-assign]
                before = len(emu_job.events)
                for step in range(N_EVENTS + 1, N_EVENTS + 501):
                    emu_job.event(f"Step {step}", kind="metrics", data=_metrics(step))
                while chart.n_points < N_EVENTS + 500:
                    await pilot.pause(0.01)
                await pilot.pause()
                added = len(emu_job.events) - before
                del emu_job.events[before:]
                print(
                    f"{size[0]}x{size[1]}: opened with {N_EVENTS} points in {opened_s:.2f} s; "
                    f"chart redraw median {statistics.median(timings):.1f} ms, "
                    f"max {max(timings):.1f} ms; EMA+log redraw {toggled:.1f} ms; "
                    f"{added} new events -> {renders} redraw(s)"
                )
        await client.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="job detail benchmark")
    parser.add_argument("--events", type=int, default=N_EVENTS, help="metric events in the job")
    N_EVENTS = parser.parse_args().events
    asyncio.run(main())
