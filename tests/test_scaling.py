"""Scaling laws: published frontiers reproduced, invariants, and the CLI's optimal and loss."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc import scaling
from llamacalc.errors import InputError

CHINCHILLA_BUDGET = 5.76e23  # Gopher = Chinchilla compute [Hoffmann 2022 Table 3 / §4]


@pytest.mark.parametrize(
    ("law", "params", "tokens", "ratio"),
    [
        # reference-data §4b, derived frontier at 5.76e23 with C = 6ND
        ("epoch", 72e9, 1.33e12, 18.4),
        ("chinchilla", 32e9, 2.98e12, 93),
        # D = 20 N and 6 N D = C  =>  N = sqrt(5.76e23 / 120) = 69.3B, D = 1.386T
        ("tokens-per-param", 69.3e9, 1.386e12, 20),
    ],
)
def test_frontier_at_the_chinchilla_budget(catalog, law, params, tokens, ratio):
    split = scaling.optimal(catalog.law(law), CHINCHILLA_BUDGET)
    assert split.params == pytest.approx(params, rel=0.01)
    assert split.tokens == pytest.approx(tokens, rel=0.01)
    assert split.tokens_per_param == pytest.approx(ratio, rel=0.01)


def test_llama3_law_gives_16_3t_tokens_at_3_8e25(catalog):
    """reference-data C2: (0.537, 0.299) gives 16.3T tokens at 3.8e25 (the paper: 16.55T)."""
    split = scaling.optimal(catalog.law("llama3"), 3.8e25)
    assert split.tokens == pytest.approx(1.629e13, rel=0.001)
    assert split.warnings  # 3.8e25 is far outside the 6e18-1e22 fit


def test_epoch_optimum_for_405b_compute_is_16_tokens_per_param(catalog):
    """reference-data §4b: Epoch at 3.8e25 → 619B / 10.2T / 16.5; Llama 3.1 405B trains ~38."""
    split = scaling.optimal(catalog.law("epoch"), 3.8e25)
    assert split.tokens_per_param == pytest.approx(16.5, abs=0.1)


def test_laws_round_trip_from_their_preset_files(catalog):
    epoch = catalog.law("epoch").constants
    assert dict(epoch) == {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
    assert dict(catalog.law("chinchilla").constants) == {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    assert catalog.law("llama3").fit_range == (6e18, 1e22)


def test_overtraining_and_targets_below_the_floor(catalog):
    epoch = catalog.law("epoch")
    tokens = scaling.tokens_for_loss(epoch, 8e9, 2.0)
    assert scaling.loss(epoch, 8e9, tokens) == pytest.approx(2.0, abs=1e-9)
    assert scaling.optimal_loss(epoch, scaling.compute_for_loss(epoch, 2.0)) == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(InputError, match="irreducible loss E = 1.8172"):
        scaling.tokens_for_loss(epoch, 8e9, 1.8)
    with pytest.raises(InputError, match="out of reach"):
        scaling.tokens_for_loss(epoch, 1e6, 2.0)
    with pytest.raises(InputError, match="no loss formula"):
        scaling.loss(catalog.law("tokens-per-param"), 1e9, 1e10)


budgets = st.floats(min_value=1e18, max_value=1e28)


@given(c=budgets, factor=st.floats(min_value=1.01, max_value=1e3))
def test_frontier_invariants(catalog, c, factor):
    for name in catalog.names("laws"):
        law = catalog.law(name)
        small, large = scaling.optimal(law, c), scaling.optimal(law, c * factor)
        assert math.isclose(6 * small.params * small.tokens, c, rel_tol=1e-9)
        assert large.params > small.params and large.tokens > small.tokens
        if scaling.has_loss(law):
            assert large.loss < small.loss


def test_cli_optimal_at_the_chinchilla_budget(cli):
    doc = cli("optimal", "--compute", "5.76e23FLOP", "--law", "epoch", "--json").json()
    assert doc["schema"] == "llamacalc.optimal/1"
    (epoch,) = doc["laws"]
    assert epoch["params"] == pytest.approx(72e9, rel=0.01)
    assert epoch["tokens"] == pytest.approx(1.33e12, rel=0.01)


@pytest.mark.parametrize("budget", [["--gpus", "16384", "--days", "54"], ["--budget", "50 MUSD"]])
def test_optimal_agrees_with_train_on_the_proposed_model(cli, budget):
    common = ["--gpu", "h100-sxm", "--mfu", "0.4"]
    doc = cli("optimal", *budget, *common, "--law", "all", "--json").json()
    for law in doc["laws"]:
        trained = cli("train", "--params", repr(law["params"]), "--tokens", repr(law["tokens"]), *common,
                      "--gpus", str(law["train"]["gpus"]), "--json").json()  # fmt: skip
        assert trained["flops"] == pytest.approx(doc["flops"], rel=1e-9)
        assert trained["days"] == pytest.approx(law["train"]["days"], rel=1e-9)
    if "--days" in budget:
        assert doc["laws"][0]["train"]["days"] == pytest.approx(54, rel=1e-6)
    else:
        assert doc["laws"][0]["train"]["cost_usd"] == pytest.approx(50e6, rel=1e-6)


def test_cli_loss_shows_the_gap_to_optimal(cli):
    doc = cli("loss", "llama-3.1-405b", "--json").json()
    assert doc["tokens_per_param"] == pytest.approx(38.4, abs=0.1)
    (epoch,) = doc["laws"]
    assert epoch["optimal"]["tokens_per_param"] == pytest.approx(16.5, abs=0.1)
    assert epoch["loss_gap"] > 0


def test_cli_overtraining(cli):
    doc = cli("optimal", "--params", "8B", "--loss", "2.0", "--json").json()
    assert doc["laws"][0]["extra_compute"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compute", "1e25FLOP", "--budget", "5 MUSD"], "give a budget"),
        ([], "give a budget"),
        (["--params", "8B", "--loss", "1.5"], "below the epoch law's irreducible loss"),
        (["--params", "8B", "--loss", "2", "--law", "tokens-per-param"], "no loss formula"),
        (["--compute", "5 W"], "--compute: expected an amount of compute"),
        (["--compute", "1e25FLOP", "--law", "chinchila"], "did you mean 'chinchilla'"),
        (["--budget", "5 MUSD", "--gpu", "mi300x"], "mi300x has no default price; pass --price"),
    ],
)
def test_optimal_errors(cli, args, message):
    run = cli("optimal", *args)
    assert run.code == 2 and run.stdout == ""
    assert message in run.stderr


def test_extrapolation_warns_on_stderr(cli):
    run = cli("optimal", "--compute", "3.8e25FLOP", "--law", "llama3", "--json")
    assert run.code == 0 and "outside the fitted range" in run.stderr
    assert run.json()["laws"][0]["warnings"]


# --- inference-aware scaling: Sardana et al. 2024's worked examples, with the constants they use ---


def sardana(catalog):
    return catalog.law("sardana")


@pytest.mark.parametrize(
    ("inference_tokens", "params", "tokens", "share"),
    [
        (2e12, 2.418e10, 2.657e12, 0.9522),  # the README example of the authors' code
        (1e11, 3.312e10, 1.863e12, 0.9997),  # and the reference's derived test vectors
        (1e12, 2.752e10, 2.276e12, 0.9829),
        (1e13, 1.611e10, 4.798e12, 0.7474),
    ],
)
def test_inference_aware_optimum_reproduces_the_worked_examples(catalog, inference_tokens, params, tokens, share):
    from llamacalc.estimates.plan import inference_aware

    found = inference_aware(catalog, "sardana", 1.947, inference_tokens).found[0]
    assert found.params == pytest.approx(params, rel=0.005) and found.tokens == pytest.approx(tokens, rel=0.005)
    assert 1 - found.saving == pytest.approx(share, rel=0.005)
    assert found.baseline_params == pytest.approx(3.408e10, rel=0.005)
    assert found.baseline_tokens == pytest.approx(1.810e12, rel=0.005)


def test_thirteen_b_becomes_seven_b_and_saves_seventeen_percent(catalog):
    """Sardana et al. Fig. 1: a 13B Chinchilla model served 2T tokens; a 7B model trained longer
    reaches its loss for 1.7e22 FLOPs (17%) less."""
    from llamacalc.estimates.plan import inference_aware

    k = sardana(catalog).constants
    target = k["E"] + k["A"] * (k["alpha"] / k["beta"] + 1) / 13e9 ** k["alpha"]  # the 13B model's loss
    found = inference_aware(catalog, "sardana", target, 2e12).found[0]
    assert found.baseline_params == pytest.approx(13e9, rel=1e-9)
    assert found.params == pytest.approx(6.97e9, rel=0.005) and found.saving == pytest.approx(0.174, abs=0.002)
    saved = sum(found.lifetime(found.baseline_params, found.baseline_tokens)) - sum(
        found.lifetime(found.params, found.tokens)
    )
    assert saved == pytest.approx(1.692e22, rel=0.005)


def test_inference_aware_cli(cli):
    doc = cli("optimal", "--law", "sardana", "--loss", "1.947", "--inference-tokens", "2e12", "--json").json()
    law = doc["laws"][0]
    assert law["params"] == pytest.approx(2.418e10, rel=0.005)
    assert law["total_flops"] / law["compute_optimal"]["total_flops"] == pytest.approx(0.9522, rel=0.005)
    bad = cli("optimal", "--loss", "1.947", "--inference-tokens", "2T", "--params", "7B")
    assert bad.code == 2 and "--inference-tokens goes with --loss alone" in bad.stderr


def test_implied_inference_tokens_inverts_the_optimum(catalog):
    """The serving that makes a model inference-optimal: back to T = 2e12 from Sardana's example."""
    from llamacalc.estimates.plan import inference_aware
    from llamacalc.scaling import implied_inference_tokens

    found = inference_aware(catalog, "sardana", 1.947, 2e12).found[0]
    assert implied_inference_tokens(sardana(catalog), found.params, found.tokens) == pytest.approx(2e12, rel=1e-6)
    assert implied_inference_tokens(sardana(catalog), found.baseline_params, found.baseline_tokens) is None


