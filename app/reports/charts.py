"""Small charts drawn on the server as inline SVG: no script, no library, printable.

A chart is a list of horizontal bars, each with its label above it and its numbers written
beside it (or under it, for a bar split into parts), so the figure can be read without the
picture. The SVG has no viewBox: bar lengths are percentages of the page's width and text
keeps its size, so it reads the same on a phone and on paper. For screen readers the SVG is
one image (role="img") named by its <title> and described, bar by bar, by its <desc>.

Every piece of text is escaped here; what comes back is Markup, safe to put in a template.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

BRAND = "#0b4f6c"
FONT_SIZE = 14
SMALL = 13
BAR_HEIGHT = 16
# The share of the width a bar may take, by how long the numbers beside it are (in em); longer
# numbers go under the bar, which may then take the whole width.
BAR_SPACE = ((4, 80.0), (7, 65.0), (10, 55.0))
LABEL_UNITS = 22  # about the widest label (in em) that fits a phone; longer ones are cut with …


@dataclass(frozen=True)
class Series:
    """One part of a split bar (e.g. done / missed / open), with its colour."""

    name: str
    color: str


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series; a plain bar has one
    text: str  # the numbers written beside the bar, e.g. "12" or "7 / 8 · 88%"


def _units(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6


def fit(label: str, max_units: float = LABEL_UNITS) -> str:
    """`label` cut to about `max_units` em, with an ellipsis when cut (wide CJK characters count 1)."""
    used = 0.0
    for i, ch in enumerate(label):
        used += _units(ch)
        if used > max_units:
            return label[: max(i - 1, 1)] + "…"
    return label


def _pct(value: float) -> str:
    return f"{value:.2f}%"


_ID = re.compile(r"[^a-z0-9-]+")


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], series: Sequence[Series] = (),
              scale_max: float | None = None, legend: Sequence[str] = ()) -> Markup:
    """A horizontal bar chart. With several `series`, each bar is split into their parts, the
    numbers go under the bar and a legend (`legend`: one line per series, default its name) follows.
    A plain bar's numbers go beside it, or under it when they are long.

    `scale_max`: the value of a full-length bar (default: the largest bar)."""
    if not bars:
        return Markup("")
    series = list(series) or [Series(title, BRAND)]
    if any(len(b.values) != len(series) for b in bars):
        raise ValueError("each bar needs one value per series")
    split = len(series) > 1
    widest = max(sum(_units(ch) for ch in b.text) for b in bars)
    space = next((room for units, room in BAR_SPACE if widest <= units), None)
    below = split or space is None  # the numbers go under the bar, which takes the whole width
    space = 100.0 if below else space
    top = max((sum(b.values) for b in bars), default=0)
    scale = scale_max if scale_max and scale_max > 0 else (top or 1)
    ident = _ID.sub("-", chart_id.lower()).strip("-") or "chart"
    row_height = 64 if below else 46

    parts: list[str] = []
    descriptions: list[str] = []
    y = 0
    for bar in bars:
        descriptions.append(f"{bar.label}: {bar.text}")
        parts.append(f'<g class="chart-row"><title>{escape(bar.label)}: {escape(bar.text)}</title>')
        parts.append(f'<text x="0" y="{y + 16}" font-size="{FONT_SIZE}" fill="#111">{escape(fit(bar.label))}</text>')
        x = 0.0
        for value, s in zip(bar.values, series, strict=True):
            width = max(value, 0) / scale * space
            if width > 0:
                parts.append(f'<rect x="{_pct(x)}" y="{y + 22}" width="{_pct(width)}" height="{BAR_HEIGHT}" '
                             f'fill="{escape(s.color)}" rx="2"/>')
            x += width
        if below:
            parts.append(f'<text x="0" y="{y + 55}" font-size="{SMALL}" fill="#333">{escape(bar.text)}</text>')
        else:
            parts.append(f'<text x="{_pct(x)}" dx="6" y="{y + 35}" font-size="{FONT_SIZE}" '
                         f'font-weight="700" fill="#111">{escape(bar.text)}</text>')
        parts.append("</g>")
        y += row_height

    if split:
        y += 4
        names = list(legend) or [s.name for s in series]
        for s, name in zip(series, names, strict=False):
            parts.append(f'<rect x="0" y="{y}" width="12" height="12" fill="{escape(s.color)}" rx="2"/>'
                         f'<text x="18" y="{y + 11}" font-size="{SMALL}" fill="#111">{escape(name)}</text>')
            y += 20
        descriptions.append(" · ".join(names))

    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" role="img" width="100%" '
            f'height="{y}" aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape("; ".join(descriptions))}</desc>')
    return Markup(head + "".join(parts) + "</svg>")
