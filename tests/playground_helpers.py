"""Shared by the Playground tests: an emulator profile and a tuned model made through the SDK."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from emulator_support import write_emulator_config

from tui.config import load_config
from tui.emulator.demo import DEMO_SYSTEM_PROMPT, demo_dataset_path

KEY_ENV = "PLAYGROUND_TEST_KEY"


def demo_examples() -> list[dict[str, object]]:
    """The bundled demo pairs as chat examples with the training system prompt."""
    examples = []
    for line in demo_dataset_path().read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words, sentence = (part.strip() for part in line.split(";", 1))
        examples.append(
            {
                "messages": [
                    {"role": "system", "content": DEMO_SYSTEM_PROMPT},
                    {"role": "user", "content": words},
                    {"role": "assistant", "content": sentence},
                ]
            }
        )
    return examples


def write_jsonl(path: Path, examples: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples))
    return path


def write_profile(home: Path, base_url: str, system_prompt: str = DEMO_SYSTEM_PROMPT) -> Path:
    """A config whose default profile points at the emulator (the key comes from KEY_ENV)."""
    return write_emulator_config(
        home, base_url, KEY_ENV, f"dataset: {{system_prompt: '{system_prompt}'}}\n"
    )


def loaded_config():  # type: ignore[no-untyped-def]
    return load_config()


async def train(base_url: str, training: Path, *, suffix: str = "demo") -> str:
    """Run a fine-tuning job on the emulator through the SDK; return its `ft:` model."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="test-key")
    with training.open("rb") as handle:
        uploaded = await client.files.create(file=handle, purpose="fine-tune")
    job = await client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14", training_file=uploaded.id, suffix=suffix, seed=1
    )
    for _ in range(2000):  # bounded polling of the job's state
        job = await client.fine_tuning.jobs.retrieve(job.id)
        if job.status in ("succeeded", "failed", "cancelled"):
            break
        await asyncio.sleep(0.01)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model is not None
    await client.close()
    return job.fine_tuned_model
