"""Units: the one pint registry, ML shorthand, and parsing text into canonical floats.

The core computes on plain floats in canonical units (FLOP, s, USD, J, kg, bytes; per-GPU rates
per GPU), so pint is only paid for at the edges where text is parsed — and only for text beyond a
plain "<number> <unit>" (SIMPLE_UNITS). pint is imported lazily and built from the small
definitions below: pint's default registry reads "15.6T" as tesla, "70B" as bytes and drops "$"
(see shared/notes/units-and-startup.md §5.3).
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llamacalc import fastpath
from llamacalc.errors import UnitError, figure

if TYPE_CHECKING:
    import pint

# Canonical units of the floats the core computes with.
HOUR = 3600.0  # s
DAY = 86400.0  # s
YEAR = 365.25 * DAY  # s: the Julian year, as Epoch's cost code (24 × 365.25 hours)
KWH = 3.6e6  # J
MWH = 3.6e9  # J

# The one table of display units: each figure's unit as people read it, and canonical units per it.
DISPLAY: Mapping[str, tuple[str, float]] = {
    "flops": ("FLOP", 1.0),
    "gpus": ("GPUs", 1.0),
    "days": ("days", DAY),
    "gpu_hours": ("GPU-hours", HOUR),
    "cost": ("USD", 1.0),
    "energy": ("MWh", MWH),
    "co2": ("t", 1000.0),
    "price": ("USD/GPU-hour", 1 / HOUR),
    "power": ("W", 1.0),
    "carbon": ("kg/kWh", 1 / KWH),
    "life": ("years", YEAR),
    "facility_power": ("MW", 1e6),
}

DEFINITIONS = """
milli- = 1e-3 = m-
kilo- = 1e3 = k-
mega- = 1e6 = M-
giga- = 1e9 = G-
tera- = 1e12 = T-
peta- = 1e15 = P-
exa- = 1e18 = E-
zetta- = 1e21 = Z-
yotta- = 1e24 = Y-
kibi- = 2**10 = Ki-
mebi- = 2**20 = Mi-
gibi- = 2**30 = Gi-
tebi- = 2**40 = Ti-
second = [time] = s = sec
FLOP = [compute] = _ = flop
token = [text] = tok
parameter = [model_size] = param
gpu = [hardware] = GPU = chip
USD = [currency] = _ = dollar
joule = [energy] = J
gram = [mass] = g
byte = [information] = B
minute = 60 * second = min
hour = 60 * minute = h = hr
day = 24 * hour = d
week = 7 * day = wk
year = 365.25 * day = yr
month = year / 12
watt = joule / second = W
watt_hour = watt * hour = Wh
tonne = 1e6 * gram = t
bit = byte / 8 = b
FLOPS = FLOP / second
gpu_hour = gpu * hour = GPUh
percent = 0.01 = %
""".strip().splitlines()


_COUNT_SUFFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_COUNT = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMBGTP]?)\s*")
_NUM_SUFFIX = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?|\.\d+)([kKMBGTPE])(?=$|[\s*/)])")
_DOLLAR_NUM = re.compile(r"\$\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)")
_GPU_HOURS = re.compile(r"\bGPU[- ](hours?|h)\b", re.IGNORECASE)
_CO2 = re.compile(r"(?<=[gt])\s*CO2(?:eq|e)?\b")
_SUFFIX_EXPONENT = {"k": 3, "K": 3, "M": 6, "B": 9, "G": 9, "T": 12, "P": 15, "E": 18}


_COUNT_EXAMPLES = {
    "a GPU count": "'16384' or '16K'", "a sequence length": "'8192'", "a parallel degree": "'8'",
    "a GPU-hour count": "'30.84M' or '184320'", "an accelerator-hour count": "'30.84M' or '184320'",
    "a PUE": "'1.1'", "a batch of sequences": "'2048'", "sequences a micro-batch": "'1' or '2'",
    "a whole number": "'64'", "a token count": "'1000' or '15.6T'",
}  # fmt: skip


def _shown(value: object) -> str:
    """A value of the wrong type, briefly: a list or a table from JSON or TOML may be huge."""
    text = repr(value)
    return f"a {type(value).__name__}" if len(text) > 40 else text


def parse_count(text: str | float, what: str = "count") -> float:
    """A positive count such as '405B', '15.6T', '16K', '4.05e11' or 16384 (SI suffixes, K = 1e3)."""
    example = _COUNT_EXAMPLES.get(what, "'405B' or '15.6T'")
    expected = f"expected {what} such as {example}"
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise UnitError(f"{expected}, got {_shown(text)}")
    if isinstance(text, int | float):
        value = _float(text, expected)
    else:
        match = _COUNT.fullmatch(_without_commas(text, expected).replace("_", ""))
        if not match:
            raise UnitError(f"{expected}, got '{text}'")
        value = float(match[1]) * _COUNT_SUFFIX[match[2]]
    if not math.isfinite(value) or value <= 0:
        raise UnitError(f"{expected}, got '{text}' (not positive and finite)")
    return value


def _float(number: int | float, expected: str) -> float:
    """A JSON or TOML number as a float: an integer of 400 digits is too large, not a crash."""
    try:
        return float(number)
    except OverflowError:
        digits = len(str(abs(number))) if abs(number) < 10**4000 else "thousands of"
        raise UnitError(f"{expected}, got a number of {digits} digits (too large)") from None


_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")


def _without_commas(text: str, expected: str) -> str:
    """'16,384' -> '16384'; any other comma ('1,5T', a decimal comma) is an error, never a silent ×10."""
    if "," not in text:
        return text
    plain = _THOUSANDS.sub(lambda m: m[0].replace(",", ""), text)
    if "," in plain:
        raise UnitError(f"{expected}, got '{text}' (write a decimal point, 1.5, and thousands as 16,384)")
    return plain


MAX_WHOLE = 2.0**53


def parse_whole(text: str | float, what: str) -> int:
    """A positive whole count such as '8' or '2K': a parallel degree, a batch, a token count per request."""
    count = parse_count(text, what)
    if count > MAX_WHOLE:  # past 2**53 a float skips whole numbers, and formulas take them as ints
        raise UnitError(f"expected {what} of at most {figure(MAX_WHOLE)}, got '{text}' (too large to count)")
    if count != int(count):
        raise UnitError(f"expected a whole number, got '{text}'")
    return int(count)


def ml_shorthand(text: str) -> str:
    """Rewrite ML idioms for pint: '$2.5/h' -> '2.5 USD/h', '70B' -> '70e9', 'GPU-hours' -> 'GPU*hours'."""
    text = _NUM_SUFFIX.sub(lambda m: f"{m[1]}e{_SUFFIX_EXPONENT[m[2]]}", text)
    text = _DOLLAR_NUM.sub(r"\1 USD", text).replace("$", "USD")
    return _CO2.sub("", _GPU_HOURS.sub(r"(GPU*\1)", text))


@functools.cache
def registry() -> pint.UnitRegistry:
    """The program's one pint registry, built on first use from DEFINITIONS (about 8 ms)."""
    import pint

    ureg: pint.UnitRegistry = pint.UnitRegistry(None, preprocessors=[ml_shorthand], autoconvert_offset_to_baseunit=True)
    ureg.load_definitions(DEFINITIONS)
    return ureg


