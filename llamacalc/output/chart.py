"""Charts as plain SVG: a sweep's days (or GPUs) and cost against the swept input, P10–P90 shaded.

No plotting library: a chart is a few polylines, polygons and labels, so `sweep --plot` installs
nothing and opens in any browser, README or PR. The x axis is logarithmic when the sweep multiplies
(`1024:65536:x2`), linear otherwise; each y axis starts at zero so a halving looks like one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple
from xml.sax.saxutils import escape as _escape

from llamacalc.errors import InputError, printable
from llamacalc.inputs import option
from llamacalc.output.numbers import count, flops, money
from llamacalc.output.render import renders
from llamacalc.output.tables import axis_value
from llamacalc.units import DAY

if TYPE_CHECKING:
    from llamacalc.estimates.plan import OptimalPlan
    from llamacalc.estimates.sweep import Sweep
    from llamacalc.estimates.train import TrainResult

WIDTH, HEIGHT = 960, 420
LEFT, RIGHT, TOP, BOTTOM = 86, 24, 88, 64  # each panel's margins, in px
INK, GRID, BAND, LINE = "#222", "#ddd", "#9ecae1", "#08519c"
PALETTE = ("#08519c", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
FONT = 'font-family="Helvetica, Arial, sans-serif"'


def escape(text: str) -> str:
    """Text for SVG: markup escaped, and control characters from preset files (which XML forbids)
    shown escaped, as the terminal shows them."""
    return _escape(printable(text))


class Band(NamedTuple):
    """A figure's P10, P50 and P90 in the chart's unit."""

    p10: float
    p50: float
    p90: float


@renders("chart", "Sweep")
def sweep_chart(sweep: Sweep) -> str:
    """The sweep as an SVG document: one panel per figure, side by side."""
    series, results = sweep.series, sweep.results
    if len(sweep.axes) > 1 or series.named:
        raise InputError("--plot draws one numeric input against days and cost; sweep one range or list of numbers")
    xs = list(series.values)
    by_count = results[0].resolved.gpus is None  # --days given: the sweep changes the GPU count
    panels: list[tuple[str, Callable[[float], str], list[Band]]] = [
        ("GPUs" if by_count else "days", count, [_band(r, "gpus" if by_count else "seconds") for r in results])
    ]
    if all(r.budget.cost is not None for r in results):
        panels.append(("cost (USD)", lambda usd: money(usd, _figures(usd)), [_band(r, "cost") for r in results]))
    width = (WIDTH - LEFT) // len(panels)
    title = f"{_subject(results[0])}: {' and '.join(p[0] for p in panels)} against {option(series.key)}"
    key = (
        "line: estimate (P50); shaded: P10–P90 "
        "(the efficiency model's out-of-sample spread, and the price's where it has one)"
    )
    parts = []
    for i, (label, shown, bands) in enumerate(panels):
        parts += _panel(i * width, width, label, shown, bands, xs, lambda v: axis_value(series, v))
    return _document(title, key, parts)


def _document(title: str, key: str, panels: list[str]) -> str:
    """An SVG document: white, the title, a line of key (SVG text content), then the panels."""
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" {FONT}>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="30" font-size="18" font-weight="bold" fill="{INK}">{escape(title)}</text>',
        f'<text x="{LEFT}" y="52" font-size="13" fill="#555">{key}</text>',
        *panels,
        "</svg>",
    ]) + "\n"  # fmt: skip


def _label(x0: float, y1: float, label: str) -> str:
    """A panel's name, above its top-left corner."""
    return f'<text x="{x0}" y="{y1 - 12}" font-size="14" font-weight="bold" fill="{INK}">{escape(label)}</text>'


def _axes(x0: float, x1: float, y0: float, y1: float) -> list[str]:
    """A panel's x and y axes, from its bottom-left corner."""
    return [
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="{INK}"/>',
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="{INK}"/>',
    ]


def _subject(result: TrainResult) -> str:
    model = result.resolved.model
    return model.name if model is not None else "custom model"


def _band(result: TrainResult, key: str) -> Band:
    """A figure's P10/P50/P90 in the chart's units (days, GPUs, USD); the estimate alone if no range."""
    b = result.budget
    scale = DAY if key == "seconds" else 1.0
    p50 = {"seconds": b.seconds, "gpus": float(b.gpus), "cost": b.cost or 0.0}[key]
    p10, _, p90 = result.ranges.get(key, (p50, p50, p50))
    return Band(p10 / scale, p50 / scale, p90 / scale)


