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

from llamacalc.errors import InputError, figure
from llamacalc.flops import FEWEST
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
        raise InputError(
            f"{figure(flops)} FLOP is outside {figure(MIN_FLOPS)}-{figure(MAX_FLOPS)} FLOP, "
            "where a law can split compute"
        )
    try:
        params, tokens = _split(law, flops)
    except (OverflowError, ZeroDivisionError):  # a user's law with constants no fit gives
        params = tokens = math.nan
    if not (math.isfinite(params) and math.isfinite(tokens) and min(params, tokens) > 0):
        raise InputError(f"the {law.name} law's constants split {figure(flops)} FLOP into no finite model; check them")
    if min(params, tokens) < FEWEST:
        raise InputError(
            f"{flops:.3g} FLOP is too little for the {law.name} law to split into a model: {params:.3g} parameters "
            f"and {tokens:.3g} tokens (at least {FEWEST:,} of each)"
        )
    warnings = _extrapolation(law, flops)
    return Split(law.name, flops, params, tokens, loss(law, params, tokens) if has_loss(law) else None, warnings)


def _split(law: Law, flops: float) -> tuple[float, float]:
    k = law.constants
    if law.form == "parametric":
        alpha, beta = k["alpha"], k["beta"]
        g = (alpha * k["A"] / (beta * k["B"])) ** (1 / (alpha + beta))
        params = g * (flops / K) ** (beta / (alpha + beta))
        return params, flops / (K * params)  # = (C/6)^b / G, written so that 6ND = C holds to rounding
    if law.form == "ratio":
        params = math.sqrt(flops / (K * k["ratio"]))
        return params, k["ratio"] * params
    tokens = k["A"] * flops ** k["alpha"]  # tokens-power
    return flops / (K * tokens), tokens


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


def equal_loss_split(law: Law, target: float) -> tuple[float, float]:
    """The compute-optimal N and D that reach loss L, in closed form (Sardana et al. 2024, code
    `chinchilla_params_from_loss`): N = (A(α/β + 1)/(L − E))^(1/α), D = (B(β/α + 1)/(L − E))^(1/β)."""
    k = _parametric(law)
    gap = _reachable(law, k, target)
    params = (k["A"] * (k["alpha"] / k["beta"] + 1) / gap) ** (1 / k["alpha"])
    tokens = (k["B"] * (k["beta"] / k["alpha"] + 1) / gap) ** (1 / k["beta"])
    return params, tokens


def inference_optimal_split(law: Law, target: float, inference_tokens: float) -> tuple[float, float]:
    """The N and D that reach loss L at the least training plus inference compute, 6·N·D + 2·N·T.

    No closed form for T > 0 (Sardana et al. 2024): the optimum is the root in D of
    f(D) = (βB/α + B)·D^−β + (T·β·B/(3α))·D^(−β−1) + (E − L), falling in D, found by bisection on
    log D; then N = (A / (L − E − B/D^β))^(1/α) meets the loss."""
    k = _parametric(law)
    gap = _reachable(law, k, target)
    alpha, beta, b = k["alpha"], k["beta"], k["B"]

    def f(log_tokens: float) -> float:
        d = 10.0**log_tokens
        return (beta * b / alpha + b) * d**-beta + (inference_tokens * beta * b / (3 * alpha)) * d ** (-beta - 1) - gap

    low = math.log10((b / gap) ** (1 / beta))  # below this D no N reaches the loss
    high = low + 30
    if f(high) > 0:
        raise InputError(f"--inference-tokens: {inference_tokens:.3g} pushes the optimum past 1e30 training tokens")
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if f(middle) > 0 else (low, middle)
    tokens = 10.0**high
    params = (k["A"] / (gap - b / tokens**beta)) ** (1 / alpha)
    return params, tokens


def implied_inference_tokens(law: Law, params: float, tokens: float) -> float | None:
    """The lifetime inference tokens for which N parameters on D tokens is the inference-aware
    optimum of its own loss: T solving the stationarity condition above at this D; None when D is
    no more than the compute-optimal tokens for that loss (an under-trained model no serving explains)."""
    k = _parametric(law)
    gap = loss(law, params, tokens) - k["E"]
    alpha, beta, b = k["alpha"], k["beta"], k["B"]
    inference = (gap - (beta * b / alpha + b) * tokens**-beta) / ((beta * b / (3 * alpha)) * tokens ** (-beta - 1))
    return inference if inference > 0 else None


def _reachable(law: Law, k: dict[str, float], target: float) -> float:
    """L − E, the loss above the law's floor a target asks for; an error when at or below it."""
    if target <= k["E"]:
        raise InputError(f"--loss: {target:g} is at or below the {law.name} law's irreducible loss E = {k['E']:g}")
    return target - k["E"]


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
    shown = (f"{x:.3g}".replace("e+", "e") for x in (flops, low, high))  # one exponent style: 3.03e25
    return ("{}: {} FLOP is outside the fitted range {}–{} FLOP; extrapolating".format(law.name, *shown),)
