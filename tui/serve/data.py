"""Training lines → what the trainers eat: token ids with a label mask (SFT), or
prompt/chosen/rejected conversations (DPO).

The label mask is built here rather than left to TRL so `weight: 0` assistant turns can be
excluded (TRL has no per-message weight): the chat template's `{% generation %}` markers give
the assistant spans; without markers, each assistant turn is found by rendering the
conversation up to it and taking the tokens it adds. Examples whose trained tokens are all
cut away by `max_length` are reported, not dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

IGNORE = -100


@dataclass
class Tokenized:
    """SFT rows (input_ids + labels) and the 1-based lines dropped, with why."""

    rows: list[dict[str, list[int]]] = field(default_factory=list)
    dropped: list[tuple[int, str]] = field(default_factory=list)
    tokens: int = 0  # every token of the kept rows (what one epoch trains on)
    longest: int = 0


def read_lines(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank JSONL line (the file was validated before)."""
    out = []
    for number, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if line.strip():
            out.append((number, json.loads(line)))
    return out


def _text(content: object) -> str:
    from tui.core.formats import content_text

    return content_text(content)


def plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages as the chat template wants them: role and text content only."""
    return [{"role": str(m["role"]), "content": _text(m.get("content"))} for m in messages]


def _spans(mask: list[int]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _ids(encoded: Any) -> list[int]:
    ids = encoded["input_ids"] if isinstance(encoded, dict) or hasattr(encoded, "keys") else encoded
    return list(ids)


def _assistant_spans(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], list]:
    """Token ids of the whole conversation and the (start, end) span of each assistant turn."""
    template = tokenizer.chat_template or ""
    if "{% generation %}" in template or "{%- generation %}" in template:
        encoded = tokenizer.apply_chat_template(
            messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
        )
        return list(encoded["input_ids"]), _spans(list(encoded["assistant_masks"]))
    ids = _ids(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True))
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _ids(
            tokenizer.apply_chat_template(
                messages[:i], tokenize=True, return_dict=True, add_generation_prompt=True
            )
        )
        upto = _ids(
            tokenizer.apply_chat_template(messages[: i + 1], tokenize=True, return_dict=True)
        )
        spans.append((len(before), len(upto)))
    return ids, spans


def tokenize_chat(
    tokenizer: Any, messages: list[dict[str, Any]], max_length: int | None
) -> tuple[list[int], list[int]]:
    """input_ids and labels: labels are the ids on trained assistant turns, -100 elsewhere."""
    plain = plain_messages(messages)
    ids, spans = _assistant_spans(tokenizer, plain)
    assistants = [m for m in messages if m.get("role") == "assistant"]
    if len(spans) != len(assistants):
        raise ValueError(
            f"the chat template marks {len(spans)} assistant spans for "
            f"{len(assistants)} assistant messages"
        )
    labels = [IGNORE] * len(ids)
    for (start, end), message in zip(spans, assistants, strict=True):
        if message.get("weight", 1) == 0:
            continue
        labels[start:end] = ids[start:end]
    if max_length is not None:
        ids, labels = ids[:max_length], labels[:max_length]
    return ids, labels


def tokenize_file(tokenizer: Any, data: bytes, max_length: int | None) -> Tokenized:
    out = Tokenized()
    for number, line in read_lines(data):
        ids, labels = tokenize_chat(tokenizer, line["messages"], max_length)
        if all(label == IGNORE for label in labels):
            out.dropped.append((number, "no trained assistant token within max_length"))
            continue
        out.rows.append({"input_ids": ids, "labels": labels})
        out.tokens += len(ids)
        out.longest = max(out.longest, len(ids))
    return out


def preference_rows(data: bytes) -> list[dict[str, Any]]:
    """OpenAI preference lines → TRL's conversational prompt/chosen/rejected rows."""
    rows = []
    for _number, line in read_lines(data):
        rows.append(
            {
                "prompt": plain_messages(line["input"]["messages"]),
                "chosen": plain_messages(line["preferred_output"]),
                "rejected": plain_messages(line["non_preferred_output"]),
            }
        )
    return rows


def count_tokens(tokenizer: Any, data: bytes, *, dpo: bool) -> list[int]:
    """Tokens of each example with the model's own tokenizer and chat template. Raises
    ValueError naming the first line that is no training example of that kind."""
    counts = []
    for number, line in enumerate(data.decode("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            counts.append(_count_line(tokenizer, json.loads(line), dpo))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            kind = "preference" if dpo else "chat"
            raise ValueError(f"line {number} is no {kind} example ({exc!s:.80})") from None
    return counts


def _count_line(tokenizer: Any, line: dict[str, Any], dpo: bool) -> int:
    if not dpo:
        messages = plain_messages(line["messages"])
        return len(_ids(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)))
    prompt = plain_messages(line["input"]["messages"])
    return max(
        len(
            _ids(
                tokenizer.apply_chat_template(
                    prompt + plain_messages(answer), tokenize=True, return_dict=True
                )
            )
        )
        for answer in (line["preferred_output"], line["non_preferred_output"])
    )