@dataclass(frozen=True)
class Kind:
    """What an option holds: its name for messages, canonical unit, unit for bare numbers, example."""

    name: str
    unit: str
    bare: str
    example: str
    per_gpu: bool = False  # '700 W' and '700 W/GPU' both mean per GPU

    @functools.cached_property
    def dimensionality(self) -> Any:
        return registry().Quantity(1, self.unit).dimensionality


COMPUTE = Kind("an amount of compute", "FLOP", "FLOP", "3.8e25 FLOP")
RATE = Kind("a compute rate per GPU", "FLOP/s", "TFLOP/s", "989 TFLOP/s", per_gpu=True)
DURATION = Kind("a duration", "s", "day", "54 days")
MONEY = Kind("money", "USD", "USD", "5 MUSD")
PRICE = Kind("money per GPU-hour", "USD/s", "USD/h", "2.5 USD/h", per_gpu=True)
POWER = Kind("power per GPU", "W", "W", "700 W", per_gpu=True)
FACILITY_POWER = Kind("a facility power", "W", "MW", "150 MW")
ENERGY = Kind("an energy", "J", "MWh", "20 GWh")
MASS = Kind("a mass of CO2", "kg", "t", "5000 t")
CARBON = Kind("a carbon intensity", "kg/J", "kg/kWh", "0.38 kg/kWh")
ELECTRICITY = Kind("an electricity price", "USD/J", "USD/kWh", "0.08 USD/kWh")
DURATION_YEARS = Kind("a duration in years", "s", "yr", "5.5 years")
MEMORY = Kind("a memory size", "B", "GB", "80 GB")
BANDWIDTH = Kind("a memory bandwidth", "B/s", "TB/s", "3.35 TB/s")
FRACTION = Kind("a fraction", "", "", "0.4")
GPU_TIME = Kind("GPU time", "GPU*s", "GPU*h", "3M GPU-hours")

