"""One train/validation split: `jobs create --validation N%`, the launch form (both through
the pre-flight) and the Dataset screen's F9 split hold out the same examples, and an
example's exact duplicates never land on both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.api.preflight import preflight
from tui.core.formats import to_jsonl_line
from tui.core.split import split_bytes
from tui.errors import UsageError


def chat(i: int) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"Kot {i}, spać"},
                {"role": "assistant", "content": f"Kot {i} śpi."},
            ]
        },
        ensure_ascii=False,
    )


def test_launch_split_and_dataset_split_agree_and_keep_duplicates_on_one_side(
    tmp_path: Path,
) -> None:
    lines = [chat(i) for i in range(16)] + [chat(3)] * 4 + [chat(11)] * 4
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for seed in range(6):
        check = preflight(path, "gpt-4.1-mini", split_percent=30, seed=seed)
        assert check.validation is not None
        uploaded, held_out = check.training.read_bytes(), check.validation.read_bytes()
        train = set(uploaded.splitlines())
        valid = set(held_out.splitlines())
        assert train and valid and not train & valid  # no example on both sides
        assert check.n_validation == len(held_out.splitlines())
        again = preflight(path, "gpt-4.1-mini", split_percent=30, seed=seed)
        assert again.validation is not None
        assert again.validation.read_bytes() == held_out  # deterministic by seed
        texts = [to_jsonl_line(json.loads(line)).encode() for line in lines]
        screen_train, screen_valid, _, _ = split_bytes(texts, 0.30, seed)
        assert screen_valid == held_out  # F9 holds out the same examples
        assert screen_train == uploaded


def test_training_is_never_emptied_by_a_group_of_duplicates(tmp_path: Path) -> None:
    same = chat(1)
    path = tmp_path / "same.jsonl"
    path.write_text((same + "\n") * 12, encoding="utf-8")
    # Twelve copies of one example cannot be split without putting it on both sides.
    with pytest.raises(UsageError, match="every example is the same"):
        preflight(path, "gpt-4.1-mini", split_percent=25, seed=1)
    # A big group of duplicates never swallows the whole file: it stays in training.
    lines = [chat(0)] * 10 + [chat(i) for i in range(1, 5)]
    texts = [to_jsonl_line(json.loads(line)).encode() for line in lines]
    for seed in range(8):
        _, valid, n_train, n_valid = split_bytes(texts, 0.25, seed)
        assert n_train >= 10 and 1 <= n_valid <= 4
        assert to_jsonl_line(json.loads(chat(0))).encode() not in valid
