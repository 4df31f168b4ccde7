"""The loss chart's y axis is one straight line whatever its labels (a negative lower bound,
-0.0713, was one column wider than the others and bent the axis on its row)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.loss_chart import AXIS_WIDTH, LossChart


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart()


async def test_the_axis_stays_straight_with_a_negative_lower_bound() -> None:
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(LossChart)
        values = [1 - 1.0203 * step / 39 for step in range(40)]  # 1 down to -0.0203
        chart.add_points((step, {"train_loss": v}) for step, v in enumerate(values, 1))
        await pilot.pause()
        rows = [line for line in chart.plain_lines() if line[AXIS_WIDTH - 1 : AXIS_WIDTH] != " "]
        axis = [row[AXIS_WIDTH - 1] for row in rows[1:-1]]  # under the header, above the steps
        assert set(axis) <= {"┤", "│", "└"} and axis.count("┤") == 3, rows
        labels = [row[: AXIS_WIDTH - 1].strip() for row in rows if row[AXIS_WIDTH - 1] == "┤"]
        assert labels[-1] == "-0.071"  # the lower bound -0.0713, in the axis's width


def test_labels_fit_the_axis_and_never_lie() -> None:
    from tui.widgets.loss_chart import axis_label

    for value in (-0.0713, 6.36, 5, -12345.6, 0.000123, -0.000123, 1234567, -1.5e-7):
        label = axis_label(value)
        assert len(label) == AXIS_WIDTH - 1
        assert abs(float(label) - value) <= abs(value) * 0.5  # rounded, not cut
