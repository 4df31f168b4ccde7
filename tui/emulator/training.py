"""The small model a job really trains, so its loss curve comes from the data.

A bigram softmax over hashed word-piece ids: p(next | previous) = softmax(W[previous] + b).
Each step takes one batch of examples in a seeded shuffled order, measures cross-entropy and
top-1 accuracy on the batch's assistant tokens, then applies one SGD update. A dataset with
regular answers is learnt within a few epochs; noise is not. Pure Python, deterministic for a
seed, and cheap: tokens per example, examples per step and the vocabulary are capped.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tui.emulator.examples import Example, tokenize

BOS, EOS = 0, 1
MAX_TOKENS_PER_EXAMPLE = 64
MAX_EXAMPLES_PER_STEP = 32  # of a bigger batch, the first 32 are trained on (bounds a step's cost)
MAX_VOCAB = 512
BASE_LEARNING_RATE = 1.5


@dataclass(frozen=True)
class Metrics:
    loss: float
    accuracy: float


def vocab_size_for(examples: Sequence[Example]) -> int:
    """A power of two with room for the distinct tokens, so hashing collides rarely."""
    distinct = {token for ex in examples for token in tokenize(ex.answer)}
    size = 64
    while size < 2 * len(distinct) and size < MAX_VOCAB:
        size *= 2
    return size


def encode(text: str, vocab_size: int) -> list[tuple[int, int]]:
    """(previous, next) id pairs for an answer, from BOS to EOS; ids are stable hashes."""
    ids = [
        2 + zlib.crc32(token.encode()) % (vocab_size - 2)
        for token in tokenize(text)[:MAX_TOKENS_PER_EXAMPLE]
    ]
    seq = [BOS, *ids, EOS]
    return list(itertools.pairwise(seq))


class BigramModel:
    def __init__(self, vocab_size: int, learning_rate: float) -> None:
        self.vocab_size = vocab_size
        self.learning_rate = learning_rate
        self.rows: dict[int, list[float]] = {}
        self.bias = [0.0] * vocab_size

    def _probs(self, previous: int) -> list[float]:
        row = self.rows.get(previous)
        logits = self.bias if row is None else [w + b for w, b in zip(row, self.bias, strict=True)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def _by_previous(
        self, pairs: Sequence[tuple[int, int]]
    ) -> dict[int, tuple[list[float], Counter[int]]]:
        """Per distinct previous token: p(next | previous), and how often each target follows.

        The probabilities depend only on the previous token, so they are computed once each.
        """
        follows: dict[int, Counter[int]] = {}
        for previous, target in pairs:
            follows.setdefault(previous, Counter())[target] += 1
        return {prev: (self._probs(prev), counts) for prev, counts in follows.items()}

    @staticmethod
    def _metrics(stats: dict[int, tuple[list[float], Counter[int]]], n: int) -> Metrics:
        loss = correct = 0.0
        for probs, counts in stats.values():
            best = max(range(len(probs)), key=probs.__getitem__)
            for target, k in counts.items():
                loss -= k * math.log(max(probs[target], 1e-12))
                correct += k * (best == target)
        return Metrics(loss / max(1, n), correct / max(1, n))

    def evaluate(self, pairs: Sequence[tuple[int, int]]) -> Metrics:
        return self._metrics(self._by_previous(pairs), len(pairs))

    def train_batch(self, batch: Sequence[Sequence[tuple[int, int]]]) -> Metrics:
        """Metrics of the batch before the update (as a training loss is), then one SGD step
        on the summed cross-entropy gradient."""
        pairs = [pair for example in batch for pair in example]
        stats = self._by_previous(pairs)
        metrics = self._metrics(stats, len(pairs))
        row_step = self.learning_rate / max(1, len(batch))
        bias_step = self.learning_rate / max(1, len(pairs))
        bias_grad = [0.0] * self.vocab_size
        for previous, (probs, counts) in stats.items():
            n = sum(counts.values())
            grad = [n * p for p in probs]
            for target, k in counts.items():
                grad[target] -= k
            row = self.rows.setdefault(previous, [0.0] * self.vocab_size)
            for j, g in enumerate(grad):
                row[j] -= row_step * g
                bias_grad[j] += g
        for j, g in enumerate(bias_grad):
            self.bias[j] -= bias_step * g
        return metrics


@dataclass(frozen=True)
class StepResult:
    step: int
    epoch: int
    epoch_end: bool
    train: Metrics
    valid: Metrics | None
    full_valid: Metrics | None


class Trainer:
    """Runs the schedule: `n_epochs` passes over the examples in batches of `batch_size`."""

    def __init__(
        self,
        train: Sequence[Example],
        valid: Sequence[Example],
        *,
        n_epochs: int,
        batch_size: int,
        learning_rate_multiplier: float,
        seed: int,
    ) -> None:
        self.vocab_size = vocab_size_for([*train, *valid])
        self.model = BigramModel(self.vocab_size, BASE_LEARNING_RATE * learning_rate_multiplier)
        self.train = [encode(ex.answer, self.vocab_size) for ex in train]
        self.valid = [encode(ex.answer, self.vocab_size) for ex in valid]
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.steps_per_epoch = math.ceil(len(self.train) / batch_size)
        self.total_steps = n_epochs * self.steps_per_epoch
        self.step_number = 0
        self._rng = random.Random(seed)
        self._order: list[int] = []
        self._valid_cursor = 0

    @property
    def done(self) -> bool:
        return self.step_number >= self.total_steps

    def _valid_batch(self) -> list[tuple[int, int]]:
        batch = []
        for _ in range(min(self.batch_size, len(self.valid))):
            batch.extend(self.valid[self._valid_cursor % len(self.valid)])
            self._valid_cursor += 1
        return batch

    def step(self) -> StepResult:
        within = self.step_number % self.steps_per_epoch
        if within == 0:
            self._order = list(range(len(self.train)))
            self._rng.shuffle(self._order)
        start = within * self.batch_size
        picked = self._order[start : start + min(self.batch_size, MAX_EXAMPLES_PER_STEP)]
        train = self.model.train_batch([self.train[i] for i in picked])
        self.step_number += 1
        epoch_end = within == self.steps_per_epoch - 1
        valid = full_valid = None
        if self.valid:
            valid = self.model.evaluate(self._valid_batch())
            if epoch_end:
                full_valid = self.model.evaluate([p for ex in self.valid for p in ex])
        return StepResult(
            step=self.step_number,
            epoch=(self.step_number - 1) // self.steps_per_epoch + 1,
            epoch_end=epoch_end,
            train=train,
            valid=valid,
            full_valid=full_valid,
        )
