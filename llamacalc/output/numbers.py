"""Numbers for people: 405.9B, 3.80e25 FLOP, $91.05M, 77.2 days, 23.2 GWh, and bars for plots."""

from __future__ import annotations

from collections.abc import Callable

from llamacalc.units import DAY, HOUR, KWH, MWH

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _significant(value: float, digits: int) -> str:
    """`digits` significant figures, never in exponent form: 760 at 2 -> '760', 4.06 -> '4.1'."""
    return f"{float(f'{value:.{digits}g}'):,g}"


def _scaled(value: float, digits: int) -> str | None:
    """'405.9B': the largest suffix the value still reaches once rounded (999,999 -> '1M')."""
    for scale, suffix in _SCALES:
        if float(f"{value / scale:.{digits}g}") >= 1:
            return f"{_significant(value / scale, digits)}{suffix}"
    return None


def count(value: float | None, digits: int = 4) -> str:
    """405.85e9 -> '405.9B', 15.6e12 -> '15.6T', 16384 -> '16,384'; `digits` significant above 1e5."""
    if value is None:
        return "—"
    if value < 1e5:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.3g}"
    if value >= 1e15:
        return f"{value:.3g}"
    return _scaled(value, digits) or f"{value:,.0f}"


def flops(value: float) -> str:
    return f"{value:.2e} FLOP".replace("e+", "e")


def money(usd: float | None, digits: int = 4) -> str:
    """'$80.0M', '$1.23B', '$950'; `digits` significant from $1K up."""
    if usd is None:
        return "—"
    scaled = _scaled(usd, digits)
    return f"${scaled}" if scaled else f"${usd:,.2f}"


def duration(seconds: float) -> str:
    days = seconds / DAY
    if days >= 1:
        return f"{days:,.1f} days"
    return f"{seconds / HOUR:,.1f} hours"


def energy(joules: float | None) -> str:
    if joules is None:
        return "—"
    mwh = joules / MWH
    if mwh >= 1000:
        return f"{mwh / 1000:,.3g} GWh"
    return f"{mwh:,.3g} MWh" if mwh >= 1 else f"{joules / KWH:,.3g} kWh"


def tonnes(kg: float | None) -> str:
    if kg is None:
        return "—"
    t = kg / 1000
    return f"{t:,.0f} t" if t >= 100 else f"{t:,.3g} t"


def percent(fraction: float | None, decimals: int = 1) -> str:
    return "—" if fraction is None else f"{fraction:.{decimals}%}"


def rate(flop_per_s: float) -> str:
    return f"{flop_per_s / 1e12:,.1f} TFLOP/s"


_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float | None, largest: float, width: int = 14) -> str:
    """A horizontal bar of `width` characters at full scale, in eighths of a character."""
    if value is None or largest <= 0:
        return ""
    eighths = max(1, round(8 * width * value / largest))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def ranged(shown: str, low: str, high: str) -> str:
    """An estimate with its P10-P90 range: '111.8 days (73-171)'; no range when both ends agree."""
    return shown if low == high else f"{shown} ({low}–{high})"


# Each figure, in its display unit (units.DISPLAY), as people read it: what limits are checked in.
IN_DISPLAY_UNIT: dict[str, Callable[[float], str]] = {
    "cost": money,
    "days": lambda days: duration(days * DAY),
    "gpus": count,
    "gpu_hours": count,
    "energy": lambda mwh: energy(mwh * MWH),
    "co2": lambda t: tonnes(t * 1000),
    "flops": flops,
    "facility_power": lambda mw: f"{mw:,.3g} MW",
}


def margin(headroom: float, ratio: float) -> str:
    """Headroom under a limit, '+18.7%'; far over it, '4.06× the limit' reads better than '-306.0%'."""
    return f"{headroom:+.1%}" if headroom >= -1 else f"{ratio:,.3g}× the limit"
