"""Produce the README screenshots: the real app, driven by keys, against the emulator.

    python scripts/screenshots.py [--out screenshots]

Writes SVGs of the main views at 120x36 (and the dataset at 80x24 too): the dataset with
problems showing, a job mid-training with its loss chart, the playground comparing the base
model with the tuned one, and a two-exchange conversation being saved as a training example.
Config, data and keys live in a throwaway directory, so nothing of
the user's (no key, no path) can appear in a picture.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDE = (120, 36)
NARROW = (80, 24)
BROKEN_LINES = (
    "Kot, spać, kanapa\n"  # no separator
    "Ja, lubić; kawa; herbata\n"  # two separators
    "Mama, ja, chcieć, ciastko; Mamo, chcę dostać ciastko.\n"  # a duplicate of line 2
)


def isolate(home: Path) -> None:
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(home / sub)
    for var in ("TUNEBENCH_CONFIG", "TUNEBENCH_PROFILE", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(var, None)


def write_config(home: Path, base_url: str) -> None:
    path = home / "config" / "tunebench" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "default_profile: demo\n"
        "profiles:\n"
        "  demo:\n"
        "    kind: emulator\n"
        f"    base_url: {base_url}\n"
        "    api_key_env: TUNEBENCH_DEMO_KEY\n"
        "dataset:\n"
        "  system_prompt: Popraw gramatykę zdania.\n"
        "ui:\n"
        "  poll_interval: 0.2\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    os.environ["TUNEBENCH_DEMO_KEY"] = "demo"


async def until(pilot, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until condition() holds (a script, not a test: polling is fine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: gave up waiting for {what}")
        await pilot.pause(0.1)


def train_and_pause(base_url: str, training: Path) -> tuple[str, str]:
    """One job paused mid-training (for the chart), one finished (for the playground)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="demo")
    with training.open("rb") as handle:
        file = client.files.create(file=(training.name, handle.read()), purpose="fine-tune")
    done = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file.id, suffix="grammar", seed=1
    )
    live = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=file.id, suffix="grammar-v2", seed=2
    )
    while True:
        events = client.fine_tuning.jobs.list_events(live.id, limit=1).data
        data = events[0].data if events else None
        if isinstance(data, dict) and data.get("step", 0) >= 130:
            client.fine_tuning.jobs.pause(live.id)
            break
        time.sleep(0.05)
    while (job := client.fine_tuning.jobs.retrieve(done.id)).status != "succeeded":
        time.sleep(0.1)
    assert job.fine_tuned_model
    return live.id, job.fine_tuned_model


async def shoot(out: Path, home: Path) -> list[Path]:
    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.core.formats import export_jsonl  # noqa: F401 - the dataset core is importable
    from tui.emulator import EmulatorThread, demo_dataset_path
    from tui.messages import OpenInPlayground

    written: list[Path] = []
    pairs = home / "grammar.txt"
    pairs.write_text(demo_dataset_path().read_text(encoding="utf-8") + BROKEN_LINES, "utf-8")
    training = home / "grammar.jsonl"
    from tui.cli import main as cli

    cli(["convert", str(demo_dataset_path()), "-o", str(training)])

    with EmulatorThread(seed=5, speed=40.0) as emu:
        write_config(home, emu.base_url)
        live_job, tuned = await asyncio.to_thread(train_and_pause, emu.base_url, training)

        for size, name in ((WIDE, "dataset.svg"), (NARROW, "dataset-80x24.svg")):
            app = TunebenchApp(load_config(), profile_name="demo", dataset_path=pairs)
            async with app.run_test(size=size) as pilot:
                await app.workers.wait_for_complete()
                await pilot.pause(0.5)
                if size == NARROW:  # panes are tabs at 80 columns: show the problems tab
                    await pilot.press("f4")
                    await pilot.pause(0.3)
                written.append(Path(app.save_screenshot(name, str(out))))

        app = TunebenchApp(load_config(), profile_name="demo", dataset_path=pairs)
        async with app.run_test(size=WIDE) as pilot:
            await pilot.press("2")
            table = app.screen.query_one("DataTable")
            await until(pilot, lambda: table.row_count >= 2, "the jobs list")
            for row in range(table.row_count):
                if live_job in str(table.get_row_at(row)):
                    table.move_cursor(row=row)
            await pilot.press("enter")
            chart = app.screen.query_one("LossChart")
            await until(pilot, lambda: chart.n_points >= 130, "the loss chart")
            await pilot.pause(1.0)
            written.append(Path(app.save_screenshot("job-training.svg", str(out))))

            app.post_message(OpenInPlayground(tuned))
            await until(pilot, lambda: app.screen.__class__.__name__ == "PlaygroundScreen", "pg")
            await pilot.pause(1.0)
            await pilot.press("ctrl+o")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.press(*"Ja, być, wczoraj, zewnątrz")
            await pilot.press("enter")
            await until(pilot, lambda: not app.screen.streaming, "the replies", timeout=30)
            await pilot.pause(1.0)
            written.append(Path(app.save_screenshot("playground-compare.svg", str(out))))

            # Back to one model: two exchanges, then save the conversation as an example.
            await pilot.press("ctrl+o")
            await pilot.pause(0.3)
            for prompt in ("Kot, spać, kanapa", "Mama, ja, chcieć, ciastko"):
                await pilot.press(*prompt)
                await pilot.press("enter")
                await until(pilot, lambda: not app.screen.streaming, "a reply", timeout=30)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "SaveExample" in app.screen.__class__.__name__, "dialog")
            await pilot.pause(0.5)
            written.append(Path(app.save_screenshot("playground-save.svg", str(out))))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="tunebench-shots-"))
    try:
        isolate(home)
        for path in asyncio.run(shoot(args.out.resolve(), home)):
            print(path)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
