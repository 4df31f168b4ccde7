"""Deterministic train/validation split: exact duplicates never land on both sides."""

from __future__ import annotations

import random
from collections.abc import Sequence


def split_indices(
    texts: Sequence[bytes], validation_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """(train, validation) indices into `texts`, each in file order.

    Identical texts (after stripping whitespace) form one group that goes to one side; the
    groups are shuffled with `seed`, and validation takes the groups that fit in the wanted
    share. Training always keeps at least one group, so validation may be empty when the
    duplicates allow no split (every example the same). The same input, fraction and seed
    always give the same split.
    """
    if not 0 < validation_fraction < 1:
        raise ValueError("the validation share must be between 0 and 1 (e.g. 0.1)")
    groups: dict[bytes, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(text.strip(), []).append(i)
    order = list(groups.values())
    random.Random(seed).shuffle(order)
    want = max(1, round(len(texts) * validation_fraction)) if texts else 0
    taken: list[list[int]] = []
    size = 0
    for group in order:
        if size + len(group) <= want:
            taken.append(group)
            size += len(group)
    if not taken and len(order) > 1:
        # Every group is larger than the share: hold out the smallest one, never them all.
        taken.append(min(order, key=len))
    held = {i for group in taken for i in group}
    validation = [i for i in range(len(texts)) if i in held]
    train = [i for i in range(len(texts)) if i not in held]
    return train, validation


def split_bytes(
    texts: Sequence[bytes], validation_fraction: float, seed: int
) -> tuple[bytes, bytes, int, int]:
    """(train JSONL, validation JSONL, n_train, n_validation)."""
    train, validation = split_indices(texts, validation_fraction, seed)
    return (
        b"".join(texts[i] + b"\n" for i in train),
        b"".join(texts[i] + b"\n" for i in validation),
        len(train),
        len(validation),
    )
