"""Pre-flight on a local trainer: `serve` counts the upload with its model's own tokenizer
(`POST /v1/tunebench/preflight`, over real HTTP), `jobs create` and the launch form show
that count, the lines past the context length as file:line and a time instead of a price;
a server without the route leaves the count approximate and says so; the Dataset screen's
stats line on a local profile names no OpenAI price."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import openai
import pytest

from tests.serve_support import PAIRS, SYSTEM, chat_lines, dpo_lines
from tui.api.preflight import ask_server, preflight
from tui.api.server_count import APPROXIMATE
from tui.emulator import EmulatorThread
from tui.serve.server import ServeThread

LONG_USER = " ".join(["Mama, ja, chcieć, ciastko, Kot, spać, kanapa"] * 20)  # > 256 tokens


def own_count(tiny: Path, line: str) -> int:
    """Tokens of one chat line by the model's tokenizer, counted here (not by serve)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    text = tokenizer.apply_chat_template(json.loads(line)["messages"], tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_the_route_counts_each_line_with_the_models_tokenizer(
    serve: ServeThread, tiny: Path
) -> None:
    lines = chat_lines([*PAIRS[:3], (LONG_USER, "Mamo.")]).decode().splitlines()
    client = openai.OpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    body = client.post(
        "/tunebench/preflight",
        body={"model": "tiny-llama", "lines": lines, "n_epochs": 2},
        cast_to=object,
    )
    assert isinstance(body, dict)
    assert body["tokens"] == [own_count(tiny, line) for line in lines]
    assert body["tokens"][3] > 256 > max(body["tokens"][:3])
    assert body["total_tokens"] == sum(body["tokens"]) and body["longest"] == body["tokens"][3]
    assert body["context_length"] == 256 and body["max_length"] == 256
    assert body["too_long"] == [4]
    assert body["n_epochs"] == 2
    assert body["tokens_per_second"] is None and body["estimated_seconds"] is None  # no job yet
    auto = client.post(
        "/tunebench/preflight", body={"model": "tiny-llama", "lines": lines}, cast_to=object
    )
    assert isinstance(auto, dict) and auto["n_epochs"] == 25  # OpenAI's auto for 4 examples


