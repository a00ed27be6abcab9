"""FLOP accounting against hand-computed values, and its dimensions checked with pint."""

import pytest

from llamacalc.flops import model_flops, training_flops
from llamacalc.units import registry


def test_llama_31_405b_is_3_8e25(catalog):
    """Llama 3 paper §3: 3.8e25 FLOPs; 6 × 405.85e9 × 15.6e12 = 3.799e25 (reference-data §1b)."""
    assert model_flops(catalog.model("llama-3.1-405b")) == pytest.approx(3.80e25, rel=0.001)


def test_moe_uses_active_parameters(catalog):
    """Scout: 6 × 17e9 active × 40e12 tokens = 4.08e24 (reference-data §9), not 6 × 109e9 × 40e12."""
    assert model_flops(catalog.model("llama-4-scout")) == pytest.approx(4.08e24, rel=1e-9)


def test_projected_llama4_is_ten_times_llama_31_405b(catalog):
    base = model_flops(catalog.model("llama-3.1-405b"))
    assert model_flops(catalog.model("llama-4-projected")) == pytest.approx(10 * base, rel=1e-12)


def test_chinchilla_golden():
    """Chinchilla 70B on 1.4T tokens: 6ND = 5.88e23 (paper: 5.76e23 for Gopher-equal compute)."""
    assert training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)


def test_formula_is_dimensionally_flop():
    Q = registry().Quantity
    c = training_flops(Q(405e9, "parameter"), Q(15.6e12, "token"), Q(6, "FLOP/parameter/token"))
    assert c.to("FLOP").magnitude == pytest.approx(3.79e25, rel=1e-3)
