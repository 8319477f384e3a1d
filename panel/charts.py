"""Bar charts as plain geometry, drawn as SVG by the templates (no script: the pages'
Content-Security-Policy allows none from elsewhere, and a chart that is markup is read by
screen readers, printed, and tested like any other page)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from panel.formatting import format_number

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 28  # room for the axis labels


@dataclass(frozen=True)
class Series:
    """One stacked layer: a name, a value per column, and what a bar links to and says."""

    name: str
    values: Sequence[int]
    href: Callable[[int], str]  # column index -> URL
    title: Callable[[int], str]  # column index -> tooltip text


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which layer: the colour
    href: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class ColumnLabel:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    columns: list[ColumnLabel]
    baseline: float
    left: int
    right: int


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # not reached


def stacked_bars(column_labels: Sequence[str], series: Sequence[Series],
                 tick_label: Callable[[float], str] = lambda v: format_number(round(v)),
                 label_every: int = 5, width: int = WIDTH, height: int = HEIGHT) -> BarChart:
    """Columns of bars, the series stacked in each, scaled to the tallest column; the
    axis has ticks at 0, half and the top (a round number); every ``label_every``-th
    column is named (the last one always)."""
    count = len(column_labels)
    totals = [sum(s.values[n] for s in series) for n in range(count)]
    top = nice_ceiling(max(totals, default=0))
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = plot_width / max(count, 1)
    bar_width = max(1.0, slot * 0.75)
    bars = []
    for n in range(count):
        x = LEFT + n * slot + (slot - bar_width) / 2
        y = baseline
        for layer, s in enumerate(series):
            value = s.values[n]
            if value <= 0:
                continue
            h = value / top * plot_height
            y -= h
            bars.append(Bar(round(x, 2), round(y, 2), round(bar_width, 2), round(h, 2), layer,
                            s.href(n), s.title(n)))
    ticks = [Tick(round(baseline - fraction * plot_height, 2), tick_label(top * fraction))
             for fraction in (0, 0.5, 1)]
    columns = [ColumnLabel(round(LEFT + n * slot + slot / 2, 2), column_labels[n])
               for n in range(count) if n % label_every == 0 or n == count - 1]
    return BarChart(width, height, bars, ticks, columns, baseline, LEFT, width - RIGHT)
