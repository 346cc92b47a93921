"""The SVG charts are pure functions: what they draw for given numbers."""

import datetime
import re
from decimal import Decimal

from sales.reporting.charts import horizontal_bar_chart, line_chart, stacked_bar_chart

DAYS = [datetime.date(2026, 3, 1) + datetime.timedelta(days=offset) for offset in range(3)]


def rects(svg: str) -> list[dict]:
    return [
        {name: value for name, value in re.findall(r'([\w-]+)="([^"]*)"', tag)}
        for tag in re.findall(r'<rect class="bar"[^>]*>', svg)
    ]


def test_stacked_bars_draw_one_segment_per_nonzero_value_and_refunds_below_zero():
    svg = stacked_bar_chart(
        days=DAYS,
        series={
            "sells": {DAYS[0]: Decimal(30), DAYS[1]: Decimal(10)},
            "connecteam": {DAYS[1]: Decimal(-20)},
            "admin": {DAYS[2]: Decimal(0)},
        },
        fmt=str,
        label="Revenue",
    )
    bars = rects(svg)
    assert [(bar["data-series"], bar["data-day"]) for bar in bars] == [
        ("sells", "2026-03-01"),
        ("connecteam", "2026-03-02"),
        ("sells", "2026-03-02"),
    ]
    zero = float(re.search(r'y1="([\d.]+)"[^>]*stroke-width="1"', svg).group(1))
    refund, sale = bars[1], bars[2]
    assert float(refund["y"]) == zero  # hangs from the zero line
    assert float(sale["y"]) + float(sale["height"]) == zero  # stands on it
    assert float(bars[0]["height"]) == round(3 * float(sale["height"]), 1)  # 30 vs 10
    assert ">admin<" not in svg  # a series with nothing to show has no legend entry


def test_labels_are_escaped():
    svg = horizontal_bar_chart(items=[('<script>"x"</script>', 5)], fmt=str, label="Top <products>")
    assert "<script>" not in svg
    assert "&lt;script&gt;&quot;x&quot;&lt;/script&gt;" in svg
    assert 'aria-label="Top &lt;products&gt;"' in svg


def test_empty_charts_say_so():
    assert "No sales in this period" in stacked_bar_chart(days=DAYS, series={}, fmt=str, label="Revenue")
    assert "No conversions in this period" in line_chart(days=DAYS, values={}, fmt=str, label="Conversions")
    assert "Nothing to show" in horizontal_bar_chart(items=[], fmt=str, label="Top")


def test_the_line_has_a_point_per_day_and_a_dot_per_day_with_a_value():
    svg = line_chart(days=DAYS, values={DAYS[0]: Decimal("12.34"), DAYS[2]: Decimal(1)}, fmt=str, label="USD")
    path = re.search(r'<path class="line" d="([^"]+)"', svg).group(1)
    assert path.count("L") == len(DAYS) - 1
    assert svg.count('<circle class="dot"') == 2
    assert "<title>Mar 1: 12.34</title>" in svg
