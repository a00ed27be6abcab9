"""Owned-cluster cost (Epoch AI's amortisation), facility power, and the fleet view."""

import math

import pytest

from llamacalc.ownership import facility_watts, owned_price
from llamacalc.units import HOUR, KWH, YEAR


def test_one_owned_h100_hour_by_hand(catalog):
    """$33,750 × 0.14·ln10 / 8,766 h = $1.2412 of hardware; × 0.19/0.81 = $0.2911 of networking;
    0.7 kW × 1.82 × 0.75 × PUE 1.09 × $0.0806/kWh = $0.0839 of energy: $1.6162 a GPU-hour."""
    parts = owned_price(33750, catalog.ownership(), 700, 1.82, 1.09)
    hardware = 33750 * 0.14 * math.log(10) / (365.25 * 24)
    assert parts.hardware * HOUR == pytest.approx(hardware, rel=1e-12) == pytest.approx(1.2412, abs=1e-4)
    assert parts.networking * HOUR == pytest.approx(hardware * 0.19 / 0.81, rel=1e-12)
    assert parts.energy * HOUR == pytest.approx(0.7 * 1.82 * 0.75 * 1.09 * 0.0806, rel=1e-12)
    assert parts.total * HOUR == pytest.approx(1.6162, abs=1e-4)
    straight = owned_price(33750, catalog.ownership(), 700, 1.82, 1.09, life=5.5 * YEAR)
    assert straight.hardware * HOUR == pytest.approx(33750 / (5.5 * 365.25 * 24), rel=1e-12)
    assert catalog.ownership().electricity * KWH == pytest.approx(0.0806)


def test_llama_405b_owned_lands_near_epochs_figure(cli):
    """Epoch's amortised capex + energy for Llama 3.1 405B: $51.0M (model_costs.csv). Within ±15%."""
    doc = cli("train", "llama-3.1-405b", "--mfu", "0.346", "--pricing", "owned", "--json").json()
    assert doc["gpu_hours"] == pytest.approx(30.84e6, rel=0.005)
    assert doc["cost_usd"] == pytest.approx(51.0e6, rel=0.15)
    assert sum(doc["cost_breakdown_usd"].values()) == pytest.approx(doc["cost_usd"])
    assert doc["pricing"] == "owned" and "price" not in doc["ranges"]


def test_a_given_price_wins_over_owned(cli):
    doc = cli("train", "llama-3-8b", "--pricing", "owned", "--price", "2 USD/h", "--json").json()
    assert doc["price_usd_per_gpu_hour"] == 2 and doc["cost_breakdown_usd"] is None


def test_facility_power_of_100k_h100():
    """100,000 × 0.7 kW × 1.82 × PUE: 140 MW at 1.1, 159 MW at 1.25 (reference A3.11); Meta's 1.09: ~139."""
    assert facility_watts(100_000, 700, 1.82, 1.1) / 1e6 == pytest.approx(140.1, abs=0.1)
    assert 130 <= facility_watts(100_000, 700, 1.82, 1.09) / 1e6 <= 165


def test_fleet_meta_350k(cli):
    doc = cli("fleet", "meta-350k", "--json").json()
    assert doc["gpus"] == 350_000 and doc["capex_usd"] == 39.23e9
    assert doc["gpu_hours_per_year"] == pytest.approx(350_000 * 8766)
    shares = {m["model"]: m for m in doc["models"]}
    assert shares["llama-3.1-405b"]["reported"] and shares["llama-3.1-405b"]["share_of_fleet_year"] == pytest.approx(
        30.84e6 / (350_000 * 8766)
    )  # ≈ 1% of a fleet-year
    assert 0.05 < shares["llama-4-projected"]["share_of_fleet_year"] < 0.2  # the 10× projection, estimated
    assert 450 < doc["facility_mw"] < 520


def test_fleet_capex_spread_over_gpus_by_hand(cli):
    """$39.23B / 350,000 = $112,086 a GPU, × 0.14·ln10 / 8,766 h = $4.1219 a GPU-hour, + the $0.0839 of
    energy (0.7 kW × 1.82 × 0.75 × PUE 1.09 × $0.0806/kWh): $4.2058. The capex holds its networking
    already: nothing is added for it. The purchase price's $1.6162 (above) is the lower bound beside it."""
    doc = cli("fleet", "meta-350k", "--json").json()
    energy = 0.7 * 1.82 * 0.75 * 1.09 * 0.0806
    by_hand = 39.23e9 / 350_000 * 0.14 * math.log(10) / (365.25 * 24) + energy
    assert doc["usd_per_gpu_hour_capex"] == pytest.approx(by_hand, rel=1e-12) == pytest.approx(4.2058, abs=1e-4)
    assert doc["usd_per_gpu_hour"] == doc["usd_per_gpu_hour_capex"]
    assert doc["usd_per_gpu_hour_purchase"] == pytest.approx(1.6162, abs=1e-4)
    assert "all of Meta's capex" in doc["capex_covers"]
    straight = cli("fleet", "meta-350k", "--life", "5.5 years", "--json").json()
    assert straight["usd_per_gpu_hour_capex"] == pytest.approx(39.23e9 / 350_000 / (5.5 * 365.25 * 24) + energy)


