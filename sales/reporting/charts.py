"""Server-side SVG charts: pure functions from numbers to an SVG string, so the dashboard draws with
no JavaScript and no CDN. Every label is escaped; the result is safe to put in a template."""

import datetime
from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape  # what django.utils.html.escape calls, without its lazy-string wrapper per call

from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
HEIGHT = 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 80, 16, 28, 34
PALETTE = ("#2454d6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#64748b", "#ec4899")
AXIS = "#98a2b3"
INK = "#1d2330"

Number = Decimal | int


def _svg(body: list[str], *, label: str, height: int = HEIGHT, width: int = WIDTH) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'font-family="system-ui, sans-serif" font-size="11">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", css: str = "label", fill: str = INK) -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(content)}</text>'


def _empty(label: str, message: str, *, width: int = WIDTH, height: int = HEIGHT) -> SafeString:
    return _svg(
        [_text(width / 2, height / 2, message, anchor="middle", css="empty", fill=AXIS)],
        label=label,
        width=width,
        height=height,
    )


def _day_label(day: datetime.date) -> str:
    return day.strftime("%b %d").replace(" 0", " ")


def _scale(low: Number, high: Number) -> Callable[[Number], float]:
    """Maps values in [low, high] (low <= 0 <= high) onto the plot's height, top to bottom."""
    top, span = float(high), float(high - low) or 1.0
    plot = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    return lambda value: MARGIN_TOP + (top - float(value)) / span * plot


def _y_axis(low: Number, high: Number, y: Callable[[Number], float], fmt: Callable[[Number], str]) -> list[str]:
    ticks = sorted({low, Decimal(0), high} if low < 0 else {Decimal(0), high / 2, high})
    parts = []
    for tick in ticks:
        position = y(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{position:.1f}" y2="{position:.1f}" '
            f'stroke="{AXIS}" stroke-width="{1 if tick == 0 else 0.4}"/>'
        )
        parts.append(_text(MARGIN_LEFT - 6, position + 4, fmt(tick), anchor="end", css="tick"))
    return parts


def _x_labels(days: Sequence[datetime.date], x: Callable[[int], float], slot: float) -> list[str]:
    every = max(1, len(days) // 6)
    return [
        _text(x(index) + slot / 2, HEIGHT - MARGIN_BOTTOM + 16, _day_label(day), anchor="middle", css="tick")
        for index, day in enumerate(days)
        if index % every == 0
    ]


def _legend(names: Sequence[str], colours: dict[str, str]) -> list[str]:
    parts, x = [], MARGIN_LEFT
    for name in names:
        parts.append(f'<rect class="legend" x="{x}" y="8" width="10" height="10" fill="{colours[name]}"/>')
        parts.append(_text(x + 14, 17, name, css="legend-label"))
        x += 24 + 7 * len(name)
    return parts


def stacked_bar_chart(
    *,
    days: Sequence[datetime.date],
    series: dict[str, dict[datetime.date, Number]],
    fmt: Callable[[Number], str],
    label: str,
) -> SafeString:
    """One bar per day, one coloured segment per series (channel); negative values stack downwards."""
    names = sorted(name for name, values in series.items() if any(values.values()))
    if not names:
        return _empty(label, "No sales in this period")
    ups = [sum((max(series[name].get(day, 0), 0) for name in names), Decimal(0)) for day in days]
    downs = [sum((min(series[name].get(day, 0), 0) for name in names), Decimal(0)) for day in days]
    high, low = max(ups) or Decimal(1), min(downs)
    y = _scale(low, high)
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / len(days)
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(names)}
    parts = _y_axis(low, high, y, fmt)
    # A bar is up to a dozen attributes: the parts shared by a series or a day are formatted once.
    width = f"{slot * 0.7:.1f}"
    openings = {name: f'<rect class="bar" data-series="{escape(name)}" data-day="' for name in names}
    fills = {name: f'" fill="{colours[name]}"><title>' for name in names}
    captions = {name: f" · {escape(name)}: " for name in names}
    for index, day in enumerate(days):
        up, down = Decimal(0), Decimal(0)
        place = f'{day.isoformat()}" x="{MARGIN_LEFT + index * slot + slot * 0.15:.1f}" y="'
        title = escape(_day_label(day))
        for name in names:
            value = series[name].get(day, 0)
            if not value:
                continue
            if value > 0:
                top, bottom = up + value, up
                up = top
            else:
                top, bottom = down, down + value
                down = bottom
            top_y = y(top)
            parts.append(
                f'{openings[name]}{place}{top_y:.1f}" width="{width}" height="{max(y(bottom) - top_y, 0.5):.1f}'
                f"{fills[name]}{title}{captions[name]}{escape(fmt(value))}</title></rect>"
            )
    parts += _x_labels(days, lambda index: MARGIN_LEFT + index * slot, slot)
    parts += _legend(names, colours)
    return _svg(parts, label=label)


def horizontal_bar_chart(
    *, items: Sequence[tuple[str, Number]], fmt: Callable[[Number], str], label: str
) -> SafeString:
    """One labelled bar per item, in the order given; for rankings and counts. Half as wide as the
    day charts, so it reads at the same size in a half-width card."""
    width, row, name_width = WIDTH // 2, 24, 120
    if not items:
        return _empty(label, "Nothing to show", width=width, height=80)
    height = 8 + row * len(items)
    high = max((value for _, value in items), default=0) or 1
    plot = width - name_width - MARGIN_RIGHT - 70
    parts = []
    for index, (name, value) in enumerate(items):
        top = 4 + index * row
        shown = name if len(name) <= 20 else name[:19] + "…"
        length = max(float(value), 0) / float(high) * plot
        parts.append(_text(name_width - 8, top + 15, shown, anchor="end"))
        parts.append(
            f'<rect class="bar" data-label="{escape(name)}" x="{name_width}" y="{top + 3}" width="{length:.1f}" '
            f'height="{row - 8}" fill="{PALETTE[0]}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>'
        )
        parts.append(_text(name_width + length + 6, top + 15, fmt(value), css="value"))
    return _svg(parts, label=label, height=height, width=width)


def line_chart(
    *, days: Sequence[datetime.date], values: dict[datetime.date, Number], fmt: Callable[[Number], str], label: str
) -> SafeString:
    """A line over the days (missing days are zero), with a dot on each day that has a value."""
    if not any(values.values()):
        return _empty(label, "No conversions in this period")
    high = max(values.values()) or 1
    y = _scale(Decimal(0), Decimal(high))
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / len(days)

    def x(index: int) -> float:
        return MARGIN_LEFT + index * slot + slot / 2

    points = [(x(index), y(values.get(day, 0))) for index, day in enumerate(days)]
    path = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
    parts = _y_axis(Decimal(0), Decimal(high), y, fmt)
    parts.append(f'<path class="line" d="{path}" fill="none" stroke="{PALETTE[2]}" stroke-width="2"/>')
    for (px, py), day in zip(points, days, strict=True):
        if values.get(day):
            parts.append(
                f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{PALETTE[2]}">'
                f"<title>{escape(_day_label(day))}: {escape(fmt(values[day]))}</title></circle>"
            )
    parts += _x_labels(days, lambda index: MARGIN_LEFT + index * slot, slot)
    return _svg(parts, label=label)
