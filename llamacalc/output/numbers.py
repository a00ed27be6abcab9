"""Numbers for people, in one style: 406B, 3.80e25 FLOP, $129M, 109 days, 32.7 GWh, 12 kt, and bars.

Three significant figures; large counts and amounts with an SI suffix (16.4K, $129M), quantities in
the largest unit they reach (32.7 GWh, 6.05 Mt); exact integers only where a count is exact (GPUs);
scientific notation one way, 3.80e25. A figure and its P10–P90 range share one style and unit:
'97.8K (64.4K–150K)', '32.7 GWh (21.5–49.7 GWh)'. JSON carries the raw numbers, never these.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from llamacalc.units import DAY, HOUR, KWH, MWH

FIGURES = 3  # significant figures shown by default: what an estimate with a ±50% range can claim


def significant(value: float, digits: int = FIGURES) -> str:
    """`digits` significant figures, never in exponent form: 760 -> '760', 12 -> '12.0', 4.06 at 2 ->
    '4.1', 1,234,567 -> '1,230,000'."""
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:,.{decimals}f}"


def scientific(value: float, digits: int = FIGURES) -> str:
    """One spelling of scientific notation: 3.80e25, 1.00e-5 (never 'e+' or a padded exponent)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def in_one_style(text: str) -> str:
    """`text` (a formula built elsewhere) with Python's exponents written the one way: 2.625e+12 -> 2.625e12."""
    return re.sub(r"(\d)e([+-])0*(\d)", lambda m: f"{m[1]}e{'-' if m[2] == '-' else ''}{m[3]}", text)


@dataclass(frozen=True)
class Ladder:
    """A family of units, smallest first, each with its size in the base unit: a value is shown in
    the largest it reaches once rounded (999,999 is '1M'). A suffix ('K', '$…M') is written on each end
    of a range, a unit ('GWh') once after it."""

    steps: tuple[tuple[float, str], ...]
    spaced: bool = True  # '32.7 GWh' (a unit), else '16.4K' (a suffix)
    sign: str = ""  # '$'
    beyond: float = math.inf  # from here, scientific notation: '1.23e15'

    def step(self, value: float, digits: int = FIGURES) -> tuple[float, str]:
        for scale, unit in reversed(self.steps):
            if abs(float(f"{value / scale:.{digits}g}")) >= 1:
                return scale, unit
        return self.steps[0]

    def number(self, value: float, scale: float, unit: str, digits: int = FIGURES) -> str:
        if abs(value) >= self.beyond:
            return f"{self.sign}{scientific(value, digits)}"
        return f"{self.sign}{significant(value / scale, digits)}{'' if self.spaced else unit}"

    def __call__(self, value: float | None, digits: int = FIGURES) -> str:
        if value is None:
            return "—"
        scale, unit = self.step(value, digits)
        shown = self.number(value, scale, unit, digits)
        return f"{shown} {unit}" if self.spaced and abs(value) < self.beyond else shown

    def range(self, value: float, low: float, high: float, digits: int = FIGURES) -> str:
        """'32.7 GWh (21.5–49.7 GWh)', '$129M ($72.4M–$210M)'; the figure alone when both ends agree."""
        shown = self(value, digits)
        if not self.spaced or abs(value) >= self.beyond:
            ends = [self(end, digits) for end in (low, high)]
            return shown if ends[0] == ends[1] else f"{shown} ({ends[0]}–{ends[1]})"
        scale, unit = self.step(value, digits)
        ends = [self.number(end, scale, unit, digits) for end in (low, high)]
        return shown if ends[0] == ends[1] else f"{shown} ({ends[0]}–{ends[1]} {unit})"


