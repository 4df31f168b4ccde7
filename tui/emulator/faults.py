"""Faults the emulator injects on demand, for the app's recovery tests.

A fault spec is `KIND[:ARG[:ARG]]`; `FAULT_KINDS` below lists each kind with its syntax and
what it does (`tunebench emulator --help` prints that list). Counts default to 1 where the
syntax shows `[:N]`; `slow` without N delays every response.

Specs come from the constructor, the `TUNEBENCH_EMULATOR_FAULTS` env var (comma-separated)
and `tunebench emulator --fault SPEC`; `Faults.inject` adds them at runtime. All methods are
thread-safe so a test can inject from outside the emulator's event loop thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

ENV_VAR = "TUNEBENCH_EMULATOR_FAULTS"
# kind -> (spec syntax, what it does): the one list `--help` and the parser both use.
FAULT_KINDS: dict[str, tuple[str, str]] = {
    "429": (
        "429:N[:SECONDS]",
        "next N requests get 429 rate_limit_exceeded with retry-after (SECONDS, default 0.05)",
    ),
    "500": ("500:N", "next N requests get 500 server_error"),
    "slow": ("slow:SECONDS[:N]", "delay every (or the next N) responses by SECONDS"),
    "cut-stream": ("cut-stream[:N]", "next N streamed chat replies are cut mid-reply"),
    "fail-job": ("fail-job[:N]", "next N jobs fail half-way through training"),
    "drop": ("drop[:N]", "next N requests lose their connection before any response"),
    "lost-reply": (
        "lost-reply[:N]",
        "next N requests are carried out, then the connection closes instead of answering",
    ),
    "deny-create": (
        "deny-create[:N]",
        "next N job creations get 403, as after OpenAI's fine-tuning wind-down",
    ),
    "import-error": (
        "import-error[:N]",
        "--azure: next N fine-tuning uploads end their import in status error",
    ),
}
KINDS = tuple(FAULT_KINDS)
UNLIMITED = -1


class FaultSpecError(ValueError):
    """A fault spec that does not parse; the message says which and why."""


@dataclass
class _Counter:
    remaining: int = 0  # UNLIMITED means "every time"
    seconds: float = 0.0

    def take(self) -> bool:
        if self.remaining == 0:
            return False
        if self.remaining > 0:
            self.remaining -= 1
        return True


def _number(spec: str, text: str, kind: type[int] | type[float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise FaultSpecError(f"fault {spec!r}: {text!r} is not a number") from None
    if value < 0:
        raise FaultSpecError(f"fault {spec!r}: {text!r} must not be negative")
    return value


def parse_spec(spec: str) -> tuple[str, int, float]:
    """`"429:3:0.5"` -> `("429", 3, 0.5)`: kind, count (UNLIMITED for always), seconds."""
    kind, *args = spec.strip().split(":")
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault {spec!r}; known: {', '.join(KINDS)}")
    limit = {"429": 2, "slow": 2}.get(kind, 1)
    if len(args) > limit:
        raise FaultSpecError(f"fault {spec!r}: too many ':' parts")
    if kind == "slow":
        if not args:
            raise FaultSpecError(f"fault {spec!r}: give the delay, e.g. slow:0.5")
        seconds = _number(spec, args[0], float)
        count = int(_number(spec, args[1], int)) if len(args) > 1 else UNLIMITED
        return kind, count, seconds
    once = ("cut-stream", "fail-job", "drop", "lost-reply", "deny-create")
    default_count = 1 if kind in once else None
    if not args and default_count is None:
        raise FaultSpecError(f"fault {spec!r}: give a count, e.g. {kind}:3")
    count = int(_number(spec, args[0], int)) if args else 1
    seconds = _number(spec, args[1], float) if len(args) > 1 else 0.05
    return kind, count, seconds


def specs_from_env(environ: dict[str, str] | None = None) -> list[str]:
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return [part for part in (p.strip() for p in raw.split(",")) if part]


class Faults:
    """Pending faults; request handlers `take_*` them, tests `inject` them."""

    def __init__(self, specs: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._counters = {kind: _Counter() for kind in KINDS}
        for spec in specs:
            self.add(spec)

    def add(self, spec: str) -> None:
        kind, count, seconds = parse_spec(spec)
        self.inject(kind, count=count, seconds=seconds)

    def inject(self, kind: str, count: int = 1, seconds: float = 0.05) -> None:
        """Arm `count` occurrences of `kind` (UNLIMITED = every time); replaces earlier ones."""
        if kind not in KINDS:
            raise FaultSpecError(f"unknown fault {kind!r}; known: {', '.join(KINDS)}")
        with self._lock:
            self._counters[kind] = _Counter(remaining=count, seconds=seconds)

    def clear(self) -> None:
        with self._lock:
            for kind in KINDS:
                self._counters[kind] = _Counter()

    def take(self, kind: str) -> float | None:
        """Use one occurrence of `kind`: its seconds if armed, else None."""
        with self._lock:
            counter = self._counters[kind]
            return counter.seconds if counter.take() else None
