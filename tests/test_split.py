"""One train/validation split: `jobs create --validation N%`, the launch form (both through
the pre-flight) and the Dataset screen's F9 split hold out the same examples, and an
example's exact duplicates never land on both sides."""

from __future__ import annotations

import json
from pathlib import Path

from tui.api.preflight import preflight
from tui.core.formats import to_jsonl_line
from tui.core.split import split_bytes


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
        train = set(check.training.splitlines())
        valid = set(check.validation.splitlines())
        assert train and valid and not train & valid  # no example on both sides
        assert check.n_validation == len(check.validation.splitlines())
        again = preflight(path, "gpt-4.1-mini", split_percent=30, seed=seed)
        assert again.validation == check.validation  # deterministic by seed
        texts = [to_jsonl_line(json.loads(line)).encode() for line in lines]
        _, screen_valid, _, _ = split_bytes(texts, 0.30, seed)
        assert screen_valid == check.validation  # F9 holds out the same examples
