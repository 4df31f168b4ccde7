"""A loss chart drawn in braille cells: readable at 80x24, fast with 10,000 steps.

Points arrive in batches (`add_points`); a redraw reduces the points to one low..high run
per dot column and joins neighbouring columns, so its cost grows with the number of points
and the plot width, never with how often events arrive. Lines are drawn with Textual's
Line API (segments a run of alike cells, no Rich text layout), once per change, and kept
until the next one. Toggles: accuracy instead of loss, EMA smoothing,
log scale. A cursor moved by keys shows the exact values at one step; checkpoints are marked
under the axis.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Self

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
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
# _RUNS[column][first][last]: the bits of the dots first..last of one column of a cell.
_RUNS = tuple(
    tuple(tuple(sum(dots[first : last + 1]) for last in range(4)) for first in range(4))
    for dots in _DOTS
)


@cache
def axis_label(value: float, width: int = AXIS_WIDTH - 1) -> str:
    """A y-axis label in exactly `width` columns: 3 significant digits if they fit (a
    negative bound such as -0.0713 did not, and pushed its row's axis one column right),
    else fewer, else a one-digit mantissa (wider only past 1e±100: never a wrong value)."""
    for digits in (3, 2, 1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text.rjust(width)
    return f"{value:.0e}".rjust(width)


def _style(definition: str) -> Style:
    return Style.parse(definition)


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
        self._frame_cache: tuple[Size, list[Strip]] | None = None
        self._column_cache: dict[int, tuple[tuple[int, int, bool], list[list[Any]], list[int]]] = {}

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
        self._column_cache = {}
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

    def render_line(self, y: int) -> Strip:
        """One line of the chart (Textual's Line API): the header, a plot row, the axis."""
        frame = self._frame()
        return frame[y] if y < len(frame) else Strip.blank(self.size.width, self.rich_style)

    def plain_lines(self) -> list[str]:
        """The chart as the screen shows it, one string a line, without styles."""
        return [strip.text for strip in self._frame()]

    def refresh(self, *args: Any, **kwargs: Any) -> Self:
        """Every repaint (new points, a toggle, the cursor, focus) draws the frame anew."""
        self._frame_cache = None
        return super().refresh(*args, **kwargs)

    def _frame(self) -> list[Strip]:
        """Every line of the chart, drawn once per change of data, size, toggle or cursor."""
        if self._frame_cache is not None and self._frame_cache[0] == self.size:
            return self._frame_cache[1]
        width = max(10, self.size.width - AXIS_WIDTH)
        height = max(3, self.size.height - 3)
        base = self.rich_style
        keys = self._keys()
        lines = [self._text_strip(self._header(keys), base)]
        drawn = [(i, self.series[k]) for i, k in enumerate(keys) if self.series[k].steps]
        if not drawn:
            lines += [Strip.blank(self.size.width, base)] * (height // 2)
            waiting = Text(" " * AXIS_WIDTH + "waiting for metrics…")
            lines.append(self._text_strip(waiting, base))
        else:
            lines += self._plot_rows(drawn, width, height, base)
        self._frame_cache = (self.size, lines)
        return lines

    def _text_strip(self, text: Text, base: Style) -> Strip:
        width = self.size.width
        segments = list(text.render(self.app.console))
        return Strip(segments).apply_style(base).crop_extend(0, width, base)

    def _plot_rows(
        self, drawn: list[tuple[int, Series]], width: int, height: int, base: Style
    ) -> list[Strip]:
        """The plot rows with their y labels, then the x axis and its labels."""
        lo, hi = self._y_range([s for _, s in drawn])
        x_max = max(self.total_steps, 2)
        cells: list[list[int]] = [[0] * width for _ in range(height)]
        colour: list[list[int]] = [[-1] * width for _ in range(height)]
        for index, series in drawn:
            self._plot(series, index, lo, hi, x_max, cells, colour)
        cursor_col = self._cursor_column(width, x_max)
        labels = {0: hi, height // 2: (lo + hi) / 2, height - 1: lo}
        dim = base + _style("dim")
        series_styles = [base + _style(c) for c in COLOURS]
        cursor_styles = [base + _style(f"{c} on grey30") for c in COLOURS]
        cursor_blank = base + _style("on grey30")
        blank = " " * width
        rows = []
        for row in range(height):
            label = labels.get(row)
            shown = (10**label if self.log_scale else label) if label is not None else None
            axis = f"{axis_label(shown)}┤" if shown is not None else " " * (AXIS_WIDTH - 1) + "│"
            segments = [Segment(axis, dim)]
            bits_row, colour_row = cells[row], colour[row]
            col = 0
            while col < width:  # one segment a run of cells drawn alike
                bits, index = bits_row[col], colour_row[col]
                end = col + 1
                if col != cursor_col:
                    while (
                        end < width
                        and end != cursor_col
                        and (bits_row[end] == 0) == (bits == 0)
                        and (bits == 0 or colour_row[end] == index)
                    ):
                        end += 1
                if bits:
                    chars = "".join(chr(0x2800 + b) for b in bits_row[col:end])
                    style = (cursor_styles if col == cursor_col else series_styles)[index]
                else:
                    chars = blank[: end - col]
                    style = cursor_blank if col == cursor_col else base
                segments.append(Segment(chars, style))
                col = end
            rows.append(Strip(segments).crop_extend(0, self.size.width, base))
        return rows + self._x_axis(width, x_max, cursor_col, base)

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
        """Draw one series: each point a dot, neighbours joined by vertical runs.

        The runs between consecutive points in one dot column cover exactly the column's
        low..high, so the series is drawn from its per-column extremes (`_columns`): the
        same picture as joining every point, at a cost that grows with the width.
        """
        height, width = len(cells), len(cells[0])
        dots_x, dots_y = width * 2 - 1, height * 4 - 1
        span = hi - lo
        log_scale = self.log_scale

        def dot_y(value: float) -> int:
            if log_scale:
                value = math.log10(max(value, 1e-6))
            return min(dots_y, max(0, round((hi - value) / span * dots_y)))

        prev: tuple[int, int] | None = None
        for x, first_value, high_value, low_value, last_value in self._columns(
            series, dots_x, x_max
        ):
            first, last = dot_y(first_value), dot_y(last_value)
            runs = [(x, dot_y(high_value), dot_y(low_value))]
            if prev is not None:  # join from the last point of the previous column
                x0, y0 = prev
                for xi in range(x0 + 1, x + 1):
                    yi = round(y0 + (first - y0) * (xi - x0) / (x - x0))
                    yp = round(y0 + (first - y0) * (xi - 1 - x0) / (x - x0))
                    runs.append(
                        (
                            xi,
                            min(yi, yp + (1 if yi > yp else 0)),
                            max(yi, yp - (1 if yi < yp else 0)),
                        )
                    )
            for xi, y_top, y_bottom in runs:
                cell_x, bit_col = divmod(xi, 2)
                masks = _RUNS[bit_col]
                for cell_y in range(y_top // 4, y_bottom // 4 + 1):  # a cell at a time
                    top = max(y_top - cell_y * 4, 0)
                    bottom = min(y_bottom - cell_y * 4, 3)
                    cells[cell_y][cell_x] |= masks[top][bottom]
                    colour[cell_y][cell_x] = index
            prev = (x, last)

    def _columns(self, series: Series, dots_x: int, x_max: int) -> list[list[Any]]:
        """[x, first, highest, lowest, last value] of the series' points in each dot column.

        Kept between redraws and extended with the points added since: values never change
        once added, so a new batch only touches the last columns.
        """
        key = (dots_x, x_max, self.smooth)
        cached = self._column_cache.get(id(series))
        if cached is None or cached[0] != key:
            cached = self._column_cache[id(series)] = (key, [], [0])
        columns, done = cached[1], cached[2]
        steps, values = series.steps, self._values(series)
        scale = max(1, x_max - 1)

        def dot_x(step: int) -> int:
            return min(dots_x, max(0, round((step - 1) / scale * dots_x)))

        start = done[0]
        while start < len(steps):  # steps only grow: each column holds one slice
            x = dot_x(steps[start])
            end = bisect_right(steps, x, start, key=dot_x)
            part = values[start:end]
            if columns and columns[-1][0] == x:
                column = columns[-1]
                column[2], column[3] = max(column[2], *part), min(column[3], *part)
                column[4] = part[-1]
            else:
                columns.append([x, part[0], max(part), min(part), part[-1]])
            start = end
        done[0] = start
        return columns

    def _cursor_column(self, width: int, x_max: int) -> int | None:
        step = self.cursor_step()
        if step is None:
            return None
        return min(width - 1, round((step - 1) / max(1, x_max - 1) * (width * 2 - 1)) // 2)

    def _x_axis(self, width: int, x_max: int, cursor_col: int | None, base: Style) -> list[Strip]:
        """The axis line (checkpoints marked ▲) and the step labels under it."""
        axis = ["─"] * width
        for step in self.checkpoints:
            col = min(width - 1, round((step - 1) / max(1, x_max - 1) * (width * 2 - 1)) // 2)
            axis[col] = "▲"
        dim, mark = base + _style("dim"), base + _style("dim bold magenta")
        segments = [Segment(" " * (AXIS_WIDTH - 1) + "└", dim)]
        for col, char in enumerate(axis):
            style = mark if char == "▲" else dim
            if col == cursor_col:
                style += _style("on grey30")
            segments.append(Segment(char, style))
        left, right = "1", str(x_max)
        labels = " " * AXIS_WIDTH + left + " " * max(1, width - len(left) - len(right) - 6)
        labels += right + " step"
        full = self.size.width
        return [
            Strip(Segment.simplify(segments)).crop_extend(0, full, base),
            Strip([Segment(labels, dim)]).crop_extend(0, full, base),
        ]
