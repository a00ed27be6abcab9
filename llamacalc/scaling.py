"""Scaling laws: compute-optimal N and D for a budget C, predicted loss, and over-training.

N, D, C, L = parameters, training tokens, FLOPs (C = 6·N·D), loss in nats per token.
Parametric laws (Hoffmann et al. 2022, arXiv:2203.15556, §3.3 and App. D.2; Epoch's refit,
arXiv:2404.10102): L(N, D) = E + A/N^α + B/D^β, minimised on C = 6ND in closed form:
    N_opt = G·(C/6)^a,  D_opt = (C/6)^b / G,  G = (αA/(βB))^(1/(α+β)),  a = β/(α+β),  b = α/(α+β).
Ratio laws: D = r·N, so N = sqrt(C/(6r)). The Llama 3 law (arXiv:2407.21783 §3.2.1) gives the optimal
*tokens*: D*(C) = A·C^α, and N = C/(6·D*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llamacalc.errors import InputError
from llamacalc.flops import TRAIN_FLOP_PER_PARAM_TOKEN as K
from llamacalc.specs import Law


@dataclass(frozen=True)
class Split:
    """A compute-optimal model for a budget: C, N, D and the predicted loss where the law has one."""

    law: str
    flops: float
    params: float
    tokens: float
    loss: float | None
    warnings: tuple[str, ...] = ()

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def has_loss(law: Law) -> bool:
    return law.form == "parametric"


def loss(law: Law, params: float, tokens: float) -> float:
    """L(N, D) = E + A/N^α + B/D^β."""
    k = _parametric(law)
    return k["E"] + k["A"] / params ** k["alpha"] + k["B"] / tokens ** k["beta"]


MIN_FLOPS, MAX_FLOPS = 1e1, 1e60  # far beyond the fitted ranges on both sides, inside floating point


def optimal(law: Law, flops: float) -> Split:
    """The compute-optimal N and D for C FLOPs under `law` (with 6·N·D = C exactly)."""
    if not MIN_FLOPS <= flops <= MAX_FLOPS:
        raise InputError(f"{flops:.3g} FLOP is outside {MIN_FLOPS:g}-{MAX_FLOPS:g} FLOP, where a law can split compute")
    k = law.constants
    if law.form == "parametric":
        alpha, beta = k["alpha"], k["beta"]
        g = (alpha * k["A"] / (beta * k["B"])) ** (1 / (alpha + beta))
        params = g * (flops / K) ** (beta / (alpha + beta))
        tokens = flops / (K * params)  # = (C/6)^b / G, written so that 6ND = C holds to rounding
    elif law.form == "ratio":
        params = math.sqrt(flops / (K * k["ratio"]))
        tokens = k["ratio"] * params
    else:  # tokens-power
        tokens = k["A"] * flops ** k["alpha"]
        params = flops / (K * tokens)
    if not all(math.isfinite(v) and v > 0 for v in (flops, params, tokens)):
        raise InputError(f"{flops:.3g} FLOP is beyond what the {law.name} law can split into parameters and tokens")
    warnings = _extrapolation(law, flops)
    return Split(law.name, flops, params, tokens, loss(law, params, tokens) if has_loss(law) else None, warnings)


def optimal_loss(law: Law, flops: float) -> float:
    """The lowest loss reachable with C FLOPs: L at the compute-optimal split."""
    split = optimal(law, flops)
    return loss(law, split.params, split.tokens)


def tokens_for_loss(law: Law, params: float, target: float) -> float:
    """Tokens for N parameters to reach loss L: D = (B / (L − E − A/N^α))^(1/β)."""
    k = _parametric(law)
    floor = k["E"] + k["A"] / params ** k["alpha"]
    if target <= k["E"]:
        raise InputError(f"--loss: {target:g} is below the {law.name} law's irreducible loss E = {k['E']:g}")
    if target <= floor:
        raise InputError(
            f"--loss: {target:g} is out of reach for {params:.3g} parameters under the {law.name} law "
            f"(even infinite data gives {floor:.4f}); lower the loss target or raise --params"
        )
    return (k["B"] / (target - floor)) ** (1 / k["beta"])


def compute_for_loss(law: Law, target: float) -> float:
    """The least compute that reaches loss L: the C whose compute-optimal loss is L (bisection on log C)."""
    k = _parametric(law)
    if target <= k["E"]:
        raise InputError(f"--loss: {target:g} is below the {law.name} law's irreducible loss E = {k['E']:g}")
    low, high = math.log10(MIN_FLOPS), math.log10(MAX_FLOPS)  # optimal_loss falls monotonically with C
    if optimal_loss(law, 10**high) > target:
        raise InputError(f"--loss: {target:g} needs more than 1e60 FLOP under the {law.name} law")
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if optimal_loss(law, 10**mid) > target else (low, mid)
    return float(10**high)


def _parametric(law: Law) -> dict[str, float]:
    if law.form != "parametric":
        raise InputError(f"--law: {law.name} has no loss formula; use a parametric law such as epoch or chinchilla")
    return dict(law.constants)


def _extrapolation(law: Law, flops: float) -> tuple[str, ...]:
    if law.fit_range is None:
        return ()
    low, high = law.fit_range
    if low <= flops <= high:
        return ()
    return (f"{law.name}: {flops:.3g} FLOP is outside the fitted range {low:.0e}-{high:.0e} FLOP; extrapolating",)
