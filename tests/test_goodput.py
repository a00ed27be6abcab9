"""Goodput: interruptions at the Llama 3 failure rate, and what they cost a run."""

import pytest

from llamacalc import goodput

GIB = 2**30


def test_goodput_reproduces_its_calibration():
    """At the Llama 3 405B run's scale, one interruption per ~3.1 h and 90% goodput [S7 §3.3.4]."""
    assert pytest.approx(3.09, abs=0.01) == 1 / (goodput.FAILURES_PER_GPU_HOUR * 16384)
    run = goodput.goodput(16384, 54 * 24 * 0.9)
    assert run.fraction == pytest.approx(0.9)
    assert run.interruptions == pytest.approx(419)
    assert run.effective_hours == pytest.approx(54 * 24)


def test_goodput_collapses_at_scale_and_recovers_with_fast_restarts():
    at_160k = goodput.goodput(160_000, 1000)
    assert at_160k.fraction < 0.05
    fast = goodput.goodput(160_000, 1000, goodput.lost_per_interruption(checkpoint_hours=0.1, restart_hours=0.05))
    assert fast.fraction > 0.6
    assert goodput.goodput(1_000_000, 10).fraction == 0.0  # interruptions outpace progress: never finishes


def test_train_goodput_cli(cli):
    doc = cli("train", "llama-3.1-405b", "--goodput", "--json").json()
    assert doc["goodput"]["goodput"] == pytest.approx(0.9)
    custom = cli(
        "train", "llama-3.1-405b", "--goodput", "--checkpoint-every", "30 min", "--restart", "10 min", "--json"
    )
    assert custom.json()["goodput"]["lost_per_interruption_minutes"] == pytest.approx(25)
    run = cli("train", "llama-3.1-405b", "--goodput", "--restart", "10 min")
    assert run.code == 2 and "go together" in run.stderr


def test_the_bill_includes_the_time_lost(cli):
    """--goodput: days, GPU-hours, cost and energy grow by effective / ideal hours; FLOPs stay."""
    plain = cli("train", "llama-3.1-405b", "--json").json()
    doc = cli("train", "llama-3.1-405b", "--goodput", "--json").json()
    g = doc["goodput"]
    factor = g["effective_days"] / plain["days"]
    assert factor > 1 and doc["flops"] == plain["flops"]
    assert doc["days"] == pytest.approx(g["effective_days"])
    assert doc["gpu_hours"] == pytest.approx(g["effective_gpu_hours"])
    assert doc["cost_usd"] == pytest.approx(plain["cost_usd"] * factor)
    assert doc["energy_mwh"] == pytest.approx(plain["energy_mwh"] * factor)
    assert doc["ranges"]["days"]["p90"] == pytest.approx(plain["ranges"]["days"]["p90"] * factor)
