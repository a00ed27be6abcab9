"""`optimal` proposes what `train` then prices the same: one efficiency everywhere."""

import pytest


@pytest.mark.parametrize(
    "budget",
    [
        ["--budget", "$10M", "--gpus", "4630"],
        ["--gpus", "16384", "--days", "54"],
        ["--compute", "5.76e23FLOP", "--gpus", "2048"],
        ["--budget", "50 MUSD", "--gpu", "a100", "--gpus", "1024"],
    ],
)
def test_optimal_round_trips_through_train(cli, budget):
    plan = cli("optimal", *budget, "--law", "all", "--json").json()
    gpus = [v for k, v in zip(budget, budget[1:], strict=False) if k == "--gpus"][0]
    gpu = budget[budget.index("--gpu") + 1] if "--gpu" in budget else "h100-sxm"
    for law in plan["laws"]:
        proposed = law["train"]
        priced = cli(
            "train", "--params", repr(law["params"]), "--tokens", repr(law["tokens"]), "--gpus", gpus, "--gpu", gpu,
            "--json",
        ).json()  # fmt: skip
        assert priced["mfu"] == pytest.approx(proposed["mfu"], rel=1e-9)
        assert priced["days"] == pytest.approx(proposed["days"], rel=1e-9)
        assert priced["cost_usd"] == pytest.approx(proposed["cost_usd"], rel=1e-9)
    if "--days" in budget:
        assert plan["laws"][0]["train"]["days"] == pytest.approx(54, rel=1e-6)
    if "--budget" in budget:
        usd = float("".join(c for c in budget[1] if c.isdigit())) * 1e6
        assert plan["laws"][0]["train"]["cost_usd"] == pytest.approx(usd, rel=1e-6)


def test_money_and_a_deadline_together_say_which_binds(cli):
    """'$10M and 30 days': money buys GPU-hours, the deadline says how many GPUs share them."""
    both = cli("optimal", "--budget", "$10M", "--days", "30", "--json").json()
    assert both["binding"] == "money and time" and both["basis"] == "money"
    run = both["laws"][0]["train"]
    assert run["cost_usd"] == pytest.approx(10e6, rel=1e-9) and run["days"] <= 30
    assert run["gpus"] == 4630  # ceil($10M / ($3/GPU-h × 720 h))
    assert both["assumptions"]["gpus"]["origin"] == "derived"
    few = cli("optimal", "--budget", "$10M", "--days", "30", "--gpus", "1000", "--json").json()
    assert few["binding"] == "time" and few["laws"][0]["train"]["cost_usd"] < 10e6
    many = cli("optimal", "--budget", "$10M", "--days", "30", "--gpus", "100000", "--json").json()
    assert many["binding"] == "money" and many["laws"][0]["train"]["days"] < 30
    assert "money spent within the deadline" in " ".join(
        cli("optimal", "--budget", "$10M", "--days", "30").stdout.split()
    )


def test_a_deadline_sets_the_gpu_count_in_days_however_it_was_written():
    """The derived GPU count's source states the deadline in days, not the text given ('54 days days')."""
    import llamacalc

    for days in ("2 weeks", "14 days", 14):
        found = llamacalc.optimal(budget="$10M", days=days).assumptions.gpus
        assert found.source == "the budget spent within the deadline of 14 days", days


def test_optimal_plot_draws_each_laws_frontier_around_the_budget(cli, tmp_path):
    import xml.etree.ElementTree as ElementTree

    run = cli("optimal", "--compute", "3.8e25", "--law", "all", "--plot", str(tmp_path / "f.svg"))
    assert run.code == 0
    svg = ElementTree.parse(tmp_path / "f.svg").getroot()
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    laws = cli("optimal", "--compute", "3.8e25", "--law", "all", "--json").json()["laws"]
    assert len(lines) == 2 * len(laws)  # parameters and tokens, one line per law
    words = "".join(svg.itertext())
    assert all(o["law"] in words for o in laws) and "3.80e25 FLOP" in words
    refused = cli("optimal", "--params", "8B", "--loss", "2.1", "--plot", str(tmp_path / "o.svg"))
    assert refused.code == 2 and "--plot" in refused.stderr and not (tmp_path / "o.svg").exists()


def test_optimal_answers_first_and_lists_inputs_with_sources(cli):
    short = cli("optimal", "--budget", "$10M", "--days", "30", env={"COLUMNS": "80"}).stdout
    assert "Inputs" not in short and "more: --sources" in short and len(short.splitlines()) <= 25
    full = cli("optimal", "--budget", "$10M", "--days", "30", "--sources", env={"COLUMNS": "80"}).stdout
    assert "Inputs" in full and "the budget spent within the" in full


def test_cost_aware_optimum_takes_its_serving_mfu_from_the_serving_model(cli):
    """`optimal --inference-tokens --serve-gpu` without MFUs serves the nearest preset with `serve`'s model."""
    doc = cli("optimal", "--loss", "2.1", "--inference-tokens", "2T", "--serve-gpu", "h100-sxm", "--json").json()
    assert doc["objective"] == "cost" and "from the serving model" in doc["serving_mfu_basis"]
    given = cli(
        "optimal", "--loss", "2.1", "--inference-tokens", "2T", "--serve-gpu", "h100-sxm", "--decode-mfu", "0.01",
        "--json",
    ).json()  # fmt: skip
    assert "serving_mfu_basis" not in given and given["laws"][0]["params"] != doc["laws"][0]["params"]
