"""`tunebench chat` as a user runs it: a subprocess against the emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from playground_helpers import KEY_ENV, demo_examples, train, write_jsonl, write_profile

from tui.emulator.chat import generic_answer
from tui.emulator.server import EmulatorThread

BASE = "gpt-4.1-mini-2025-04-14"


@pytest.fixture
def served(isolated_home: Path, tmp_path: Path) -> Iterator[SimpleNamespace]:
    with EmulatorThread(seed=0, speed=1000.0) as emu:
        config = write_profile(isolated_home, emu.base_url)
        model = asyncio.run(
            train(emu.base_url, write_jsonl(tmp_path / "train.jsonl", demo_examples()))
        )
        env = {"TUNEBENCH_CONFIG": str(config), KEY_ENV: "test-key"}
        yield SimpleNamespace(emu=emu, model=model, env=env)


def test_chat_streams_the_tuned_reply(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    # the config's dataset.system_prompt (the training one) is used by default
    result = run_cli("chat", "--model", served.model, "Kot, spać, kanapa", **served.env)
    assert result.returncode == 0, result
    assert result.stdout == "Kot śpi na kanapie.\n"
    assert "first token" in result.stderr and "19 prompt + 6 reply tokens" in result.stderr


def test_chat_compare_prints_both_labelled(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "chat",
        "-m",
        served.model,
        "--compare",
        BASE,
        "--system",
        "",
        "Kot, spać, kanapa",
        **served.env,
    )
    assert result.returncode == 0, result
    assert result.stdout == (
        f"== {served.model} ==\nKot śpi na kanapie.\n\n"
        f"== {BASE} ==\n{generic_answer(BASE, 'Kot, spać, kanapa')}\n"
    )
    assert f"[{served.model}: first token" in result.stderr
    assert f"[{BASE}: first token" in result.stderr


def test_chat_cut_stream_prints_partial_and_fails(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    served.emu.inject("cut-stream")
    result = run_cli("chat", "-m", served.model, "Mama, ja, wczoraj, być, las", **served.env)
    assert result.returncode == 1
    assert result.stdout and "Mamo, byłem wczoraj w lesie.".startswith(result.stdout.strip())
    assert "cut off mid-stream" in result.stderr and "partial" in result.stderr


def test_chat_unknown_model_is_one_line(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("chat", "-m", "ft:nope", "hello", **served.env)
    assert result.returncode == 1
    assert result.stderr.startswith("model not found (404): The model `ft:nope` does not exist")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_chat_without_key_names_the_variable(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    env = dict(served.env)
    env[KEY_ENV] = ""
    result = run_cli("chat", "-m", served.model, "hello", **env)
    assert result.returncode == 2
    assert f"reads ${KEY_ENV}, which is not set" in result.stderr


def test_chat_rate_limit_is_retried_visibly(served: SimpleNamespace, run_cli) -> None:  # type: ignore[no-untyped-def]
    served.emu.inject("429", count=1, seconds=0.1)
    result = run_cli("chat", "-m", served.model, "Kot, spać, kanapa", **served.env)
    assert result.returncode == 0, result
    assert "rate limited (429), retrying in 0.1 s" in result.stderr
    assert result.stdout == "Kot śpi na kanapie.\n"
