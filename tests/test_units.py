"""Units: ML shorthand, canonical floats, and one-line errors for wrong dimensions."""

import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc import units
from llamacalc.errors import UnitError


@pytest.mark.parametrize(
    ("text", "expected"),
    [("405B", 405e9), ("15.6T", 15.6e12), ("17B", 17e9), ("16K", 16e3), ("4.05e11", 4.05e11),
     ("16384", 16384), ("1_000", 1000), (70, 70.0), ("2.38M", 2.38e6)],
)  # fmt: skip
def test_counts_take_si_suffixes(text, expected):
    assert units.parse_count(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "B", "12 X", "-5", "0", "nan", "inf", "1e400", "1.2.3", True])
def test_bad_counts_are_refused(text):
    with pytest.raises(UnitError):
        units.parse_count(text)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("989 TFLOP/s", units.RATE, 989e12),
        ("1.979 PFLOPS", units.RATE, 1.979e15),
        ("989 TFLOP/s/GPU", units.RATE, 989e12),
        ("3.8e25FLOP", units.COMPUTE, 3.8e25),
        ("3.8e25 FLOPs", units.COMPUTE, 3.8e25),  # pint reads the trailing s as a plural
        ("38 YFLOP", units.COMPUTE, 3.8e25),
        ("2.5 USD/h", units.PRICE, 2.5 / 3600),
        ("$2.5/h", units.PRICE, 2.5 / 3600),
        ("2.5 $/GPU/hour", units.PRICE, 2.5 / 3600),
        ("2.5 USD/GPU-hour", units.PRICE, 2.5 / 3600),
        ("5 MUSD", units.MONEY, 5e6),
        ("$5M", units.MONEY, 5e6),
        ("700W", units.POWER, 700),
        ("0.7 kW/GPU", units.POWER, 700),
        ("20 GWh", units.ENERGY, 20 * 3.6e12),
        ("5000 t", units.MASS, 5e6),
        ("0.38 kg/kWh", units.CARBON, 0.38 / 3.6e6),
        ("380 gCO2/kWh", units.CARBON, 0.38 / 3.6e6),
        ("3 weeks", units.DURATION, 21 * 86400),
        ("54", units.DURATION, 54 * 86400),
        (54, units.DURATION, 54 * 86400),
        ("80 GB", units.MEMORY, 80e9),
        ("256 GiB", units.MEMORY, 256 * 2**30),
        ("3M GPU-hours", units.GPU_TIME, 3e6 * 3600),
        ("40%", units.FRACTION, 0.4),
    ],
)
def test_quantities_parse_to_canonical_floats(text, kind, expected):
    assert units.parse_quantity(text, kind) == pytest.approx(expected)


def test_wrong_dimension_names_what_was_expected_and_got():
    with pytest.raises(UnitError) as error:
        units.parse_quantity("5W", units.PRICE)
    assert str(error.value) == "expected money per GPU-hour (e.g. '2.5 USD/h'), got '5 W' (a power)"


def test_flops_rate_is_not_a_flop_count():
    """'FLOPS' is a rate: using it as compute is loud, never silently wrong."""
    with pytest.raises(UnitError, match="a compute rate"):
        units.parse_quantity("3.8e25 FLOPS", units.COMPUTE)


def test_tesla_and_bytes_misreadings_are_impossible():
    """The default pint registry reads 15.6T as tesla and 70B as bytes (notes §5.3)."""
    assert units.ml_shorthand("15.6T tokens") == "15.6e12 tokens"
    assert units.ml_shorthand("70B params") == "70e9 params"
    assert units.parse_quantity("80GB", units.MEMORY) == 80e9  # glued 'GB' stays bytes


@pytest.mark.parametrize("text", ["abc", "1e400 FLOP", "nan FLOP", "-3 FLOP", "FLOP FLOP +", "1 FLOP + 1 s", "[]"])
def test_bad_quantities_are_unit_errors(text):
    with pytest.raises(UnitError):
        units.parse_quantity(text, units.COMPUTE)


@given(st.floats(min_value=1e-3, max_value=1e30, allow_nan=False), st.sampled_from(["FLOP", "TFLOP", "EFLOP"]))
def test_printing_and_parsing_round_trips(value, unit):
    parsed = units.parse_quantity(f"{value!r} {unit}", units.COMPUTE)
    again = units.parse_quantity(f"{parsed!r} FLOP", units.COMPUTE)
    assert math.isclose(parsed, again, rel_tol=1e-12)
    assert math.isclose(parsed, value * {"FLOP": 1, "TFLOP": 1e12, "EFLOP": 1e18}[unit], rel_tol=1e-9)


@given(st.floats(min_value=1, max_value=1e4))
def test_unit_invariance(tflops):
    assert math.isclose(
        units.parse_quantity(f"{tflops!r} TFLOP/s", units.RATE),
        units.parse_quantity(f"{tflops / 1000!r} PFLOP/s", units.RATE),
        rel_tol=1e-12,
    )


def test_every_simple_spelling_agrees_with_pint():
    """The pint-free fast path (units.SIMPLE_UNITS) is a table; pint is its reference."""
    ureg = units.registry()
    for canonical, spellings in units.SIMPLE_UNITS.items():
        for spelling, factor in spellings.items():
            quantity = ureg.Quantity(1, spelling) if spelling else ureg.Quantity(1)
            assert quantity.dimensionality == ureg.Quantity(1, canonical).dimensionality, spelling
            assert quantity.m_as(canonical) == pytest.approx(factor, rel=1e-12), spelling


SIMPLE_CASES = [
    (kind, spelling)
    for kind in (units.COMPUTE, units.RATE, units.DURATION, units.MONEY, units.PRICE, units.POWER, units.ENERGY,
                 units.MASS, units.CARBON, units.MEMORY, units.BANDWIDTH, units.GPU_TIME, units.FRACTION)
    for spelling in units.SIMPLE_UNITS[kind.unit]
]  # fmt: skip


@given(st.sampled_from(SIMPLE_CASES), st.floats(min_value=0, max_value=1e30), st.sampled_from(["", " "]))
def test_fast_path_equals_pint(case, number, space):
    kind, spelling = case
    text = f"{number!r}{space}{spelling}"
    quantity = units.registry().Quantity(f"{number!r} {spelling}".strip())
    slow = float(getattr(quantity, "magnitude", quantity)) * (
        units.registry().Quantity(1, spelling or "").m_as(kind.unit)
        if spelling
        else units.SIMPLE_UNITS[kind.unit][kind.bare]
    )
    if 0 < slow < sys.float_info.min:  # denormal: refused, whichever path reads it
        with pytest.raises(UnitError, match="too small"):
            units.parse_quantity(text, kind)
        return
    assert units.parse_quantity(text, kind) == pytest.approx(slow, rel=1e-12)
