"""Chat answers: a tuned model repeats what it was trained on, a base model stays generic.

A tuned (or checkpoint) model answers with the assistant text of the training example whose
prompt is nearest to the last user message: an exact match (ignoring case and surrounding
space) first, else the most shared character trigrams. So a test can predict the answer, and
the demo visibly learnt its pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui.emulator.examples import Example, content_text, count_tokens, pieces


def _trigrams(text: str) -> set[str]:
    padded = f"  {text.casefold()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def nearest_answer(examples: Sequence[Example], prompt: str) -> str:
    """The answer of the example nearest to `prompt`; `examples` must not be empty."""
    key = prompt.strip().casefold()
    for example in examples:
        if example.prompt.strip().casefold() == key:
            return example.answer
    grams = _trigrams(prompt)

    def score(example: Example) -> float:
        theirs = _trigrams(example.prompt)
        return len(grams & theirs) / max(1, len(grams | theirs))

    return max(examples, key=score).answer


def generic_answer(model: str, prompt: str) -> str:
    return (
        f"This is a generic reply from the emulated model {model}. It has not been "
        f"fine-tuned, so it only restates your message: {prompt.strip()[:200]}"
    )


def last_user_text(messages: Sequence[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def prompt_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """Tokens of the prompt as chat models count them: content plus 3 per message, plus 3."""
    return 3 + sum(3 + count_tokens(content_text(m.get("content"))) for m in messages)


def truncate(answer: str, max_tokens: int | None) -> tuple[list[str], str]:
    """The answer's token-sized pieces, cut at `max_tokens`, and the finish reason."""
    parts = pieces(answer)
    if max_tokens is not None and len(parts) > max_tokens:
        return parts[:max_tokens], "length"
    return parts, "stop"


def usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
