"""One number style (output/numbers.py): any magnitude reads back as the value it shows, in one spelling."""

import re

from hypothesis import given
from hypothesis import strategies as st

from llamacalc.output.numbers import (
    count,
    energy,
    flops,
    money,
    percent,
    power,
    price,
    quantity,
    rate,
    tonnes,
    whole,
)
from llamacalc.units import MWH

SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
COUNT = re.compile(r"^(\d{1,3}(?:,\d{3})*(?:\.\d+)?)([KMBT]?)$")


def read(shown: str) -> float:
    number, suffix = COUNT.match(shown).groups()
    return float(number.replace(",", "")) * SUFFIX[suffix]


@given(st.floats(1, 1e15, exclude_max=True))
def test_a_count_reads_back_to_its_figures(value):
    """Whole counts below 1e5 exactly; fractions below it to 3 figures; from 1e5, 4 figures and a suffix."""
    shown = count(value)
    assert COUNT.match(shown), shown  # separators or an SI suffix, never an exponent
    figures = 4 if value >= 1e5 else 0 if value == int(value) else 3
    assert abs(read(shown) - value) <= (5 * 10.0**-figures * value if figures else 0)


@given(st.floats(1, 1e14))
def test_money_reads_back_to_four_figures(value):
    shown = money(value)
    assert shown.startswith("$") and "e" not in shown
    assert abs(read(shown[1:]) - value) <= max(5e-4 * value, 0.005)


@given(st.integers(0, 10**9))
def test_gpus_are_exact(n):
    assert int(whole(n).replace(",", "")) == n and re.fullmatch(r"\d{1,3}(,\d{3})*", whole(n))


@given(st.floats(1e3, 1e35))
def test_flops_alone_use_scientific_notation(value):
    shown = flops(value)
    mantissa, exponent = re.fullmatch(r"(\d\.\d\d)e(\d+) FLOP", shown).groups()
    assert abs(float(mantissa) * 10 ** int(exponent) - value) <= 5e-3 * value


@given(st.floats(0, 1))
def test_fractions_are_percentages(fraction):
    assert re.fullmatch(r"\d{1,3}\.\d%", percent(fraction))


@given(st.floats(1e-3, 1e9))
def test_energy_and_co2_carry_one_unit_each(mwh):
    assert re.fullmatch(r"[\d,.]+ (kWh|MWh|GWh)", energy(mwh * MWH))
    assert re.fullmatch(r"[\d,.]+ t", tonnes(mwh))


def test_one_spelling_per_unit():
    assert price(3) == "$3.00/GPU-h" == quantity(3, "USD/GPU-hour")
    assert rate(1978.9e12) == "1,978.9 TFLOP/s" == quantity(1978.9e12, "FLOP/s")
    assert quantity(3.35e12, "B/s") == "3.35 TB/s" and quantity(80e9, "B") == "80 GB"
    assert quantity(0.367, "kg/kWh") == "0.367 kg CO2/kWh"


@given(st.floats(0.5, 1e13))
def test_power_reads_back_in_the_largest_unit_it_reaches(watts):
    number, unit = re.fullmatch(r"([\d,.]+) (W|kW|MW|GW)", power(watts)).groups()
    value = float(number.replace(",", ""))
    assert 1 <= value < 1000 or unit == "GW" or watts < 1
    assert abs(value * {"W": 1, "kW": 1e3, "MW": 1e6, "GW": 1e9}[unit] - watts) <= 5e-3 * watts
