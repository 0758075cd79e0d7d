"""Charts drawn on the server as inline SVG: no scripts, nothing fetched from anywhere.

Each chart is an ``<svg role="img">`` with a title and description for screen readers,
and the same numbers in a table underneath (in ``<details>``), so nothing is only visual.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

PALETTE = ("#1d4f91", "#c0392b", "#1e8449", "#b9770e", "#6c3483", "#117a65", "#5d6d7e",
           "#a04000")
WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 72, 20, 16, 64
FONT = 20
"""Drawn full width on a desktop (so 20 units is about 20 px) and never narrower than
640 px (the figure scrolls sideways on a phone), so axis labels stay at least 13 px."""


@dataclass(frozen=True)
class Series:
    """One line: a name and its values at each x label (None: no value there)."""

    name: str
    values: Sequence[float | None]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    y_min: float = 0.0,
    y_max: float | None = None,
    y_label: str = "",
    unit: str = "",
) -> Markup:
    """A line chart over ``labels`` (e.g. months) with one line per series."""
    if not labels or not any(v is not None for s in series for v in s.values):
        return Markup(f'<p class="muted small">{escape(title)}: no data yet.</p>')  # noqa: S704
    top = y_max
    if top is None:
        top = max((v for s in series for v in s.values if v is not None), default=1.0)
        top = max(top, y_min + 1.0)
        tick = math.ceil((top - y_min) / 4)  # whole-number ticks for counts
        top = y_min + 4 * tick
    span = top - y_min or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - (min(max(v, y_min), top) - y_min) / span * plot_h

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" '
        f'font-size="{FONT}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(_describe(labels, series, unit))}</desc>",
    ]
    for k in range(5):  # horizontal grid and y ticks
        value = y_min + span * k / 4
        yy = y(value)
        parts.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" '
                     f'stroke="#d5dbe1" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{yy + 7:.1f}" text-anchor="end" fill="#505a5f">'
                     f"{escape(_fmt(value))}{escape(unit)}</text>")
    every = max(1, math.ceil(len(labels) / 6))
    for i, label in enumerate(labels):  # x labels, thinned so they do not collide
        if i % every == 0 or i == len(labels) - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 26}" text-anchor="middle" '
                         f'fill="#505a5f">{escape(label)}</text>')
    if y_label:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" fill="#505a5f">{escape(y_label)}</text>')
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        dash = "" if n < len(PALETTE) else ' stroke-dasharray="5 3"'
        run: list[str] = []
        runs: list[list[str]] = []
        for i, v in enumerate(s.values[: len(labels)]):
            if v is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="5" fill="{colour}">'
                f"<title>{escape(s.name)}, {escape(labels[i])}: {escape(_fmt(v))}{escape(unit)}"
                f"</title></circle>"
            )
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                             f'stroke="{colour}" stroke-width="3"{dash}/>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
        f'fill="{PALETTE[n % len(PALETTE)]}"/></svg> {escape(s.name)}</span>'
        for n, s in enumerate(series)
    )
    table = _table(labels, series, unit)
    return Markup(  # noqa: S704 - every piece of text in it went through escape()
        f'<figure class="chart"><div class="chart-scroll" tabindex="0" role="region" '
        f'aria-label="{escape(title)} (scrolls sideways on a small screen)">'
        f'{"".join(parts)}</div>'
        f'<div class="legend">{legend}</div>'
        f"<figcaption>{escape(title)}</figcaption>"
        f"<details><summary class=\"small\">The numbers</summary>{table}</details></figure>"
    )


def _describe(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    out = []
    for s in series:
        known = [(labels[i], v) for i, v in enumerate(s.values[: len(labels)]) if v is not None]
        if known:
            first, last = known[0], known[-1]
            out.append(f"{s.name}: {_fmt(first[1])}{unit} in {first[0]}, "
                       f"{_fmt(last[1])}{unit} in {last[0]}")
    return "; ".join(out)


def _table(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    head = "".join(f'<th scope="col" class="num">{escape(s.name)}</th>' for s in series)
    rows = []
    for i, label in enumerate(labels):
        cells = "".join(f'<td class="num">{_cell(s.values, i, unit)}</td>' for s in series)
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return (f'<div class="table-wrap" tabindex="0" role="region" aria-label="The numbers">'
            f'<table><thead><tr><th scope="col">Period</th>{head}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>")


def _cell(values: Sequence[float | None], i: int, unit: str) -> str:
    value = values[i] if i < len(values) else None
    return "" if value is None else escape(_fmt(value) + unit)


def _month_label(row: Mapping[str, object]) -> str:
    month = row.get("month")
    if isinstance(month, str) and len(month) == 7:  # a calendar month, YYYY-MM
        return date(int(month[:4]), int(month[5:]), 1).strftime("%b %y")
    start = row.get("from")
    if isinstance(start, str):
        return date.fromisoformat(start).strftime("%b %y")
    return f"M{month}"


def _number(value: object, scale: float = 1.0) -> float | None:
    return float(value) * scale if isinstance(value, int | float) else None


def engagement_chart(rows: Sequence[Mapping[str, object]], *, title: str) -> Markup:
    """Attendance and participation per month: a case's supervision months or a team's
    calendar months (``projections.queries.engagement_series``)."""
    labels = [_month_label(r) for r in rows]
    attendance = line_chart(
        labels,
        [Series("Attendance (unacceptable absences count against)",
                [_number(r.get("attendance_rate"), 100.0) for r in rows])],
        title=f"{title}: attendance", y_min=0, y_max=100, unit="%",
    )
    participation = line_chart(
        labels,
        [Series("Participation (1 disengaged to 5 fully engaged)",
                [_number(r.get("participation")) for r in rows])],
        title=f"{title}: participation", y_min=1, y_max=5,
    )
    contacts = line_chart(
        labels,
        [Series("Contacts", [_number(r.get("contacts")) for r in rows]),
         Series("Required by the level", [_number(r.get("required")) for r in rows])],
        title=f"{title}: contacts against the requirement",
    )
    return Markup(  # noqa: S704 - built from escaped parts
        f'<div class="charts-stack">{attendance}{participation}{contacts}</div>'
    )
