"""Chat answers: a tuned model answers from its training data, a base model stays generic.

A tuned (or checkpoint) model looks for the training example whose prompt is nearest to the
last user message (by shared character trigrams):

- the same words as a training prompt (ignoring case, spacing and punctuation): that example's
  answer, as it was trained;
- a prompt that differs from the nearest one only in some words, each of which the answer
  contains (as written, or sharing its stem): the nearest answer with those words swapped for
  the user's (`Pies, spać, kanapa` -> `Pies śpi na kanapie.` after `Kot, spać, kanapa` ->
  `Kot śpi na kanapie.`), the transformation that example shows (swapped words are not
  inflected: the emulator knows no grammar);
- anything else: an honest reply saying the emulator has no answer for this input and which
  training example was nearest, so a comparison with the base model never shows a memorised
  answer as if it were learnt behaviour.

A training example whose answer is a tool call is answered with that call (its arguments
adapted the same way) when the request offers that function.

So a test can predict every answer, and the demo shows what the data taught.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.emulator.examples import Example, ToolCall, content_text, count_tokens, pieces

MIN_SIMILARITY = 0.25  # trigram overlap below which no training example is "near"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Answer:
    """What a model replies: text, or a call of one of the request's tools."""

    text: str
    tool_call: ToolCall | None = None


def _trigrams(text: str) -> set[str]:
    padded = f"  {text.casefold()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def similarity(a: str, b: str) -> float:
    ours, theirs = _trigrams(a), _trigrams(b)
    return len(ours & theirs) / max(1, len(ours | theirs))


def nearest(examples: Sequence[Example], prompt: str) -> Example:
    """The example with the same words as `prompt`, else the one sharing most trigrams."""
    words = _words(prompt)
    for example in examples:
        if words and _words(example.prompt) == words:
            return example
    return max(examples, key=lambda example: similarity(prompt, example.prompt))


def _stem_match(old: str, candidate: str) -> bool:
    """`candidate` is `old` as written or inflected: same word, or a shared stem of at least
    three letters that leaves at most two letters of `old` over (kanapa ~ kanapie)."""
    a, b = old.casefold(), candidate.casefold()
    if a == b:
        return True
    shared = len(_common_prefix(a, b))
    return shared >= 3 and len(a) - shared <= 2


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _cased_like(word: str, model: str) -> str:
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def transform(example: Example, prompt: str) -> str | None:
    """`example.answer` with the words `prompt` changed relative to `example.prompt` swapped
    in; None when the prompts differ in shape or a changed word is not in the answer."""
    old_words = _WORD.findall(example.prompt)
    new_words = _WORD.findall(prompt)
    matcher = difflib.SequenceMatcher(
        a=[w.casefold() for w in old_words], b=[w.casefold() for w in new_words], autojunk=False
    )
    swaps: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or i2 - i1 != j2 - j1:
            return None
        swaps.extend(zip(old_words[i1:i2], new_words[j1:j2], strict=True))
    answer = example.answer
    for old, new in swaps:
        spans = [m for m in _WORD.finditer(answer) if _stem_match(old, m.group())]
        if not spans:
            return None
        for match in reversed(spans):
            replacement = _cased_like(new, match.group())
            answer = answer[: match.start()] + replacement + answer[match.end() :]
    return answer


def no_answer(example: Example) -> str:
    shown = example.answer or f"a call of {example.tool_call.name if example.tool_call else '?'}"
    return (
        "[emulated] No training example matches this input, and the nearest one's answer "
        f'cannot be adapted to it. Nearest: "{example.prompt.strip()[:200]}" -> "{shown[:200]}"'
    )


def tuned_answer(examples: Sequence[Example], prompt: str, *, calls: set[str] | None) -> Answer:
    """A tuned model's answer to `prompt`; `calls` are the function names it may call (None:
    no tools offered). `examples` must not be empty."""

    def may_answer(example: Example) -> bool:
        callable_ = example.tool_call is not None and example.tool_call.name in (calls or ())
        return callable_ or bool(example.answer)

    example = nearest([e for e in examples if may_answer(e)] or examples, prompt)
    same = bool(_words(prompt)) and _words(example.prompt) == _words(prompt)
    near = same or similarity(prompt, example.prompt) >= MIN_SIMILARITY
    call = example.tool_call
    if call is not None and call.name in (calls or ()):
        if same:
            return Answer("", call)
        arguments = transform(Example(example.prompt, call.arguments), prompt) if near else None
        if arguments is not None:
            return Answer("", ToolCall(call.name, arguments))
        return Answer(no_answer(example))
    if same:
        return Answer(example.answer)
    if example.answer and near:
        changed = transform(example, prompt)
        if changed is not None:
            return Answer(changed)
    return Answer(no_answer(example))


def after_tool(result: str) -> str:
    """The reply to a tool's result: the emulator cannot reason about it, so it says so."""
    return f"[emulated] The tool returned: {result.strip()[:200]}"


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