def _panel(
    left: int,
    width: int,
    label: str,
    shown: Callable[[float], str],
    bands: Sequence[Band],
    xs: Sequence[float],
    x_label: Callable[[float], str],
) -> list[str]:
    """One panel: axes, grid, the shaded band, the estimate's line and points, tick labels."""
    x0, x1, y0, y1 = left + LEFT, left + width - RIGHT, HEIGHT - BOTTOM, TOP
    logarithmic = len(xs) > 2 and xs[0] > 0 and _geometric(xs)
    position = _scale(xs, x0, x1, logarithmic)
    ticks = _ticks(max(b.p90 for b in bands) * 1.05)
    top = ticks[-1]

    def y(value: float) -> float:
        return y0 - (y0 - y1) * value / top

    parts = [_label(x0, y1, label)]
    for tick in ticks:
        parts.append(f'<line x1="{x0}" y1="{y(tick):.1f}" x2="{x1}" y2="{y(tick):.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{x0 - 8}" y="{y(tick) + 4:.1f}" font-size="12" text-anchor="end" fill="{INK}">'
            f"{escape(shown(tick) if tick else '0')}</text>"
        )
    upper = [f"{position(x):.1f},{y(b.p90):.1f}" for x, b in zip(xs, bands, strict=True)]
    lower = [f"{position(x):.1f},{y(b.p10):.1f}" for x, b in zip(xs, bands, strict=True)]
    middle = [f"{position(x):.1f},{y(b.p50):.1f}" for x, b in zip(xs, bands, strict=True)]
    parts.append(f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{BAND}" fill-opacity="0.6"/>')
    parts.append(f'<polyline points="{" ".join(middle)}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3.5" fill="{LINE}"/>' for p in middle]
    parts += _axes(x0, x1, y0, y1)
    for x in _x_ticks(xs):
        parts.append(f'<line x1="{position(x):.1f}" y1="{y0}" x2="{position(x):.1f}" y2="{y0 + 5}" stroke="{INK}"/>')
        parts.append(
            f'<text x="{position(x):.1f}" y="{y0 + 20}" font-size="12" text-anchor="middle" fill="{INK}">'
            f"{escape(x_label(x))}</text>"
        )
    return parts


def _geometric(xs: Sequence[float]) -> bool:
    ratios = [b / a for a, b in zip(xs, xs[1:], strict=False)]
    return all(math.isclose(r, ratios[0], rel_tol=1e-6) for r in ratios) and ratios[0] > 1


def _scale(xs: Sequence[float], x0: float, x1: float, logarithmic: bool) -> Callable[[float], float]:
    f = math.log if logarithmic else float
    low, high = f(xs[0]), f(xs[-1])
    span = (high - low) or 1.0
    return lambda x: x0 + (x1 - x0) * ((f(x) - low) / span if high != low else 0.5)


def _x_ticks(xs: Sequence[float]) -> list[float]:
    """At most eight labelled points, evenly picked, both ends included."""
    if len(xs) <= 8:
        return list(xs)
    step = (len(xs) - 1) / 7
    return [xs[round(i * step)] for i in range(8)]


def _figures(tick: float) -> int:
    """The significant figures a round tick needs, no more: $50M (not $50.0M), $250M, $1.25B."""
    mantissa = f"{abs(tick):.2e}".split("e")[0].rstrip("0").rstrip(".")
    return max(1, len(mantissa.replace(".", "")))


def _ticks(highest: float) -> list[float]:
    """A y axis's labels: zero to the first multiple of the step at or above `highest`, the step the
    smallest 1, 2, 2.5 or 5 × 10^k giving at most five intervals (so $50M, never $62.5M)."""
    if highest <= 0:
        return [0.0, 1.0]
    power = 10 ** math.floor(math.log10(highest / 5))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power * 5 >= highest)
    return [step * i for i in range(math.ceil(highest / step - 1e-9) + 1)]


def _decade(k: int) -> str:
    """10^k as a y axis labels it: '100B', '10T', then '1e15' as the x axis writes compute."""
    return count(10**k) if k < 15 else f"1e{k}"


@renders("chart", "OptimalPlan")
def frontier_chart(plan: OptimalPlan) -> str:
    """Each law's compute-optimal parameters and tokens against compute, log-log, the budget marked."""
    frontier = plan.frontier()
    width = (WIDTH - LEFT) // 2
    title = f"Compute-optimal models around {flops(plan.flops)}: each law's split"
    legend = [f'<tspan fill="{PALETTE[i % len(PALETTE)]}">■ {escape(name)}</tspan>' for i, name in enumerate(frontier)]
    parts = []
    for i, (label, pick) in enumerate((("parameters", "params"), ("training tokens", "tokens"))):
        lines = {name: [(s.flops, getattr(s, pick)) for s in splits] for name, splits in frontier.items()}
        parts += _log_panel(i * width, width, label, lines, plan.flops)
    return _document(title, f"{'  '.join(legend)}  (dashed: the budget)", parts)


def _log_panel(
    left: int, width: int, label: str, lines: dict[str, list[tuple[float, float]]], marked: float
) -> list[str]:
    """A log-log panel: one line per series, decade grid lines, a dashed line at `marked` on x."""
    x0, x1, y0, y1 = left + LEFT, left + width - RIGHT, HEIGHT - BOTTOM, TOP
    xs = [x for points in lines.values() for x, _ in points]
    ys = [y for points in lines.values() for _, y in points]
    low_x, high_x = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    low_y, high_y = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))

    def px(x: float) -> float:
        return x0 + (x1 - x0) * (math.log10(x) - low_x) / max(high_x - low_x, 1)

    def py(y: float) -> float:
        return y0 - (y0 - y1) * (math.log10(y) - low_y) / max(high_y - low_y, 1)

    parts = [_label(x0, y1, label)]
    for k in range(low_y, high_y + 1):
        parts.append(f'<line x1="{x0}" y1="{py(10**k):.1f}" x2="{x1}" y2="{py(10**k):.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{x0 - 8}" y="{py(10**k) + 4:.1f}" font-size="12" text-anchor="end" fill="{INK}">'
            f"{_decade(k)}</text>"
        )
    for k in range(low_x, high_x + 1):
        parts.append(
            f'<text x="{px(10**k):.1f}" y="{y0 + 20}" font-size="12" text-anchor="middle" fill="{INK}">1e{k}</text>'
        )
    parts.append(f'<text x="{x1}" y="{y0 + 40}" font-size="12" text-anchor="end" fill="#555">compute (FLOP)</text>')
    for i, points in enumerate(lines.values()):
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>')
    parts.append(
        f'<line x1="{px(marked):.1f}" y1="{y0}" x2="{px(marked):.1f}" y2="{y1}" stroke="{INK}" stroke-dasharray="5,4"/>'
    )
    parts += _axes(x0, x1, y0, y1)
    return parts