_DIMENSION_NAMES = {
    "[compute]": "an amount of compute",
    "[compute] / [time]": "a compute rate",
    "[time]": "a duration",
    "[currency]": "money",
    "[currency] / [time]": "money per hour",
    "[energy] / [time]": "a power",
    "[energy]": "an energy",
    "[mass]": "a mass",
    "[mass] / [energy]": "a carbon intensity",
    "[currency] / [energy]": "an electricity price",
    "[information]": "a memory size",
    "[information] / [time]": "a bandwidth",
    "[text]": "a token count",
    "[model_size]": "a parameter count",
    "[hardware]": "a GPU count",
    "[hardware] * [time]": "GPU time",
    "dimensionless": "a plain number",
}


def _describe(dimensionality: Any) -> str:
    key = str(dimensionality)
    return _DIMENSION_NAMES.get(key, f"a quantity of dimension {key}")


def parse_quantity(text: str | float, kind: Kind) -> float:
    """Parse text such as '2.5 USD/h' into a float in `kind`'s canonical unit, or raise UnitError.

    A bare number takes the kind's bare unit: `--days 54` is 54 days, `--power 700` is 700 W.
    """
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got {_shown(text)}")
    if isinstance(text, int | float):
        value = _float(text, f"expected {kind.name} (e.g. '{kind.example}')") * _bare_factor(kind)
    else:
        value = _parse_text(_without_commas(text, f"expected {kind.name} (e.g. '{kind.example}')"), kind)
    if not math.isfinite(value):
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (not finite)")
    if value < 0 or math.copysign(1.0, value) < 0:  # -0 too: a sign typed by mistake
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (negative)")
    if 0 < value < sys.float_info.min:  # denormal: divided by, it overflows; nothing real is this small
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (too small to compute with)")
    return value


# Plain "<number> <unit>" spellings that need no unit algebra, by canonical unit, with their factor.
# They skip pint: the shipped presets and most options use only these, so a one-liner never pays
# pint's ~70 ms import and registry build. Everything else goes to pint; a test checks every entry
# against pint's own conversion.
SIMPLE_UNITS: Mapping[str, Mapping[str, float]] = {
    "FLOP": {"FLOP": 1.0, "FLOPs": 1.0, "TFLOP": 1e12, "PFLOP": 1e15, "EFLOP": 1e18, "ZFLOP": 1e21, "YFLOP": 1e24},
    "FLOP/s": {"FLOP/s": 1.0, "TFLOP/s": 1e12, "PFLOP/s": 1e15, "TFLOPS": 1e12, "PFLOPS": 1e15},
    "s": {"s": 1.0, "h": HOUR, "hour": HOUR, "hours": HOUR, "day": DAY, "days": DAY, "d": DAY,
          "yr": YEAR, "year": YEAR, "years": YEAR,
          "week": 7 * DAY, "weeks": 7 * DAY},
    "USD": {"USD": 1.0, "kUSD": 1e3, "MUSD": 1e6},
    "USD/s": {"USD/h": 1 / HOUR, "USD/hour": 1 / HOUR},
    "W": {"W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9},
    "J": {"kWh": KWH, "MWh": MWH, "GWh": 1e3 * MWH, "TWh": 1e6 * MWH},
    "kg": {"kg": 1.0, "t": 1e3},
    "kg/J": {"kg/kWh": 1 / KWH},
    "USD/J": {"USD/kWh": 1 / KWH},
    "B": {"GB": 1e9, "TB": 1e12, "GiB": 2.0**30},
    "B/s": {"GB/s": 1e9, "TB/s": 1e12},
    "GPU*s": {"GPU*h": HOUR},
    "": {"": 1.0, "%": 0.01},
}  # fmt: skip
_SIMPLE = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)\s*")