def own_dpo_count(tiny: Path, line: str) -> int:
    """Tokens of one preference line, counted here: the prompt with its longer answer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    example = json.loads(line)
    prompt = example["input"]["messages"]
    return max(
        len(
            tokenizer(
                tokenizer.apply_chat_template(prompt + example[side], tokenize=False),
                add_special_tokens=False,
            )["input_ids"]
        )
        for side in ("preferred_output", "non_preferred_output")
    )


def long_rejected_line() -> str:
    """A preference line whose rejected answer, not its preferred one, is past 256 tokens."""
    example = json.loads(dpo_lines().decode().splitlines()[0])
    example["non_preferred_output"] = [{"role": "assistant", "content": LONG_USER}]
    return json.dumps(example, ensure_ascii=False)


def test_the_route_counts_preference_lines_with_the_models_tokenizer(
    serve: ServeThread, tiny: Path
) -> None:
    lines = dpo_lines().decode().splitlines()[:3]
    lines.insert(1, long_rejected_line())
    client = openai.OpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    body = client.post(
        "/tunebench/preflight",
        body={"model": "tiny-llama", "lines": lines, "method": "dpo", "n_epochs": 1},
        cast_to=object,
    )
    assert isinstance(body, dict)
    assert body["tokens"] == [own_dpo_count(tiny, line) for line in lines]
    assert body["tokens"][1] > 256 > max(body["tokens"][0], *body["tokens"][2:])
    assert body["too_long"] == [2] and body["max_length"] == 256
    assert body["total_tokens"] == sum(body["tokens"]) and body["n_epochs"] == 1
    with pytest.raises(openai.BadRequestError, match="line 1 is no preference example"):
        client.post(
            "/tunebench/preflight",
            body={"model": "tiny-llama", "lines": chat_lines(PAIRS[:1]).decode().splitlines(),
                  "method": "dpo"},
            cast_to=object,
        )  # fmt: skip


def test_a_preference_file_names_its_own_lines_past_the_context_length(
    serve: ServeThread, tiny: Path, tmp_path: Path
) -> None:
    lines = dpo_lines().decode().splitlines()
    lines.insert(4, long_rejected_line())
    lines.insert(2, "")  # a blank line: the upload's line 5 is the file's line 6
    path = tmp_path / "prefs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check = preflight(path, "tiny-llama", epochs=1, local=True)
    assert check.method == "dpo"
    client = openai.AsyncOpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    asyncio.run(ask_server(client, check, 1))
    assert check.server is not None
    examples = [line for line in lines if line]
    assert check.server.tokens == [own_dpo_count(tiny, line) for line in examples]
    assert check.server.too_long == [5]
    text = "\n".join(check.summary())
    assert f"tokens (tiny-llama tokenizer): {check.server.total:,} · longest " in text
    assert "1 example(s) longer than 256 tokens, cut at training: prefs.jsonl:6" in text
    assert "local trainer: no price" in text and "$" not in text


def test_the_route_refuses_what_it_cannot_count_in_openai_errors(serve: ServeThread) -> None:
    client = openai.OpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    good = chat_lines(PAIRS[:1]).decode().strip()

    def ask(**body: object) -> object:
        return client.post("/tunebench/preflight", body=body, cast_to=object)

    with pytest.raises(openai.BadRequestError, match="not available for fine-tuning"):
        ask(model="gpt-4o", lines=[good])
    with pytest.raises(openai.BadRequestError, match="line 2 is no chat example"):
        ask(model="tiny-llama", lines=[good, '{"prompt": "x"}'])
    with pytest.raises(openai.BadRequestError, match="list of JSONL lines"):
        ask(model="tiny-llama", lines=good)
    with pytest.raises(openai.BadRequestError, match="n_epochs"):
        ask(model="tiny-llama", lines=[good], n_epochs=0)


def test_a_pairs_file_names_its_own_lines_past_the_context_length(
    serve: ServeThread, tmp_path: Path
) -> None:
    pairs = [f"{user}; {assistant}" for user, assistant in PAIRS]
    pairs.insert(6, f"{LONG_USER}; Mamo.")
    path = tmp_path / "pairs.txt"
    path.write_text(f"# system: {SYSTEM}\n\n" + "\n".join(pairs) + "\n", encoding="utf-8")
    check = preflight(path, "tiny-llama", epochs=2, local=True)
    client = openai.AsyncOpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    asyncio.run(ask_server(client, check, 2))
    assert check.server is not None and check.server.too_long == [7]
    text = "\n".join(check.summary())
    assert f"tokens (tiny-llama tokenizer): {check.server.total:,} · longest " in text
    assert "1 example(s) longer than 256 tokens, cut at training: pairs.txt:9" in text
    assert f"epochs: 2 · trained tokens: {check.server.total * 2:,} · time: unknown until" in text
    assert "local trainer: no price" in text and "$" not in text and "≈" not in text


def test_jobs_create_on_a_local_profile_shows_the_models_count(
    serve: ServeThread, run_cli, isolated_home: Path, tmp_path: Path
) -> None:
    config = isolated_home / "config" / "tunebench" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"default_profile: gpu\nprofiles:\n  gpu: {{kind: local, base_url: '{serve.base_url}'}}\n",
        encoding="utf-8",
    )
    config.chmod(0o600)
    dataset = tmp_path / "train.jsonl"
    dataset.write_bytes(chat_lines())
    result = run_cli(
        "jobs", "create", str(dataset), "--model", "tiny-llama", "--profile", "gpu",
        "--epochs", "1", timeout=180,
    )  # fmt: skip
    client = openai.OpenAI(base_url=serve.base_url, api_key="local", max_retries=0)
    job_id = result.stdout.strip()
    assert result.returncode == 0 and job_id.startswith("ftjob-"), result
    client.fine_tuning.jobs.cancel(job_id)  # only the pre-flight is under test
    tokens = client.post(
        "/tunebench/preflight",
        body={"model": "tiny-llama", "lines": chat_lines().decode().splitlines()},
        cast_to=object,
    )
    assert isinstance(tokens, dict)
    assert f"tokens (tiny-llama tokenizer): {tokens['total_tokens']:,} · " in result.stderr
    assert "epochs: 1 · trained tokens: " in result.stderr
    assert "local trainer: no price" in result.stderr and "$" not in result.stderr


def test_a_server_without_the_route_leaves_the_count_approximate(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(chat_lines())
    check = preflight(path, "gpt-4.1-mini-2025-04-14", local=True)
    with EmulatorThread(seed=0, speed=50.0, env_faults=False) as emulator:
        client = openai.AsyncOpenAI(base_url=emulator.base_url, api_key="k", max_retries=0)
        asyncio.run(ask_server(client, check, None))
    assert check.server is None and check.server_note == APPROXIMATE
    text = "\n".join(check.summary())
    assert "tokens: ≈" in text and APPROXIMATE in text
    assert "local trainer: no price" in text and "$" not in text


async def test_the_stats_line_on_a_local_profile_shows_no_openai_price(
    isolated_home: Path, tmp_path: Path
) -> None:
    from tui.app import TunebenchApp
    from tui.config import load_config
    from tui.screens.dataset import DatasetScreen

    config = isolated_home / "config" / "tunebench" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "default_profile: gpu\n"
        "profiles:\n  gpu: {kind: local, base_url: 'http://127.0.0.1:9/v1'}\n",
        encoding="utf-8",
    )
    config.chmod(0o600)
    dataset = tmp_path / "train.jsonl"
    dataset.write_bytes(chat_lines())
    app = TunebenchApp(load_config(), profile_name="gpu", dataset_path=dataset)
    async with app.run_test(size=(120, 30)) as pilot:
        deadline = time.monotonic() + 60
        while " tokens · " not in (line := str(app.screen.query_one("#stats").render())):
            assert time.monotonic() < deadline, "the stats line never counted the tokens"
            await pilot.pause(0.05)
        assert isinstance(app.screen, DatasetScreen)
    assert "10 examples" in line and " tokens" in line and "≈" in line
    assert "local trainer: no price" in line
    assert "$" not in line and "gpt-4.1-mini" not in line
