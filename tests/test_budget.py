"""Budget formulas: golden numbers, the same code on pint Quantities, and invariants."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc import budget as b
from llamacalc.units import DAY, HOUR, KWH, registry

H100_BF16 = 989.4e12


def test_llama_31_405b_takes_68_days_on_16k_h100_at_40_percent():
    """reference-data §9: 3.8e25 / (16,384 × 0.40 × 989.4e12) = 5.86e6 s ≈ 68 days."""
    result = b.budget(3.8e25, H100_BF16, 0.40, gpus=16384)
    assert result.seconds / DAY == pytest.approx(67.8, abs=0.1)


def test_implied_mfu_of_llama_31_405b_is_35_percent():
    """reference-data §9: 3.80e25 over 30.84M H100-hours is 34.6% of the BF16 dense peak."""
    assert b.implied_mfu(3.7986e25, 30.84e6 * HOUR, H100_BF16) == pytest.approx(0.346, abs=0.001)


def test_reported_energy_and_co2_of_llama_31_405b():
    """reference-data §8: 30.84M GPU-h × 0.7 kW = 21.6 GWh at TDP; × PUE 1.09 ≈ 23.5 GWh."""
    joules = b.energy(30.84e6 * HOUR, 700.0, 1.09)
    assert joules / KWH / 1e6 == pytest.approx(23.53, abs=0.01)
    assert b.emissions(joules, 0.367 / KWH) / 1000 == pytest.approx(8636, abs=1)


def test_days_give_the_fewest_whole_gpus():
    result = b.budget(3.8e25, H100_BF16, 0.40, seconds=54 * DAY)
    assert result.gpus == 20_580  # ceil(3.8e25 / (54 × 86400 × 0.4 × 989.4e12)) = ceil(20579.94)
    assert result.seconds <= 54 * DAY


def test_the_formulas_carry_units():
    """The same functions on pint Quantities land in the right dimensions."""
    Q = registry().Quantity
    flops, peak = Q(3.8e25, "FLOP"), Q(989.4, "TFLOP/s/GPU")
    used = b.gpu_time(flops, peak, 0.4)
    assert used.to("GPU*hour").magnitude == pytest.approx(26.67e6, rel=1e-3)
    assert b.wall_time(used, Q(16384, "GPU")).to("day").magnitude == pytest.approx(67.8, abs=0.1)
    assert b.cost(used, Q(2.5, "USD/GPU/hour")).to("USD").magnitude == pytest.approx(66.7e6, rel=1e-3)
    joules = b.energy(used, Q(700, "W/GPU"), 1.09)
    assert joules.to("GWh").magnitude == pytest.approx(20.35, rel=1e-3)
    assert b.emissions(joules, Q(0.367, "kg/kWh")).to("t").magnitude == pytest.approx(7468, rel=1e-3)
    assert b.implied_mfu(flops, used, peak).to("").magnitude == pytest.approx(0.4)


positive = st.floats(min_value=1e-3, max_value=1e6)


@given(
    flops=st.floats(min_value=1e18, max_value=1e28),
    mfu=st.floats(min_value=0.01, max_value=1),
    gpus=st.integers(min_value=1, max_value=10**6),
    more=st.integers(min_value=0, max_value=10**6),
    price=positive, power=positive, pue=st.floats(min_value=1, max_value=3), carbon=positive,
)  # fmt: skip
def test_budget_invariants(flops, mfu, gpus, more, price, power, pue, carbon):
    r = b.budget(flops, H100_BF16, mfu, gpus=gpus, price=price, power=power, pue=pue, carbon=carbon)
    assert math.isclose(r.gpu_seconds, r.gpus * r.seconds, rel_tol=1e-9)  # GPU-hours = GPUs × days × 24
    assert math.isclose(r.cost, r.gpu_seconds * price, rel_tol=1e-9)
    assert math.isclose(r.energy, r.gpu_seconds * power * pue, rel_tol=1e-9)
    assert math.isclose(r.co2, r.energy * carbon, rel_tol=1e-9)
    assert b.budget(flops, H100_BF16, mfu, gpus=gpus + more).seconds <= r.seconds  # more GPUs, never more days
    twice = b.budget(2 * flops, H100_BF16, mfu, gpus=gpus)
    assert math.isclose(twice.gpu_seconds, 2 * r.gpu_seconds, rel_tol=1e-9)  # linear in compute
