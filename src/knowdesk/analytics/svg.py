"""Charts drawn on the server as SVG: no script, no external library, readable without CSS.

Each function returns one `<svg>` element as text, sized by its viewBox so that it scales with
the page. Every label is escaped; colours come from a small palette that stays distinguishable
in grey-scale print (dark and light alternate).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5f99", "#e08a1e", "#2e8b57", "#b03a48", "#6a4c93", "#5b6770")
FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif"


@dataclass(frozen=True)
class Series:
    name: str  # shown, in the viewer's language
    values: Sequence[float]
    key: str = ""  # names the line in the markup whatever the language (`data-name`)


def text_width(text: str, font_size: float = 11) -> float:
    """About how wide `text` is drawn: Chinese (and other wide) characters take a full em,
    Latin ones a little over half, so that legends and labels leave room for either."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    return font_size * (wide + 0.62 * (len(text) - wide))


def axis_ticks(peak: float, *, most: int = 5) -> list[float]:
    """Gridline values from 0 to at least `peak`, a step of 1, 2 or 5 × 10^k apart, at most
    `most` steps: what people read off an axis of counts (0, 2, 4, 6; never 1.25)."""
    if peak <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(peak / most))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude * most >= peak)
    step = max(step, 1)  # counts: no gridline between two whole numbers
    return [float(step * k) for k in range(math.ceil(peak / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="kd-chart" '
        f'font-family="{escape(FONT)}" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{y + 1:.1f}" fill="#333">{escape(s.name)}</text>'
        )
        x += 24 + text_width(s.name)
    return out


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 240,
) -> str:
    """Lines over time (one per series) on a shared axis from zero, with a legend."""
    left, right, top, bottom = 44, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = axis_ticks(max((v for s in series for v in s.values), default=0.0))
    peak = ticks[-1]
    count = max(len(labels), 1)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    out = _open(width, height, title)
    for value in ticks:
        y = y_at(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#e3e6ea"/><text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#666">{_number(value)}</text>'
        )
    step = max(1, math.ceil(count / 8))
    for i in range(0, len(labels), step):
        out.append(
            f'<text x="{x_at(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'fill="#666">{escape(labels[i])}</text>'
        )
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(s.values))
        out.append(
            f'<polyline class="kd-series" data-name="{escape(s.key or s.name)}" '
            f'points="{points}" '
            f'fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        )
        for i, v in enumerate(s.values):
            out.append(
                f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(s.name)} {escape(labels[i])}: {_number(v)}</title></circle>"
            )
    out += _legend(series, left, 14)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    width: int = 420,
    bar_height: int = 22,
    unit: str = "",
) -> str:
    """Horizontal bars, one per label, longest scale at the largest value; the labels' column
    as wide as the longest label needs (up to two fifths of the chart)."""
    longest = max((text_width(label) for label in labels), default=0.0)
    label_w, right, top = round(min(max(longest + 16, 60), width * 0.4)), 56, 8
    height = top * 2 + bar_height * max(len(labels), 1)
    peak = max(values, default=0.0) or 1.0
    plot_w = width - label_w - right
    out = _open(width, height, title)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * bar_height
        length = plot_w * value / peak
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<text x="{label_w - 8}" y="{y + bar_height * 0.65:.1f}" text-anchor="end" '
            f'fill="#333">{escape(label)}</text>'
            f'<rect class="kd-bar" x="{label_w}" y="{y + 3}" width="{length:.1f}" '
            f'height="{bar_height - 6}" fill="{colour}"><title>{escape(label)}: '
            f"{_number(value)}{escape(unit)}</title></rect>"
            f'<text x="{label_w + length + 6:.1f}" y="{y + bar_height * 0.65:.1f}" '
            f'fill="#333">{_number(value)}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def sparkline(values: Sequence[float], *, title: str, width: int = 96, height: int = 24) -> str:
    """A tiny trend line without axes, for a table cell."""
    peak = max(values, default=0.0) or 1.0
    count = max(len(values), 1)
    points = " ".join(
        f"{(width - 4) * i / max(count - 1, 1) + 2:.1f},{height - 3 - (height - 6) * v / peak:.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'class="kd-spark"><title>{escape(title)}</title>'
        f'<polyline points="{points}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5"/>'
        "</svg>"
    )
