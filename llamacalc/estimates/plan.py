"""Planning from a budget: compute-optimal models, their predicted loss, and over-training.

A budget (FLOPs, GPUs × days, or money) becomes C; each scaling law splits C into N and D
(scaling.py); the proposed model is then budgeted by the very path `train` uses (estimates/train.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.budget import compute_in, whole_gpus
from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named
from llamacalc.estimates.train import TrainResult, train
from llamacalc.flops import INFERENCE_FLOP_PER_PARAM_TOKEN, training_flops
from llamacalc.inputs import Assumption
from llamacalc.plan_setups import BudgetSetup, InferenceSetup, LossSetup, OptimalSetup, OvertrainingSetup, ServingSide
from llamacalc.resolve import Resolved, Resolver, Setup
from llamacalc.scaling import (
    MAX_FLOPS,
    MIN_FLOPS,
    Split,
    compute_for_loss,
    equal_loss_split,
    has_loss,
    implied_inference_tokens,
    inference_optimal_split,
    loss,
    optimal,
    tokens_for_loss,
)
from llamacalc.specs import Law


@dataclass(frozen=True)
class Optimum:
    split: Split
    law: Law
    train: TrainResult


@dataclass(frozen=True)
class OptimalPlan:
    """The compute C a budget buys, how it was derived, and each law's optimal model for it."""

    SCHEMA = "optimal"  # its document's JSON Schema (llamacalc schema optimal)

    flops: float
    basis: str  # "compute", "gpus x days" or "money"
    assumptions: Mapping[str, Assumption]
    optima: Sequence[Optimum]
    binding: str  # the constraint that sets C: "compute", "money", "time", or "money and time"
    sources: bool = False  # show every input with its source (`--sources`), not one line of them

    def frontier(self, points: int = 41, decades: float = 2.0) -> dict[str, list[Split]]:
        """Each law's compute-optimal split from C/10^decades to C·10^decades (log-spaced, within
        the range a law splits): the frontier `optimal --plot` draws, the budget at its centre."""
        steps = [self.flops * 10 ** (decades * (2 * i / (points - 1) - 1)) for i in range(points)]
        inside = [c for c in steps if MIN_FLOPS <= c <= MAX_FLOPS]
        return {o.law.name: [optimal(o.law, c) for c in inside] for o in self.optima}


@dataclass(frozen=True)
class LossReport:
    """A model's predicted loss beside the compute-optimal split of the same compute."""

    law: Law
    params: float
    tokens: float
    flops: float
    loss: float | None
    optimal: Split

    @property
    def gap(self) -> float | None:
        return None if self.loss is None or self.optimal.loss is None else self.loss - self.optimal.loss

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    @property
    def inference_tokens(self) -> float | None:
        """The serving for which this N and D is the inference-aware optimum (Sardana et al. 2024)."""
        return implied_inference_tokens(self.law, self.params, self.tokens) if self.loss is not None else None


@dataclass(frozen=True)
class Overtraining:
    """Tokens and compute for N parameters to reach a loss, against the compute-optimal model."""

    law: Law
    params: float
    target: float
    tokens: float
    flops: float
    optimal: Split

    @property
    def extra_compute(self) -> float:
        """Compute beyond the compute-optimal model of the same loss, as a fraction (0.5 = +50%)."""
        return self.flops / self.optimal.flops - 1


