"""One number style (output/numbers.py): every formatted number reads back as the value it shows, within
its rounding, in three significant figures and one spelling; a range shares its figure's style and unit."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc.output.numbers import (
    COUNT,
    DOLLARS,
    DURATION,
    ENERGY,
    MASS,
    PERCENT,
    POWER,
    Ladder,
    count,
    energy,
    flops,
    margin,
    money,
    percent,
    power,
    price,
    quantity,
    rate,
    scientific,
    tonnes,
    whole,
)
from llamacalc.units import DAY, HOUR, MWH

LADDERS = {"count": COUNT, "dollars": DOLLARS, "duration": DURATION, "energy": ENERGY, "power": POWER,
           "mass": MASS, "percent": PERCENT}  # fmt: skip
NUMBER = r"(-?\$?)(\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d\.\d\de-?\d+)"


def size(ladder: Ladder, unit: str) -> float:
    return dict((u, scale) for scale, u in ladder.steps)[unit]


def read(ladder: Ladder, shown: str, unit: str | None = None) -> tuple[float, float, int]:
    """The number `shown` writes, the size of its unit (in the ladder's base unit), and the significant
    figures it shows; `unit`: the unit a range's end is in (written once, after the range)."""
    if ladder.spaced and unit is None:
        shown, unit = shown.rsplit(" ", 1)
    match = re.fullmatch(NUMBER + (r"([KMBT%]?)" if not ladder.spaced else ""), shown)
    assert match, shown
    sign, number = match[1], match[2]
    assert sign == ladder.sign, shown
    if "e" in number:
        mantissa, _ = number.split("e")
        return float(number), 1.0, len(mantissa.replace(".", ""))
    digits = number.replace(",", "")
    figures = len((digits if "." in digits else digits.rstrip("0")).replace(".", "").lstrip("0"))
    return float(digits), size(ladder, (unit if ladder.spaced else match[3]) or ""), figures


def within_rounding(value: float, shown: float, figures: int = 3) -> bool:
    """`shown` is `value` rounded to `figures` significant figures (a hair of float slack)."""
    return abs(shown - value) <= 0.5 * 10 ** (int(f"{value:e}".split("e")[1]) - figures + 1) * (1 + 1e-9)


POSITIVE = st.floats(1e-3, 1e14)


@pytest.mark.parametrize("name", LADDERS)
@given(value=POSITIVE)
def test_every_figure_reads_back_to_three_figures(name, value):
    ladder = LADDERS[name]
    value *= ladder.steps[0][0]  # from the smallest unit up: kWh, tonnes, hours
    shown = ladder(value)
    assert "e+" not in shown
    number, scale, figures = read(ladder, shown)
    assert within_rounding(value / scale, number)
    assert figures <= 3, shown
    number = float(re.sub(r"[^\d.]", "", shown.split(" ")[0].split("e")[0]) or 0)
    assert number < 1000 or shown.endswith(ladder.steps[-1][1]) or ladder.beyond < value, shown  # largest unit


@pytest.mark.parametrize("name", LADDERS)
@given(value=POSITIVE, low=st.floats(0.2, 1), high=st.floats(1, 5))
def test_a_range_shares_its_figures_style_and_unit(name, value, low, high):
    """'32.7 GWh (21.5–49.7 GWh)': the ends in the figure's unit, written once; '$129M ($71.9M–$214M)':
    a suffix on each end; each end reads back within its rounding."""
    ladder = LADDERS[name]
    value *= ladder.steps[0][0]
    shown = ladder.range(value, value * low, value * high)
    figure, _, ends = shown.partition(" (")
    assert figure == ladder(value)
    if not ends:
        assert ladder(value * low) == ladder(value * high)
        return
    first, second = ends.removesuffix(")").split("–")
    unit = None
    if ladder.spaced:
        second, unit = second.rsplit(" ", 1)
        assert unit == figure.rsplit(" ", 1)[1]
    for end, expected in ((first, value * low), (second, value * high)):
        number, scale, _ = read(ladder, end, unit)
        assert within_rounding(expected / scale, number), (shown, end)


@given(st.floats(1e15, 1e40))
def test_scientific_notation_is_written_one_way(value):
    for shown in (scientific(value), flops(value), count(value), money(value).lstrip("$")):
        mantissa, exponent = re.fullmatch(r"(\d\.\d\d)e(\d+)(?: FLOP)?", shown).groups()
        assert within_rounding(value, float(f"{mantissa}e{exponent}"))


@given(st.floats(1e-30, 1e-3))
def test_small_exponents_are_negative_without_padding(value):
    assert re.fullmatch(r"\d\.\d\de-[1-9]\d*", scientific(value))


@given(st.integers(0, 10**9))
def test_gpus_are_exact(n):
    assert int(whole(n).replace(",", "")) == n and re.fullmatch(r"\d{1,3}(,\d{3})*", whole(n))


def test_the_issues_examples():
    assert COUNT(16_400) == "16.4K" and count(16_437.5) == "16.4K" and count(97_810.2) == "97.8K"
    assert count(16_384) == "16,384" and count(8_192.0) == "8,192"  # a whole number below 1e5 is as given
    assert COUNT.range(97_800, 64_400, 150_000) == "97.8K (64.4K–150K)"
    assert tonnes(6_052_616_000) == "6.05 Mt" and energy(16.5e6 * MWH) == "16.5 TWh"
    assert energy(655 * MWH) == "655 MWh" and ENERGY.range(655 * MWH, 431 * MWH, 995 * MWH) == "655 MWh (431–995 MWh)"
    assert flops(3.8e25) == "3.80e25 FLOP" and scientific(2.435e12) == "2.44e12"
    assert DURATION.range(109 * DAY, 72 * DAY, 166 * DAY) == "109 days (72.0–166 days)"
    assert money(129e6) == "$129M" and DOLLARS.range(129e6, 72e6, 210e6) == "$129M ($72.0M–$210M)"
    assert DURATION(6.53 * HOUR) == "6.53 hours" and percent(0.249) == "24.9%"


def test_three_figures_even_when_exact():
    """One rule, not a guess at exactness from a float: '70.0B', '$50.0M', '60.0 days', '40.0%'."""
    assert count(70e9) == "70.0B" and money(50e6) == "$50.0M" and DURATION(60 * DAY) == "60.0 days"
    assert percent(0.4) == "40.0%" and tonnes(12_007e3) == "12.0 kt"


def test_one_spelling_per_unit():
    assert price(3) == "$3.00/GPU-h" == quantity(3, "USD/GPU-hour")
    assert rate(1978.9e12) == "1,980 TFLOP/s" == quantity(1978.9e12, "FLOP/s")
    assert quantity(3.35e12, "B/s") == "3.35 TB/s" and quantity(80e9, "B") == "80.0 GB"
    assert quantity(0.367, "kg/kWh") == "0.367 kg CO2/kWh"
    assert power(700) == "700 W" == quantity(700, "W") and power(22.8e6) == "22.8 MW"
    assert margin(0.187, 0.813) == "+18.7%" and margin(-3.06, 4.06) == "4.06× the limit"
