"""Benchmarks for the Playground (not collected by pytest):

    python tests/bench/chat.py [--runs 300] [--reply-tokens 4000]

1. Time to first token through `tui.api.chat.stream_chat` (with the 429-watching client the
   TUI uses) against the bare SDK call, same emulator endpoint, runs interleaved.
   Target: ours adds < 10 ms (median and p95 reported for both).
2. A 4,000-token reply streaming into the TUI: key press handling latency while it streams
   (a key event posted -> the prompt field has the character), against idle; and how many
   times the reply was rendered (batched on a timer, not per token).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

RUNS = int(os.environ.get("BENCH_RUNS", "300"))
REPLY_TOKENS = 4000
MESSAGES = [{"role": "user", "content": "Kot, spać, kanapa"}]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<28} median {statistics.median(ms):7.2f} ms   p95 {pct(ms, 0.95):7.2f} ms"
        f"   (n={len(ms)})"
    )


async def bare_ttft(client, model: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    assert first is not None
    return first


async def ours_ttft(client, model: str) -> float:  # type: ignore[no-untyped-def]
    from tui.api import chat

    reply = await chat.stream_chat(client, model, MESSAGES)
    assert reply.ok and reply.first_token_s is not None
    return reply.first_token_s


async def bench_ttft(base_url: str, model: str) -> None:
    import openai

    from tui.api import chat

    bare = openai.AsyncOpenAI(base_url=base_url, api_key="bench")
    ours = chat.watch_rate_limits(
        openai.AsyncOpenAI(base_url=base_url, api_key="bench"), lambda _s: None
    )
    for _ in range(20):  # warm up connections and imports
        await bare_ttft(bare, model)
        await ours_ttft(ours, model)
    bare_times: list[float] = []
    our_times: list[float] = []
    for _ in range(RUNS):
        bare_times.append(await bare_ttft(bare, model))
        our_times.append(await ours_ttft(ours, model))
    print("time to first token (emulator on 127.0.0.1, same model, interleaved runs)")
    print(summary("bare SDK", bare_times))
    print(summary("tui.api.chat.stream_chat", our_times))
    added = statistics.median(our_times) - statistics.median(bare_times)
    added95 = pct(our_times, 0.95) - pct(bare_times, 0.95)
    print(f"added by ours: median {added * 1000:+.2f} ms, p95 {added95 * 1000:+.2f} ms")


def long_answer() -> str:
    words = ["Mamo", "chcę", "dostać", "ciastko", "wczoraj", "byłem", "w", "lesie", "kot", "śpi"]
    return " ".join(words[i % len(words)] + ("." if i % 12 == 11 else "") for i in range(3700))


async def bench_tui(home: Path, base_url: str, model: str) -> None:
    from textual import events
    from textual.widgets import Input

    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.screens.playground import PlaygroundScreen
    from tui.widgets.chat_log import ChatLog

    app = TunebenchApp(load_config(), profile_name="emu")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await app.workers.wait_for_complete()
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        screen.picker.choose(model)
        await pilot.press("enter")
        prompt = screen.query_one("#prompt", Input)

        async def key_latency() -> float:
            before = prompt.value
            started = time.perf_counter()
            app.post_message(events.Key("x", "x"))
            while prompt.value == before:
                await asyncio.sleep(0)
            return time.perf_counter() - started

        idle = [await key_latency() for _ in range(50)]
        prompt.value = ""
        app.focused.post_message(events.Paste("long"))  # type: ignore[union-attr]
        await pilot.pause()
        await pilot.press("enter")
        while not screen.streaming:
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        busy: list[float] = []
        while screen.streaming:
            busy.append(await key_latency())
            await asyncio.sleep(0.02)  # a fast typist: 50 keys a second
        elapsed = time.perf_counter() - started
        reply = screen.query_one(ChatLog).messages()[-1]
        tokens = sum(1 for _ in reply.text.split())
        print(f"\n4,000-token reply in the TUI at 80x24 (streamed in {elapsed:.1f} s)")
        print(summary("key handling, idle", idle))
        print(summary("key handling, streaming", busy))
        print(
            f"reply: {len(reply.text)} characters, ~{tokens} words; rendered {reply.renders} "
            f"times ({reply.renders / elapsed:.1f}/s) instead of once per token"
        )


async def main() -> None:
    from playground_helpers import KEY_ENV, train, write_jsonl, write_profile

    from tui.emulator.server import EmulatorThread

    home = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")):
        (home / sub).mkdir()
        os.environ[var] = str(home / sub)
    os.environ[KEY_ENV] = "bench"
    example = {
        "messages": [
            {"role": "user", "content": "long"},
            {"role": "assistant", "content": long_answer()},
        ]
    }
    from playground_helpers import demo_examples

    data = write_jsonl(home / "train.jsonl", [example, *demo_examples()])
    # speed 8: the emulator streams a piece every 3.75 ms, ~15 s for the long reply
    with EmulatorThread(seed=0, speed=8.0) as emu:
        model = await train(emu.base_url, data, suffix="bench")
        write_profile(home, emu.base_url)
        await bench_ttft(emu.base_url, model)
        await bench_tui(home, emu.base_url, model)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Playground benchmarks")
    parser.add_argument("--runs", type=int, default=RUNS, help="time-to-first-token runs")
    parser.add_argument("--reply-tokens", type=int, default=REPLY_TOKENS, help="long reply size")
    options = parser.parse_args()
    RUNS, REPLY_TOKENS = options.runs, options.reply_tokens
    asyncio.run(main())
