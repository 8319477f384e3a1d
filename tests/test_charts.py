"""The dashboard's bar charts as geometry: round axis tops, stacked bars that add up."""
import pytest

from panel.charts import BOTTOM, TOP, Series, nice_ceiling, stacked_bars


@pytest.mark.parametrize("value, top", [(0, 1), (1, 1), (7, 10), (12, 20), (2.3, 2.5),
                                        (2.5, 2.5), (31, 50), (999, 1000), (1001, 2000),
                                        (0.3, 0.5)])
def test_the_axis_ends_on_a_round_number(value, top):
    assert nice_ceiling(value) == top


def series(name, values):
    return Series(name, values, href=lambda n: f"/{name}/{n}", title=lambda n: f"{name} {n}")


def test_stacked_bars_add_up_to_their_column_and_the_tallest_fits():
    chart = stacked_bars(["a", "b", "c"], [series("DE", [3, 0, 10]), series("AT", [2, 0, 10])],
                         height=220)
    plot = 220 - TOP - BOTTOM
    by_column = {}
    for bar in chart.bars:
        by_column.setdefault(bar.x, []).append(bar)
    assert len(chart.bars) == 4  # nothing drawn for the empty column
    first, third = (by_column[x] for x in sorted(by_column))
    assert [b.href for b in first] == ["/DE/0", "/AT/0"]
    assert sum(b.height for b in third) == pytest.approx(plot * 20 / 20)  # the top is 20
    assert sum(b.height for b in first) == pytest.approx(plot * 5 / 20)
    # Stacked: each layer starts where the one below ends, from the baseline up.
    assert first[0].y + first[0].height == pytest.approx(chart.baseline)
    assert first[1].y + first[1].height == pytest.approx(first[0].y)
    assert [t.label for t in chart.ticks] == ["0", "10", "20"]


def test_every_fifth_column_and_the_last_are_named():
    labels = [f"d{n}" for n in range(30)]
    chart = stacked_bars(labels, [series("DE", [1] * 30)])
    assert [c.label for c in chart.columns] == ["d0", "d5", "d10", "d15", "d20", "d25", "d29"]