def test_the_cost_variant_reproduces_sardanas_second_example(catalog):
    """ℓ = 1.947; 1e10 requests of 1000 in / 250 out; training on A100-80GB at $1.40/h, BF16 3.12e14,
    MFU 0.5; serving on A100-40GB INT8 6.24e14 at $0.60/h, prefill MFU 0.4, decode 0.2 →
    N = 2.053e10, D = 3.302e12, 88.76% of the equal-loss Chinchilla model's cost."""
    from llamacalc.estimates.plan import cost_aware, serving_costs

    costs = serving_costs((1.40 / 3600, 3.12e14, 0.5), (0.60 / 3600, 6.24e14), 0.4, 0.2)
    found = cost_aware(sardana(catalog), 1.947, 1e10 * 1000, 1e10 * 250, costs)
    assert found.params == pytest.approx(2.053e10, rel=0.005) and found.tokens == pytest.approx(3.302e12, rel=0.005)
    assert 1 - found.saving == pytest.approx(0.8876, rel=0.005)
    dollars = sum(found.lifetime(found.params, found.tokens)) * costs.train
    assert dollars == pytest.approx(1.425e6, rel=0.005)  # the reference's recomputed total


def test_the_cost_variant_on_the_command_line(cli):
    """Serving hardware given: the cost optimum, with the training and serving bills; cheaper serving
    FLOPs than training FLOPs shift the optimum toward the compute one."""
    args = ["optimal", "--law", "sardana", "--loss", "1.947", "--inference-tokens", "1.25e13", "--json"]
    flops = cli(*args).json()["laws"][0]
    training = ["--gpu", "a100-sxm-80gb", "--mfu", "0.5", "--price", "1.40"]
    serving = ["--serve-gpu", "a100-sxm-40gb", "--serve-price", "0.60", "--prefill-mfu", "0.4", "--decode-mfu", "0.2"]
    cost = cli(*args, *training, *serving, "--output-share", "0.2").json()
    assert cost["objective"] == "cost" and flops["params"] < cost["laws"][0]["params"]
    law = cost["laws"][0]
    assert law["train_usd"] == pytest.approx(law["train_flops"] * 1.40 / 3600 / (312e12 * 0.5))
    assert law["inference_flops"] == pytest.approx(2 * law["params"] * 1.25e13)