@dataclass(frozen=True)
class LossComparison:
    """`loss`: a model's predicted loss under each law, beside the compute-optimal split."""

    SCHEMA = "loss"  # its document's JSON Schema (llamacalc schema loss)

    model: str | None  # the preset's name
    title: str
    reports: tuple[LossReport, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class OvertrainingPlan:
    """`optimal --params N --loss L`: under each law, the tokens for N parameters to reach L."""

    SCHEMA = "overtrain"  # its document's JSON Schema (llamacalc schema overtrain)

    found: tuple[Overtraining, ...]


@dataclass(frozen=True)
class InferenceAware:
    """Under one law, the model that reaches a loss at the least training plus inference compute
    (Sardana et al. 2024), beside the compute-optimal model of the same loss."""

    law: Law
    target: float
    inference_tokens: float  # with costs: training-FLOP equivalents of the serving (see cost_aware)
    params: float
    tokens: float
    baseline_params: float  # the equal-loss compute-optimal (Chinchilla-style) model
    baseline_tokens: float
    usd_per_train_flop: float | None = None  # the cost variant: lifetime() × this is dollars
    served: float | None = None  # the cost variant: the tokens actually served, input and output

    def flops(self, params: float, tokens: float) -> tuple[float, float]:
        """(training, inference) FLOPs: 6·N·D and 2·N per token served."""
        served = self.inference_tokens if self.served is None else self.served
        return training_flops(params, tokens), INFERENCE_FLOP_PER_PARAM_TOKEN * params * served

    def dollars(self, baseline: bool = False) -> tuple[float, float] | None:
        """(training, serving) USD of the model (or of the equal-loss baseline), in the cost variant."""
        if self.usd_per_train_flop is None:
            return None
        n, d = (self.baseline_params, self.baseline_tokens) if baseline else (self.params, self.tokens)
        train, serve = self.lifetime(n, d)
        return train * self.usd_per_train_flop, serve * self.usd_per_train_flop

    def lifetime(self, params: float, tokens: float) -> tuple[float, float]:
        """(training, inference) FLOPs: 6·N·D and 2·N per inference token."""
        return training_flops(params, tokens), INFERENCE_FLOP_PER_PARAM_TOKEN * params * self.inference_tokens

    @property
    def saving(self) -> float:
        """Lifetime compute saved against the equal-loss compute-optimal model, as a fraction."""
        return 1 - sum(self.lifetime(self.params, self.tokens)) / sum(
            self.lifetime(self.baseline_params, self.baseline_tokens)
        )


@dataclass(frozen=True)
class InferencePlan:
    """`optimal --loss L --inference-tokens T`: each law's inference-aware model (least FLOPs, or
    with serving hardware given, least cost)."""

    SCHEMA = "inference"  # its document's JSON Schema (llamacalc schema inference)

    found: tuple[InferenceAware, ...]
    served: float  # lifetime inference tokens, input and output
    serving_basis: str | None = None  # how the serving MFU was found, when the serving model found it

    @property
    def by_cost(self) -> bool:
        return self.found[0].usd_per_train_flop is not None


def inference_aware(catalog: Catalog, law_name: str, target: float, inference_tokens: float) -> InferencePlan:
    """For each parametric law: the inference-aware model for loss `target` and its equal-loss baseline."""
    found = []
    for law in laws(catalog, law_name):
        if law_name == "all" and not has_loss(law):
            continue
        params, tokens = inference_optimal_split(law, target, inference_tokens)
        found.append(InferenceAware(law, target, inference_tokens, params, tokens, *equal_loss_split(law, target)))
    return InferencePlan(tuple(found), inference_tokens)


def cost_aware_plan(
    catalog: Catalog, law_name: str, target: float, inference_tokens: float, output_share: float, costs: ServingCosts
) -> InferencePlan:
    """For each parametric law: the cost-optimal model for loss `target` served `inference_tokens`."""
    found = tuple(
        cost_aware(law, target, inference_tokens * (1 - output_share), inference_tokens * output_share, costs)
        for law in laws(catalog, law_name)
        if law_name != "all" or has_loss(law)
    )
    return InferencePlan(found, inference_tokens)


@dataclass(frozen=True)
class ServingCosts:
    """USD per FLOP of training, prefill and decode: price per hour / (3,600 s × peak × MFU) each."""

    train: float
    prefill: float
    decode: float


def serving_costs(
    train: tuple[float, float, float], serve: tuple[float, float], prefill_mfu: float, decode_mfu: float
) -> ServingCosts:
    """From (price USD/s, peak FLOP/s, MFU) of training and (price USD/s, peak FLOP/s) of serving."""
    (train_price, train_peak, train_mfu), (serve_price, serve_peak) = train, serve
    if not train_price > 0:  # the serving cost is measured in training's: free training has no optimum
        raise InputError(
            f"{named('price')}: training at no cost has no cost-optimal model (it would train forever); "
            f"give a price above zero, or drop {named('serve_gpu')} for the FLOP optimum"
        )
    return ServingCosts(
        train_price / (train_peak * train_mfu),
        serve_price / (serve_peak * prefill_mfu),
        serve_price / (serve_peak * decode_mfu),
    )


def served_mfu(catalog: Catalog, law_name: str, target: float, gpu: str, precision: str | None,
               output_share: float) -> tuple[float, str]:  # fmt: skip
    """The utilisation a served model reaches, from the serving model (`serve`), as Sardana et al.'s
    cost form wants it: 2·N FLOPs per input or output token over the GPU's peak. Measured on the shipped
    dense preset nearest in size to the equal-loss compute-optimal model, at the request mix's input and
    output lengths (LMSys's 70 in, 215 out by default), at the most the KV cache allows; one MFU serves
    both prefill and decode. Returns it and a line saying how it was found."""
    from llamacalc.estimates.serve import estimate_serve
    from llamacalc.setups import serving

    law = next(law for law in laws(catalog, law_name) if has_loss(law))
    baseline, _ = equal_loss_split(law, target)
    dense = [
        m for name in catalog.names("models")
        if (m := catalog.model(name)).arch is not None and not m.arch.is_moe and m.params and not m.baseline
    ]  # fmt: skip
    if not dense:
        raise InputError(
            f"{named('serve_gpu')}: no dense model preset with an architecture to serve; give {named('decode_mfu')}"
        )
    near = min(reversed(dense), key=lambda m: abs(math.log(baseline / (m.params or 1.0))))
    total = 285  # LMSys's average request [Sardana et al. 2024]; the share sets the split
    output = max(1, round(total * output_share))
    hardware = catalog.hardware(gpu)
    served = estimate_serve(catalog, serving(near, hardware, precision or "bf16", max(1, total - output), output))
    assert near.params is not None
    per_gpu = served.tokens_per_s_per_gpu * total / output  # input and output tokens a second
    mfu = INFERENCE_FLOP_PER_PARAM_TOKEN * near.params * per_gpu / hardware.peak(precision or "bf16")
    how = (
        f"serving MFU {mfu:.1%} from the serving model: {near.name} (nearest in size to the equal-loss "
        f"{baseline / 1e9:,.0f}B) on {hardware.name}, {total - output} in / {output} out per request, at the "
        "largest batch; the same for prefill and decode"
    )
    return mfu, how


def cost_aware(
    law: Law, target: float, input_tokens: float, output_tokens: float, costs: ServingCosts
) -> InferenceAware:
    """The model that reaches a loss at the least training plus serving *cost* (Sardana et al. 2024's
    cost variant). Cost = c_t·6ND + c_p·2N·T_in + c_d·2N·T_out is c_t times the FLOP objective with
    T = (c_p·T_in + c_d·T_out) / c_t, so the same optimum serves; `lifetime` of the result is in
    training-FLOP equivalents (cost / c_t)."""
    served = (costs.prefill * input_tokens + costs.decode * output_tokens) / costs.train
    params, tokens = inference_optimal_split(law, target, served)
    baseline = equal_loss_split(law, target)
    return InferenceAware(law, target, served, params, tokens, *baseline, costs.train, input_tokens + output_tokens)


def laws(catalog: Catalog, name: str) -> list[Law]:
    """One law by name, or every law for 'all'."""
    names = catalog.names("laws") if name == "all" else [name]
    return [catalog.law(n) for n in names]


def _binding(setup: Setup, seen: Mapping[str, Assumption], seconds: float, usd: float) -> tuple[str, int | None]:
    """With money and a deadline: which binds, and the GPUs to rent when no count is given.

    On a given GPU count the smaller of the GPU time money buys and the GPU time the deadline allows
    sets the compute. Without one, money buys GPU-hours and the deadline says how many GPUs must
    share them: both bind, and the GPU count follows."""
    assert setup.price is not None  # plan_setups: money is spent at a known price
    affordable = usd / setup.price  # GPU-seconds
    if seen["gpus"].origin != "user":
        return "money and time", whole_gpus(affordable, seconds)
    assert setup.gpus is not None
    return ("money" if affordable <= setup.gpus * seconds else "time"), None


MIN_GPU_SECONDS = 1.0  # of training on each GPU: a budget that buys less is a typo, not a run


def budget_flops(
    setup: Setup,
    seen: Mapping[str, Assumption],
    *,
    compute: float | None = None,
    seconds: float | None = None,
    usd: float | None = None,
) -> tuple[float, str, Mapping[str, Assumption]]:
    """C from the one budget given, on `setup`: FLOPs, GPUs × days at MFU × peak, or money at a price."""
    if compute is not None:
        return compute, "compute", {"compute": Assumption(compute, "FLOP", "user"), **seen}
    option = named("days") if seconds is not None else named("budget")
    flops, basis, seen = _bought(setup, seen, seconds, usd)
    if not (math.isfinite(flops) and flops > 0):
        raise InputError(f"{option}: buys {flops:g} FLOP on {setup.hardware.name}, out of range")
    assert setup.gpus is not None
    each = flops / (setup.peak * setup.mfu * setup.gpus)  # seconds of training on each GPU
    if each < MIN_GPU_SECONDS:  # '--budget 1e-3 USD' on 16,384 GPUs: 47 µs of training, not a run
        raise InputError(
            f"{option}: buys {each:.2g} s of training on each of {setup.gpus:,} GPUs, less than "
            f"{MIN_GPU_SECONDS:g} s; give a larger budget (or fewer GPUs)"
        )
    return flops, basis, seen


def _bought(
    setup: Setup, seen: Mapping[str, Assumption], seconds: float | None, usd: float | None
) -> tuple[float, str, Mapping[str, Assumption]]:
    """C that GPU time or money buys at the setup's MFU and peak (and price)."""
    assert setup.gpus is not None  # resolve_setup without days always settles a GPU count
    if seconds is not None:
        seen = {**seen, "days": Assumption(seconds / units.DAY, "days", "user")}
        return compute_in(setup.gpus * seconds, setup.peak, setup.mfu), "gpus x days", seen
    assert usd is not None and setup.price is not None  # plan_setups: money is spent at a known price
    seen = {**seen, "budget": Assumption(usd, "USD", "user")}
    return compute_in(usd / setup.price, setup.peak, setup.mfu), "money", seen


def optimal_plan(resolver: Resolver, budget: BudgetSetup) -> OptimalPlan:
    """Each law's compute-optimal model for the budget, budgeted through `train`'s own path."""
    setup, setup_seen, run = budget.setup, budget.assumptions, budget.run
    compute, seconds, usd = budget.compute, budget.seconds, budget.usd
    binding = "compute" if compute is not None else "money" if usd is not None else "time"
    if usd is not None and seconds is not None:
        binding, gpus = _binding(setup, setup_seen, seconds, usd)
        if gpus is not None:  # the deadline sets the GPU count: plan on it, spending the money
            setup, setup_seen = resolver.setup({**run, "gpus": gpus})
            deadline = f"the budget spent within the deadline of {seconds / units.DAY:,g} days"
            setup_seen = {**setup_seen, "gpus": Assumption(gpus, "", "derived", deadline)}
        seconds, usd = (None, usd) if binding != "time" else (seconds, None)
    request = {**run, "gpu": setup.hardware.name, "gpus": setup.gpus, "cluster": None}
    optima, budgets = [], []
    for law in laws(resolver.catalog, budget.law):
        flops, basis, seen, split, resolved = _consistent(
            resolver, law, setup, setup_seen, request, compute, seconds, usd
        )
        budgets.append((flops, basis, seen))
        optima.append(Optimum(split, law, train(resolved)))
    flops, basis, seen = budgets[0]
    if seen["mfu"].origin != "user":  # each proposal has its own, from its size: in its train result
        seen = {key: value for key, value in seen.items() if key != "mfu"}
    return OptimalPlan(flops, basis, seen, optima, binding)


def _consistent(
    resolver: Resolver,
    law: Law,
    setup: Setup,
    setup_seen: Mapping[str, Assumption],
    request: Mapping[str, Any],
    compute: float | None,
    seconds: float | None,
    usd: float | None,
) -> tuple[float, str, Mapping[str, Assumption], Split, Resolved]:
    """The budget's C, its optimal split, and the proposed run, at the utilisation of that very run.

    The efficiency model's MFU depends on the model's size, and a GPU-time or money budget buys C in
    proportion to MFU: iterate C → N → MFU(N) → C until it settles, so that `train` prices the
    proposed model at the same days and cost as the budget. A given MFU needs no iteration.
    """
    mfu = setup.mfu
    for _ in range(50):
        flops, basis, seen = budget_flops(
            dataclasses.replace(setup, mfu=mfu), setup_seen, compute=compute, seconds=seconds, usd=usd
        )
        split = optimal(law, flops)
        resolved = resolver.resolve({**request, "params": split.params, "tokens": split.tokens})
        if abs(resolved.mfu - mfu) <= 1e-12 * mfu or basis == "compute":
            break
        mfu = resolved.mfu
    return flops, basis, seen, split, _proposed(resolved, law, flops, setup_seen)


def _proposed(resolved: Resolved, law: Law, flops: float, setup_seen: Mapping[str, Assumption]) -> Resolved:
    """The proposal's inputs as they came: its size and tokens from the law, its GPUs from the
    budget's setup (the user's, a default or derived), not all "user" as the request passes them."""
    source = f"the {law.name} law's compute-optimal split of {flops:.3g} FLOP ({law.entry.source_of('form')})"
    chosen = {key: Assumption(resolved.assumptions[key].value, "", "law", source) for key in SPLIT_KEYS}
    kept = {key: setup_seen[key] for key in ("gpu", "gpus") if key in setup_seen and key in resolved.assumptions}
    return dataclasses.replace(resolved, assumptions={**resolved.assumptions, **chosen, **kept})


SPLIT_KEYS = ("params", "active_params", "tokens")  # what a law's split sets in a proposal


def loss_reports(catalog: Catalog, law_name: str, params: float, tokens: float) -> list[LossReport]:
    flops = training_flops(params, tokens)
    if not math.isfinite(flops):
        raise InputError(
            f"{params:.3g} parameters on {tokens:.3g} tokens overflow the FLOP count; check the magnitudes"
        )
    return [
        LossReport(
            law, params, tokens, flops, loss(law, params, tokens) if has_loss(law) else None, optimal(law, flops)
        )
        for law in laws(catalog, law_name)
    ]


def overtraining(catalog: Catalog, law_name: str, params: float, target: float) -> list[Overtraining]:
    found = []
    for law in laws(catalog, law_name):
        if law_name == "all" and not has_loss(law):
            continue
        tokens = tokens_for_loss(law, params, target)
        found.append(
            Overtraining(
                law, params, target, tokens, training_flops(params, tokens), optimal(law, compute_for_loss(law, target))
            )
        )
    return found


# --- `optimal` and `loss` from their setups: the one path the command line and the API share ----


def optimal_for(resolver: Resolver, setup: OptimalSetup) -> OptimalPlan | InferencePlan | OvertrainingPlan:
    """What `optimal` answers, by the question its inputs ask (plan_setups.optimal_setup): the
    compute-optimal models for a budget; the tokens to over-train a size to a loss; or the
    inference-aware model (cost-aware when a serving GPU is given)."""
    catalog = resolver.catalog
    if isinstance(setup, InferenceSetup):
        if setup.serving is None:
            return inference_aware(catalog, setup.law, setup.loss, setup.tokens)
        return _cost_aware(catalog, setup, setup.serving)
    if isinstance(setup, OvertrainingSetup):
        return OvertrainingPlan(tuple(overtraining(catalog, setup.law, setup.params, setup.loss)))
    return optimal_plan(resolver, setup)


def _cost_aware(catalog: Catalog, setup: InferenceSetup, serving: ServingSide) -> InferencePlan:
    basis = None
    if serving.mfu is None:  # the serving model's, as `serve` and `train` use
        mfu, basis = served_mfu(
            catalog, setup.law, setup.loss, serving.hardware.name, serving.precision, serving.output_share
        )
        prefill, decode = mfu, mfu
    else:
        prefill, decode = serving.mfu
    trained = serving.train
    assert trained.price is not None  # plan_setups: training's price is known
    costs = serving_costs(
        (trained.price, trained.peak, trained.mfu),
        (serving.price, serving.hardware.peak(serving.precision or "bf16")),
        prefill,
        decode,
    )
    found = cost_aware_plan(catalog, setup.law, setup.loss, setup.tokens, serving.output_share, costs)
    return dataclasses.replace(found, serving_basis=basis)


def loss_for(catalog: Catalog, setup: LossSetup) -> LossComparison:
    """What `loss` answers: each law's loss for N parameters on D tokens (plan_setups.loss_setup)."""
    reports = tuple(loss_reports(catalog, setup.law, setup.params, setup.tokens))
    return LossComparison(setup.model, setup.title, reports, setup.notes)
