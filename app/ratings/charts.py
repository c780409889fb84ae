"""Server-rendered SVG line charts of a percentage over time: no chart library, no JavaScript."""

from dataclasses import dataclass

WIDTH, HEIGHT = 320, 140
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 10, 24


@dataclass
class Chart:
    """What the template draws: a polyline, dots where there are few points, and the axes."""

    key: str
    label: str
    points: str
    dots: list
    grid: list
    ticks: list
    latest: float | None
    unit: str
    empty: bool
    summary: str


def line_chart(key: str, label: str, buckets: list, values: list, percent: bool = True) -> Chart:
    """A 0-100% chart (or counts from 0); a bucket without a denominator is skipped, not zero."""
    n = len(buckets)
    unit = "%" if percent else ""
    top = 100 if percent else max([v for v in values if v is not None] + [1])
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return round(LEFT + (span_x * i / (n - 1) if n > 1 else span_x / 2), 1)

    def y(v: float) -> float:
        return round(TOP + span_y * (1 - v / top), 1)

    known = [(i, v) for i, v in enumerate(values) if v is not None]
    points = " ".join(f"{x(i)},{y(v)}" for i, v in known)
    dots = [(x(i), y(v), f"{buckets[i]}:{v}{unit}") for i, v in known] if len(known) <= 40 else []
    marks = (0, 50, 100) if percent else sorted({0, top // 2, top})
    grid = [(y(v), f"{v}{unit}") for v in marks]
    step = max(1, (n + 3) // 4)
    ticks = [(x(i), str(buckets[i])[-5:]) for i in range(0, n, step)]
    latest = known[-1][1] if known else None
    summary = (f"{label}:{buckets[known[0][0]]} 至 {buckets[known[-1][0]]},"
               f"{len(known)} 个数据点,最近为 {latest}{unit}" if known
               else f"{label}:这段时间没有数据")
    return Chart(key=key, label=label, points=points, dots=dots, grid=grid, ticks=ticks,
                 latest=latest, unit=unit, empty=not known, summary=summary)
