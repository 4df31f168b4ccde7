"""Deterministic train/validation split: exact duplicates never land on both sides."""

from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Hashable, Iterable, Sequence


def split_sides(keys: Iterable[Hashable], validation_fraction: float, seed: int) -> bytearray:
    """For each key in order, 1 if its item goes to validation, else 0.

    Equal keys form one group that goes to one side; the groups are shuffled with `seed`,
    and validation takes the groups that fit in the wanted share. Training always keeps at
    least one group, so validation may be empty when the duplicates allow no split (every
    example the same). The same keys, fraction and seed always give the same sides. Memory
    is a few bytes an item plus one dict entry a distinct key: a stream of 1.5M digests
    works without the texts.
    """
    if not 0 < validation_fraction < 1:
        raise ValueError("the validation share must be between 0 and 1 (e.g. 0.1)")
    group_ids: dict[Hashable, int] = {}
    group_of = array("I")
    for key in keys:
        group_of.append(group_ids.setdefault(key, len(group_ids)))
    n_groups = len(group_ids)
    del group_ids
    sizes = array("I", bytes(4 * n_groups))
    for group in group_of:
        sizes[group] += 1
    order = list(range(n_groups))  # groups in first-seen order, then shuffled
    random.Random(seed).shuffle(order)
    want = max(1, round(len(group_of) * validation_fraction)) if group_of else 0
    held = bytearray(n_groups)
    size = 0
    for group in order:
        if size + sizes[group] <= want:
            held[group] = 1
            size += sizes[group]
    if not any(held) and n_groups > 1:
        # Every group is larger than the share: hold out the smallest one, never them all.
        held[min(order, key=sizes.__getitem__)] = 1
    return bytearray(held[group] for group in group_of)


def split_indices(
    texts: Sequence[bytes], validation_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """(train, validation) indices into `texts`, each in file order: `split_sides` with
    identical texts (after stripping whitespace) as one group."""
    sides = split_sides((text.strip() for text in texts), validation_fraction, seed)
    return [i for i, side in enumerate(sides) if not side], [
        i for i, side in enumerate(sides) if side
    ]


def split_key(text: bytes) -> bytes:
    """The group key of an example streamed from a big file: a digest of its stripped text
    (equal texts, equal keys; a stand-in for the text that holds no example in memory)."""
    return hashlib.blake2b(text.strip(), digest_size=16).digest()


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
