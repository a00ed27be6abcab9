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
