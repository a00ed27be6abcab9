"""The size-dependent MFU default and the backtest that justifies it."""

import pytest

from llamacalc import efficiency
from llamacalc.estimates.backtest import fit_runs, rows


def test_fit_constants_are_the_fit_of_the_shipped_runs(catalog):
    """efficiency.SLOPE/INTERCEPT are the least-squares fit to the five dense Llama 3/3.1 H100 runs."""
    runs = fit_runs(catalog)
    assert sorted(m.name for m in runs) == [
        "llama-3-70b", "llama-3-8b", "llama-3.1-405b", "llama-3.1-70b", "llama-3.1-8b",
    ]  # fmt: skip
    by_name = {r.model.name: r for r in rows(catalog)}
    slope, intercept = efficiency.fit([(m.active_params, by_name[m.name].implied_mfu) for m in runs])
    assert (slope, intercept) == (
        pytest.approx(efficiency.SLOPE, abs=1e-5),
        pytest.approx(efficiency.INTERCEPT, abs=1e-5),
    )


def test_size_mfu_is_clamped_to_the_fitted_range():
    assert efficiency.size_mfu(1e6) == efficiency.size_mfu(8.03e9)
    assert efficiency.size_mfu(1e15) == efficiency.size_mfu(405.85e9) == pytest.approx(0.351, abs=0.001)
    assert efficiency.applies("h100-sxm", "bf16") and not efficiency.applies("a100-sxm-80gb", "bf16")
    assert not efficiency.applies("h100-sxm", "fp8")


def test_backtest_before_and_after(cli):
    doc = cli("backtest", "--json").json()
    runs = {r["model"]: r for r in doc["runs"]}
    assert runs["llama-3.1-405b"]["implied_mfu"] == pytest.approx(0.346, abs=0.001)  # reference-data §9
    assert runs["llama-3.1-8b"]["flat_error"] == pytest.approx(-0.65, abs=0.01)  # flat 40% misses small models
    assert runs["llama-2-70b"]["default_mfu"] == 0.40  # A100: no fit
    means = doc["mean_abs_error"]
    assert means["default"] < means["flat"] / 2
    assert means["leave_one_out"] < 0.15
    assert runs["llama-3.1-405b"]["co2_error"] == pytest.approx(8636 / 8930 - 1, abs=0.001)


def test_default_mfu_in_train_follows_size(cli):
    small = cli("train", "llama-3-8b", "--json").json()
    assert small["mfu"] == pytest.approx(0.150, abs=0.001)
    assert small["assumptions"]["mfu"]["source"].startswith("assumption: size-dependent")
    assert cli("train", "llama-2-7b", "--json").json()["mfu"] == 0.40  # A100
    assert cli("train", "llama-3-8b", "--gpu", "b200", "--json").json()["mfu"] == 0.40  # no evidence for B200
