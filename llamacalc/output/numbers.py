"""Numbers for people: 405.9B, 3.80e25 FLOP, $91.05M, 77.2 days, 23.2 GWh, and bars for plots."""

from __future__ import annotations

import math
from collections.abc import Callable

from llamacalc.units import DAY, HOUR, KWH, MWH

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _significant(value: float, digits: int) -> str:
    """`digits` significant figures, never in exponent form: 760 at 2 -> '760', 4.06 -> '4.1',
    1,234,567 at 3 -> '1,230,000'; trailing zeros after the point dropped."""
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
        return f"{value:,.0f}" if value == int(value) else _significant(value, 3)
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
        return f"{_significant(mwh / 1000, 3)} GWh"
    return f"{_significant(mwh, 3)} MWh" if mwh >= 1 else f"{_significant(joules / KWH, 3)} kWh"


def power(watts: float) -> str:
    """A draw in the largest unit it reaches, 3 figures: '88.9 kW', '22.8 MW', '1.24 GW'."""
    for unit, scale in (("GW", 1e9), ("MW", 1e6), ("kW", 1e3), ("W", 1.0)):
        if float(f"{watts / scale:.3g}") >= 1 or unit == "W":  # as rounded: 999.6 kW is 1 MW
            break
    return f"{_significant(watts / scale, 3)} {unit}"


def tonnes(kg: float | None) -> str:
    if kg is None:
        return "—"
    t = kg / 1000
    return f"{t:,.0f} t" if t >= 100 else f"{_significant(t, 3)} t"


def percent(fraction: float | None, decimals: int = 1) -> str:
    return "—" if fraction is None else f"{fraction:.{decimals}%}"


def rate(flop_per_s: float) -> str:
    """'989.4 TFLOP/s', '1,978.9 TFLOP/s': one unit for every accelerator's peak."""
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
    "gpus": lambda n: whole(n),
    "gpu_hours": count,
    "energy": lambda mwh: energy(mwh * MWH),
    "co2": lambda t: tonnes(t * 1000),
    "flops": flops,
    "facility_power": lambda mw: power(mw * 1e6),
}


def whole(n: int | float) -> str:
    """A count people act on exactly, GPUs above all: 16,384 and 131,072, never '131.1K'."""
    return f"{n:,.0f}"


def price(usd_per_hour: float) -> str:
    """One spelling for a GPU's price: '$3.00/GPU-h'."""
    return f"${usd_per_hour:,.2f}/GPU-h"


# A figure given in a display unit (units.DISPLAY, a preset's field) as every table spells it: one
# spelling per unit (USD/GPU-h, TFLOP/s, TB/s, GB), so a price reads the same in every command.
BY_UNIT: dict[str, Callable[[float], str]] = {
    "USD/GPU-hour": price,
    "USD/s": lambda usd: price(usd * HOUR),  # a price per GPU in canonical units
    "FLOP/s": rate,
    "FLOP": flops,
    "USD": money,
    "W": lambda w: f"{w:,.0f} W",
    "kg/kWh": lambda c: f"{c:g} kg CO2/kWh",
    "years": lambda y: f"{y:g} years",
    "days": lambda d: duration(d * DAY),
    "B": lambda b: f"{b / 1e9:,.4g} GB",
    "B/s": lambda b: f"{b / 1e12:,.3g} TB/s",
}


def quantity(value: float, unit: str) -> str:
    """`value` in `unit`, by BY_UNIT where it names the unit, else a count and the unit."""
    if unit in BY_UNIT:
        return BY_UNIT[unit](value)
    return f"{count(value) if value >= 1e5 or value == int(value) else f'{value:.4g}'} {unit}".strip()


def margin(headroom: float, ratio: float) -> str:
    """Headroom under a limit, '+18.7%'; far over it, '4.06× the limit' reads better than '-306.0%'."""
    return f"{headroom:+.1%}" if headroom >= -1 else f"{ratio:,.3g}× the limit"