_SUFFIXES = ((1.0, ""), (1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T"))
COUNT = Ladder(_SUFFIXES, spaced=False, beyond=1e15)
DOLLARS = Ladder(_SUFFIXES, spaced=False, sign="$", beyond=1e15)
DURATION = Ladder(((HOUR, "hours"), (DAY, "days")))
ENERGY = Ladder(((KWH, "kWh"), (MWH, "MWh"), (1e3 * MWH, "GWh"), (1e6 * MWH, "TWh")))
POWER = Ladder(((1.0, "W"), (1e3, "kW"), (1e6, "MW"), (1e9, "GW")))
MASS = Ladder(((1e3, "t"), (1e6, "kt"), (1e9, "Mt"), (1e12, "Gt")))  # from kg: CO2 in tonnes and up
DAYS = Ladder(((DAY, ""),), spaced=False)  # under a column headed 'days'
PERCENT = Ladder(((0.01, "%"),), spaced=False)

# The words a table writes after a number: a table keeps each on one line with its number.
UNITS = frozenset(unit for ladder in (DURATION, ENERGY, POWER, MASS) for _, unit in ladder.steps) | {
    "FLOP", "TFLOP/s", "GB", "GB/s", "Gb/s", "TB/s", "kg", "years", "ms", "s", "min", "h", "µs", "kB", "GiB",
}  # fmt: skip


def count(value: float | None, digits: int = FIGURES) -> str:
    """406e9 -> '406B', 16,437.5 -> '16.4K', 42.43 -> '42.4', past 1e15 '1.23e15'; a whole number below
    100,000 is exact, as given ('d_attn 16,384', 2,540 reported hours), never rounded."""
    if value is not None and value == int(value) and abs(value) < 1e5:
        return f"{value:,.0f}"
    return COUNT(value, digits)


def money(usd: float | None, digits: int = FIGURES) -> str:
    """'$129M', '$2.45M', '$950', '$0.5'."""
    return DOLLARS(usd, digits)


def flops(value: float) -> str:
    return f"{scientific(value)} FLOP"


def duration(seconds: float) -> str:
    """'109 days', '6.5 hours': hours under a day."""
    return DURATION(seconds)


def energy(joules: float | None) -> str:
    """'32.7 GWh', '622 MWh', '16.5 TWh'."""
    return ENERGY(joules)


def power(watts: float) -> str:
    """A draw in the largest unit it reaches: '88.9 kW', '22.8 MW', '1.24 GW'."""
    return POWER(watts)


def tonnes(kg: float | None) -> str:
    """CO2 by mass: '228 t', '12 kt', '6.05 Mt'."""
    return MASS(kg)


def percent(fraction: float | None, digits: int = FIGURES) -> str:
    """'24.9%', '5.2%', '100%'."""
    return PERCENT(fraction, digits)


def rate(flop_per_s: float) -> str:
    """'989 TFLOP/s', '1,980 TFLOP/s': one unit for every accelerator's peak."""
    return f"{significant(flop_per_s / 1e12)} TFLOP/s"


_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float | None, largest: float, width: int = 14) -> str:
    """A horizontal bar of `width` characters at full scale, in eighths of a character."""
    if value is None or largest <= 0:
        return ""
    eighths = max(1, round(8 * width * value / largest))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def ranged(shown: str, low: str, high: str) -> str:
    """A figure with its P10–P90 range, for figures outside the ladders (GPUs: '838 (560–1,260)');
    the figure alone when both ends agree."""
    return shown if low == high else f"{shown} ({low}–{high})"


def whole(n: int | float) -> str:
    """A count people act on exactly, GPUs above all: 16,384 and 131,072, never '131K'."""
    return f"{n:,.0f}"


# Each figure, in its display unit (units.DISPLAY), as people read it: what limits are checked in.
IN_DISPLAY_UNIT: dict[str, Callable[[float], str]] = {
    "cost": money,
    "days": lambda days: duration(days * DAY),
    "gpus": whole,
    "gpu_hours": count,
    "energy": lambda mwh: energy(mwh * MWH),
    "co2": lambda t: tonnes(t * 1000),
    "flops": flops,
    "facility_power": lambda mw: power(mw * 1e6),
}


def price(usd_per_hour: float) -> str:
    """One spelling for a GPU's price, in cents as prices are quoted: '$3.00/GPU-h'."""
    return f"${usd_per_hour:,.2f}/GPU-h"


# A figure given in a display unit (units.DISPLAY, a preset's field) as every table spells it: one
# spelling per unit (USD/GPU-h, TFLOP/s, TB/s, GB), so a price reads the same in every command.
BY_UNIT: dict[str, Callable[[float], str]] = {
    "USD/GPU-hour": price,
    "USD/s": lambda usd: price(usd * HOUR),  # a price per GPU in canonical units
    "FLOP/s": rate,
    "FLOP": flops,
    "USD": money,
    "W": power,
    "kg/kWh": lambda c: f"{significant(c)} kg CO2/kWh",
    "years": lambda y: f"{significant(y)} years",
    "days": lambda d: duration(d * DAY),
    "B": lambda b: f"{significant(b / 1e9)} GB",
    "B/s": lambda b: f"{significant(b / 1e12)} TB/s",
}


def quantity(value: float, unit: str) -> str:
    """`value` in `unit`, by BY_UNIT where it names the unit, else a count and the unit."""
    if unit in BY_UNIT:
        return BY_UNIT[unit](value)
    return f"{count(value)} {unit}".strip()


def margin(headroom: float, ratio: float) -> str:
    """Headroom under a limit, '+18.7%'; far over it, '4.06× the limit' reads better than '-306.0%'."""
    return f"{headroom:+.1%}" if headroom >= -1 else f"{significant(ratio)}× the limit"