def _bare_factor(kind: Kind) -> float:
    return SIMPLE_UNITS[kind.unit][kind.bare]


MAX_QUANTITY_TEXT = 100  # characters: '3.8e25 FLOP', '2.5 USD/GPU/hour', '0.38 kg CO2/kWh' need far fewer
MAX_POWERS = 2  # ** or ^ operators in one quantity: 'kg*m^2/s^2'
_POWER = re.compile(r"\*\*|\^")
# The exponent is the whole number token, however spelled: '9**9_999_999' (digits grouped), '9**0x10'
# '9**9e9' and '9**9j' never pass as an exponent of one digit followed by something else.
_EXPONENT = re.compile(r"\s*\(?\s*[+-]?\d{1,2}(?:\.\d+)?(?![\d_.]|[eE][+-]?\d|[xXoObB][\da-fA-F_]|[jJ]\b)\s*\)?")


def _bounded(text: str, kind: Kind) -> None:
    """Text pint may evaluate: short, and powers only to small literal exponents, never stacked, so
    that '9**9**9 FLOP' is refused at once instead of computing a number of 370 million digits."""
    expected = f"expected {kind.name} (e.g. '{kind.example}')"
    if len(text) > MAX_QUANTITY_TEXT:
        raise UnitError(f"{expected}, got {len(text):,} characters (at most {MAX_QUANTITY_TEXT})")
    powers = list(_POWER.finditer(text))
    if len(powers) > MAX_POWERS:
        raise UnitError(f"{expected}, got '{text}' (more than {MAX_POWERS} powers)")
    for power in powers:
        exponent = _EXPONENT.match(text, power.end())
        if exponent is None or _POWER.match(text[exponent.end() :].lstrip()):
            raise UnitError(f"{expected}, got '{text}' (a power needs a literal exponent of at most 2 digits)")


MAX_FLOAT_INT = int(sys.float_info.max)  # a JSON, TOML or Python integer beyond it has no float
_NOT_A_QUANTITY = re.compile(r"[][{}'\"\\;:,=!<>?@#&|~`]")  # brackets, quotes, separators: no unit spelling has them


@fastpath.memo("parse", 4096)  # batches repeat the same few strings; pint costs ~100 µs a parse
def _parse_text(text: str, kind: Kind) -> float:
    simple = _SIMPLE.fullmatch(text)
    if simple and simple[2] in SIMPLE_UNITS[kind.unit]:
        return float(simple[1]) * SIMPLE_UNITS[kind.unit][simple[2]]
    if simple and not simple[2]:
        return float(simple[1]) * _bare_factor(kind)
    _bounded(text, kind)
    if _NOT_A_QUANTITY.search(text):  # pint reads "{'x': 0.5}" as 0.5 and "[0.4]" as 0.4: never meant
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}'")
    if text.count("%") > 1:  # pint reads '40%%' as 40 percent of a percent, 0.004: a typo, never meant
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (one '%' at most)")
    ureg = registry()
    try:
        quantity = ureg.Quantity(text.strip())
    except OverflowError:
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (too large)") from None
    except Exception:  # pint's parser raises many types (even AssertionError) for arbitrary text
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}'") from None
    try:  # pint keeps whole numbers whole: '10**400 W' is an int no float holds
        if not isinstance(quantity, ureg.Quantity):  # a bare number
            return float(quantity) * _bare_factor(kind)
        if quantity.dimensionless and quantity.units == ureg.dimensionless:
            return float(quantity.magnitude) * _bare_factor(kind)
        if kind.per_gpu and quantity.dimensionality.get("[hardware]") == -1:
            quantity = quantity * ureg.gpu
        if quantity.dimensionality != kind.dimensionality:
            shown = f"{float(quantity.magnitude):g} {quantity.units:~}"
            raise UnitError(
                f"expected {kind.name} (e.g. '{kind.example}'), got '{shown}' ({_describe(quantity.dimensionality)})"
            )
        return float(quantity.m_as(kind.unit))
    except OverflowError:
        raise UnitError(f"expected {kind.name} (e.g. '{kind.example}'), got '{text}' (too large)") from None