def test_fleet_capex_moves_the_price_and_is_cited_as_given(cli):
    low, high = (cli("fleet", "meta-350k", "--capex", capex, "--json").json() for capex in ("$37B", "$40B"))
    assert low["usd_per_gpu_hour"] < high["usd_per_gpu_hour"]
    assert high["usd_per_gpu_hour"] / low["usd_per_gpu_hour"] == pytest.approx(40 / 37, rel=0.03)  # energy is fixed
    assert low["usd_per_gpu_hour_purchase"] == high["usd_per_gpu_hour_purchase"]  # the lower bound is the GPU's
    assert low["capex_covers"] == "given with --capex ($37B)" and low["assumptions"]["capex"]["origin"] == "user"
    shown = [cli("fleet", "meta-350k", "--capex", capex, env={"COLUMNS": "80"}).stdout for capex in ("$37B", "$40B")]
    assert "$3.97 (capex over GPUs and life, energy)" in shown[0] and "$4.29 (capex" in shown[1]
    assert "Meta FY2024" not in shown[0] and "capex covers: given with --capex ($37B)" in shown[0]


def test_fleet_table_leads_with_the_price_and_its_bounds(cli):
    text = cli("fleet", "meta-350k", env={"COLUMNS": "80"}).stdout
    rows = [line.split()[0] for line in text.splitlines() if line.startswith("  ") and line.strip()]
    assert rows[1:3] == ["$/GPU-hour", "$/GPU-hour,"], rows  # after the header
    words = " ".join(text.split())
    assert "lower bound" in words and "all of Meta's capex" in words and "(h100-sxm GPU-hours)" in words
    assert "more: --sources" in text
    sources = cli("fleet", "meta-350k", "--sources", env={"COLUMNS": "200"}).stdout
    assert "Inputs" in sources and "purchase_price" in sources and "SemiAnalysis" in sources


def test_fleet_ranges_are_the_estimates_and_none_for_reported_figures(cli):
    """An estimate's P10-P90 is train's for the same model on the fleet's GPU; a published figure has none."""
    doc = cli("fleet", "meta-350k", "--json").json()
    shares = {m["model"]: m for m in doc["models"]}
    reported = shares["llama-3.1-405b"]["ranges"]["gpu_hours"]
    assert reported["p10"] == reported["p50"] == reported["p90"] == 30.84e6
    band = shares["llama-2-70b"]["ranges"]["gpu_hours"]
    train = cli("train", "llama-2-70b", "--gpu", "h100-sxm", "--json").json()["ranges"]["gpu_hours"]
    assert band == pytest.approx(train) and band["p10"] < band["p50"] < band["p90"]
    share = shares["llama-2-70b"]["ranges"]["share_of_fleet_year"]
    assert share["p90"] == pytest.approx(band["p90"] / doc["gpu_hours_per_year"])
    assert {"gpus", "capex", "purchase_price", "depreciation", "pue", "electricity"} <= set(doc["assumptions"])
    assert doc["assumptions"]["pue"]["origin"] == "assumption"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "llama-3-8b", "--pricing", "leased"], "--pricing: expected one of on-demand, reserved-1y"),
        (["train", "llama-3-8b", "--life", "5 years"], "use it with --pricing owned"),
        (["train", "llama-3-8b", "--gpu", "mi300x", "--pricing", "owned"], "has no purchase price"),
        (["fleet", "meta-35k"], "unknown cluster 'meta-35k'"),
    ],
)
def test_ownership_errors(cli, args, message):
    run = cli(*args)
    assert run.code == 2 and message in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("tier", "low", "high"), [("reserved-1y", 0.17, 0.31), ("reserved-3y", 0.38, 0.56), ("spot", 0.5, 0.65)]
)
def test_cloud_tiers_discount_the_on_demand_price(cli, tier, low, high):
    """A tier: the H100's $3.00 less the middle of its discount range; P10-P90 from both ranges ($2-4 on demand)."""
    doc = cli("train", "llama-3.1-405b", "--pricing", tier, "--json").json()
    assert doc["pricing"] == tier
    assert doc["price_usd_per_gpu_hour"] == pytest.approx(3.0 * (1 - (low + high) / 2))
    band = doc["ranges"]["price_usd_per_gpu_hour"]
    assert band["p10"] == pytest.approx(2.0 * (1 - high)) and band["p90"] == pytest.approx(4.0 * (1 - low))
    assert doc["assumptions"]["price"]["origin"] == "derived"
    given = cli("train", "llama-3.1-405b", "--pricing", tier, "--price", "2.5 USD/h", "--json").json()
    assert given["price_usd_per_gpu_hour"] == 2.5
