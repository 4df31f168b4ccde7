"""A loss chart drawn in braille cells: readable at 80x24, fast with 10,000 steps.

Points arrive in batches (`add_points`); a redraw maps every point to a dot once and joins
neighbours with vertical runs, so its cost grows with the number of points and the plot
width, never with how often events arrive. Toggles: accuracy instead of loss, EMA smoothing,
log scale. A cursor moved by keys shows the exact values at one step; checkpoints are marked
under the axis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget

LOSS_KEYS = ("train_loss", "valid_loss", "full_valid_loss")
ACCURACY_KEYS = (
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)
LABELS = ("train", "valid", "full valid")
COLOURS = ("dodger_blue1", "dark_orange", "green3")
EMA_WEIGHT = 0.9
AXIS_WIDTH = 7
# Braille dot bits by (column, row) inside a 2x4 cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


@dataclass
class Series:
    """One metric: steps and values in arrival order, plus its running EMA."""

    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    ema: list[float] = field(default_factory=list)

    def append(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.values.append(value)
        previous = self.ema[-1] if self.ema else value
        self.ema.append(EMA_WEIGHT * previous + (1 - EMA_WEIGHT) * value)

    def at(self, step: int) -> float | None:
        """The raw value at `step`, if this metric was reported there."""
        from bisect import bisect_left

        i = bisect_left(self.steps, step)
        if i < len(self.steps) and self.steps[i] == step:
            return self.values[i]
        return None


class LossChart(Widget, can_focus=True):
    """Train / validation / full validation loss (or accuracy) against the step."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 8; padding: 0 1; }
    LossChart:focus { background: $boost; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("left", "cursor(-1)", "Step −", show=False),
        Binding("right", "cursor(1)", "Step +", show=False),
        Binding("shift+left,pageup", "cursor(-10)", "10% back", show=False),
        Binding("shift+right,pagedown", "cursor(10)", "10% on", show=False),
        Binding("home", "cursor_end(0)", "First step", show=False),
        Binding("end", "cursor_end(1)", "Last step", show=False),
        # Hidden from the footer (the chart's header names them); listed in F1 and Ctrl+P.
        Binding("a", "flip('accuracy')", "Accuracy/loss", id="chart.accuracy", show=False),
        Binding("e", "flip('smooth')", "EMA smoothing", id="chart.ema", show=False),
        Binding("g", "flip('log_scale')", "Log scale", id="chart.log", show=False),
    ]

    accuracy: reactive[bool] = reactive(False)
    smooth: reactive[bool] = reactive(False)
    log_scale: reactive[bool] = reactive(False)
    cursor: reactive[int | None] = reactive(None)  # index into the train steps; None: last

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.series: dict[str, Series] = {k: Series() for k in LOSS_KEYS + ACCURACY_KEYS}
        self.total_steps = 0
        self.checkpoints: list[int] = []

    # --- data ---------------------------------------------------------------------------

    def add_points(self, points: Iterable[tuple[int, dict[str, float]]]) -> None:
        """Append (step, metrics) pairs in step order; one refresh for the whole batch."""
        added = False
        for step, values in points:
            for key, value in values.items():
                series = self.series.get(key)
                if series is not None and not (series.steps and series.steps[-1] >= step):
                    series.append(step, value)
                    added = True
            self.total_steps = max(self.total_steps, step)
        if added:
            self.refresh()

    def set_total_steps(self, total: int) -> None:
        if total > self.total_steps:
            self.total_steps = total
            self.refresh()

    def set_checkpoints(self, steps: Sequence[int]) -> None:
        self.checkpoints = sorted(steps)
        self.refresh()

    def clear(self) -> None:
        self.series = {k: Series() for k in LOSS_KEYS + ACCURACY_KEYS}
        self.total_steps = 0
        self.checkpoints = []
        self.cursor = None
        self.refresh()

    @property
    def n_points(self) -> int:
        return len(self.series["train_loss"].steps)

    def _keys(self) -> tuple[str, ...]:
        return ACCURACY_KEYS if self.accuracy else LOSS_KEYS

    # --- keys ---------------------------------------------------------------------------

    def _cursor_index(self) -> int | None:
        n = len(self.series[self._keys()[0]].steps)
        if n == 0:
            return None
        return n - 1 if self.cursor is None else max(0, min(n - 1, self.cursor))

    def action_cursor(self, delta: int) -> None:
        index = self._cursor_index()
        if index is None:
            return
        n = len(self.series[self._keys()[0]].steps)
        step = delta if abs(delta) == 1 else int(math.copysign(max(1, n // 10), delta))
        new = max(0, min(n - 1, index + step))
        self.cursor = None if new == n - 1 else new

    def action_cursor_end(self, last: int) -> None:
        self.cursor = None if last else 0

    def action_flip(self, name: str) -> None:
        setattr(self, name, not getattr(self, name))

    def cursor_step(self) -> int | None:
        index = self._cursor_index()
        return None if index is None else self.series[self._keys()[0]].steps[index]

    def readout(self) -> str:
        """The exact values at the cursor, as plain text (also used by tests)."""
        step = self.cursor_step()
        if step is None:
            return "no metrics yet"
        parts = [f"step {step}/{self.total_steps}"]
        for key, label in zip(self._keys(), LABELS, strict=True):
            if not self.series[key].steps:
                continue  # a metric this job does not report (no validation file)
            value = self.series[key].at(step)
            parts.append(f"{label} {value:.4f}" if value is not None else f"{label} —")
        return " · ".join(parts)

    # --- drawing ------------------------------------------------------------------------

    def render(self) -> Text:
        width = max(10, self.size.width - AXIS_WIDTH)
        height = max(3, self.size.height - 3)
        keys = self._keys()
        text = Text(no_wrap=True, overflow="crop")
        text.append_text(self._header(keys))
        text.append("\n")
        drawn = [(i, self.series[k]) for i, k in enumerate(keys) if self.series[k].steps]
        if not drawn:
            text.append("\n" * (height // 2) + " " * AXIS_WIDTH + "waiting for metrics…")
            return text
        lo, hi = self._y_range([s for _, s in drawn])
        x_max = max(self.total_steps, 2)
        cells: list[list[int]] = [[0] * width for _ in range(height)]
        colour: list[list[int]] = [[-1] * width for _ in range(height)]
        for index, series in drawn:
            self._plot(series, index, lo, hi, x_max, cells, colour)
        cursor_col = self._cursor_column(width, x_max)
        labels = {0: hi, height // 2: (lo + hi) / 2, height - 1: lo}
        for row in range(height):
            label = labels.get(row)
            shown = (10**label if self.log_scale else label) if label is not None else None
            text.append(
                f"{shown:>{AXIS_WIDTH - 1}.3g}┤" if shown is not None else " " * 6 + "│",
                style="dim",
            )
            for col in range(width):
                bits = cells[row][col]
                style = COLOURS[colour[row][col]] if bits else ""
                if col == cursor_col:
                    style = f"{style} on grey30".strip()
                text.append(chr(0x2800 + bits) if bits else " ", style=style)
            text.append("\n")
        text.append_text(self._x_axis(width, x_max, cursor_col))
        return text

    def _header(self, keys: tuple[str, ...]) -> Text:
        header = Text(self.readout(), style="bold")
        flags = [
            ("accuracy" if self.accuracy else "loss"),
            *(["EMA"] if self.smooth else []),
            *(["log"] if self.log_scale else []),
        ]
        header.append("  [" + ", ".join(flags) + "]  a/e/g ←/→", style="dim")
        legend = Text("  ")
        for key, label, col in zip(keys, LABELS, COLOURS, strict=True):
            if self.series[key].steps:
                legend.append("⣿ ", style=col)
                legend.append(f"{label} ")
        return header + legend

    def _values(self, series: Series) -> list[float]:
        return series.ema if self.smooth else series.values

    def _transform(self, value: float) -> float:
        if not self.log_scale:
            return value
        return math.log10(max(value, 1e-6))

    def _y_range(self, series: list[Series]) -> tuple[float, float]:
        lo = min(self._transform(min(self._values(s))) for s in series)
        hi = max(self._transform(max(self._values(s))) for s in series)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.05
        return lo - pad, hi + pad

    def _plot(
        self,
        series: Series,
        index: int,
        lo: float,
        hi: float,
        x_max: int,
        cells: list[list[int]],
        colour: list[list[int]],
    ) -> None:
        height, width = len(cells), len(cells[0])
        dots_x, dots_y = width * 2 - 1, height * 4 - 1
        span = hi - lo
        transform = self._transform
        prev: tuple[int, int] | None = None
        for step, value in zip(series.steps, self._values(series), strict=True):
            x = min(dots_x, max(0, round((step - 1) / max(1, x_max - 1) * dots_x)))
            y = min(dots_y, max(0, round((hi - transform(value)) / span * dots_y)))
            if prev is None:
                runs = [(x, y, y)]
            elif prev[0] == x:
                runs = [(x, min(prev[1], y), max(prev[1], y))]
            else:  # join across columns: straight segment, one vertical run per column
                x0, y0 = prev
                runs = []
                for xi in range(x0 + 1, x + 1):
                    yi = round(y0 + (y - y0) * (xi - x0) / (x - x0))
                    yp = round(y0 + (y - y0) * (xi - 1 - x0) / (x - x0))
                    runs.append(
                        (
                            xi,
                            min(yi, yp + (1 if yi > yp else 0)),
                            max(yi, yp - (1 if yi < yp else 0)),
                        )
                    )
            for xi, y_top, y_bottom in runs:
                cell_x, bit_col = divmod(xi, 2)
                for yi in range(y_top, y_bottom + 1):
                    cell_y, bit_row = divmod(yi, 4)
                    cells[cell_y][cell_x] |= _DOTS[bit_col][bit_row]
                    colour[cell_y][cell_x] = index
            prev = (x, y)

    def _cursor_column(self, width: int, x_max: int) -> int | None:
        step = self.cursor_step()
        if step is None:
            return None
        return min(width - 1, round((step - 1) / max(1, x_max - 1) * (width * 2 - 1)) // 2)

    def _x_axis(self, width: int, x_max: int, cursor_col: int | None) -> Text:
        axis = [" "] * width
        for step in self.checkpoints:
            col = min(width - 1, round((step - 1) / max(1, x_max - 1) * (width * 2 - 1)) // 2)
            axis[col] = "▲"
        line = Text(" " * (AXIS_WIDTH - 1) + "└", style="dim")
        for col, char in enumerate(axis):
            style = "bold magenta" if char == "▲" else "dim"
            if col == cursor_col:
                style += " on grey30"
            line.append(char if char != " " else "─", style=style)
        left, right = "1", str(x_max)
        labels = " " * AXIS_WIDTH + left + " " * max(1, width - len(left) - len(right) - 6)
        labels += right + " step"
        return line + Text("\n" + labels, style="dim")
