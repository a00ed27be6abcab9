"""Plan setups: what `optimal` and `loss` are asked, read once into numbers.

`optimal` answers one of three questions, by the inputs given: the compute-optimal models for a
budget (`compute`, `days` or `budget`, on the run's hardware); with `params` and `loss`, the tokens
to over-train to that loss; with `loss` and `inference_tokens`, the inference-aware model (cost-aware
with `serve_gpu`). `loss` asks each law's loss of N parameters on D tokens. Their text is read here
and only here, with Sardana et al. 2024's defaults for the serving inputs left out; the hardware
side comes from resolve.py, as `train`'s does. The estimates (estimates/plan.py) take what this
returns and never read text or name a flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named, prefixed
from llamacalc.inputs import INPUTS, Assumption
from llamacalc.resolve import Resolver, Setup
from llamacalc.setups import SERVING_PRECISIONS
from llamacalc.specs import Hardware, Model

PLAN_INPUTS = (
    "compute", "days", "budget", "params", "loss", "inference_tokens", "serve_gpu", "serve_precision",
    "serve_price", "prefill_mfu", "decode_mfu", "output_share", "law",
)  # fmt: skip
SERVING_INPUTS = ("serve_precision", "serve_price", "prefill_mfu", "decode_mfu", "output_share")  # with serve_gpu

# assumptions, Sardana et al. 2024's defaults (cost_optimal.py): LMSys's average request, 70 tokens in and
# 215 out; MFU 0.5 on prefill and 0.01 on decode
OUTPUT_SHARE = 215 / (70 + 215)
PREFILL_MFU, DECODE_MFU = 0.5, 0.01


@dataclass(frozen=True)
class BudgetSetup:
    """`optimal` from a budget: the compute given, or the GPU time or money that buys it on a run's hardware."""

    law: str  # a law preset, or "all"
    run: Mapping[str, Any]  # the hardware inputs as given: each proposal is resolved with them, as `train` is
    setup: Setup  # the run's hardware side
    assumptions: Mapping[str, Assumption]  # the hardware side's
    compute: float | None  # FLOP
    seconds: float | None  # the deadline (days)
    usd: float | None  # the money; its price is known and above zero


@dataclass(frozen=True)
class OvertrainingSetup:
    """`optimal --params N --loss L`: a fixed size, to train until it reaches a loss."""

    law: str
    params: float
    loss: float


@dataclass(frozen=True)
class ServingSide:
    """The serving of a cost-aware plan: training on the run's hardware at its price, serving on a GPU at its."""

    train: Setup  # its price known
    hardware: Hardware
    price: float  # USD per GPU-second of serving
    precision: str | None  # the served weights'; None: bf16
    output_share: float
    mfu: tuple[float, float] | None  # on prefill and decode; None: the serving model's


@dataclass(frozen=True)
class InferenceSetup:
    """`optimal --loss L --inference-tokens T`: a loss to reach, and the tokens the model will serve."""

    law: str
    loss: float
    tokens: float  # served over the model's life, input and output
    serving: ServingSide | None  # None: the least FLOPs, not the least cost


OptimalSetup = BudgetSetup | OvertrainingSetup | InferenceSetup


def optimal_setup(resolver: Resolver, request: Mapping[str, Any]) -> OptimalSetup:
    """The `optimal` request read: which question the inputs ask, and its numbers. `request` holds
    input names; those not in PLAN_INPUTS are the hardware inputs `train` takes."""
    given = {key: value for key, value in request.items() if value is not None}
    law = str(given.pop("law", "epoch"))
    planned = {key: given.pop(key) for key in PLAN_INPUTS if key in given}
    compute, days, budget = (planned.get(key) for key in ("compute", "days", "budget"))
    params, target, served = (planned.get(key) for key in ("params", "loss", "inference_tokens"))
    if served is not None:
        if target is None or params is not None or compute or days or budget:
            raise InputError(
                f"{named('inference_tokens')} goes with {named('loss')} alone: the model for a loss, served T tokens"
            )
        with prefixed(named("inference_tokens")):
            tokens = units.parse_count(served, "a token count")
        goal = _positive("loss", target)
        if planned.get("serve_gpu") is None and (unread := [key for key in SERVING_INPUTS if key in planned]):
            raise InputError(f"{named(unread[0])} prices serving: use it with {named('serve_gpu')}")
        serving = None if planned.get("serve_gpu") is None else _serving_side(resolver, given, planned)
        return InferenceSetup(law, goal, tokens, serving)
    if unread := [key for key in ("serve_gpu", *SERVING_INPUTS) if key in planned]:
        raise InputError(
            f"{named(unread[0])} prices serving: use it with {named('loss')}, {named('inference_tokens')} and "
            f"{named('serve_gpu')}"
        )
    if params is not None or target is not None:
        if params is None or target is None or compute or days or budget:
            raise InputError(
                f"{named('params')} and {named('loss')} go together, without a budget (over-training mode)"
            )
        return OvertrainingSetup(law, _params(params), _positive("loss", target))
    return _budget_setup(resolver, law, given, compute, days, budget)


def _budget_setup(resolver: Resolver, law: str, run: Mapping[str, Any], compute: Any, days: Any,
                  money: Any) -> BudgetSetup:  # fmt: skip
    """The one budget given, read after the hardware side it is spent on."""
    given = [
        name for name, value in ((named("compute"), compute), (named("days"), days), (named("budget"), money)) if value
    ]
    if not given or (compute and len(given) > 1):
        raise InputError(
            f"give a budget: {named('compute')} (e.g. 3.8e25FLOP) alone, or {named('budget')} and/or "
            f"{named('days')} (with {named('gpus')}/{named('cluster')})"
            + (f" (got {' and '.join(given)})" if given else "")
        )
    setup, seen = resolver.setup(run)
    flops = _amount("compute", compute, units.COMPUTE) if compute else None
    usd = _amount("budget", money, units.MONEY) if money else None
    seconds = _amount("days", days, units.DURATION) if days else None
    if usd is not None:
        _priced(setup)
    return BudgetSetup(law, run, setup, seen, flops, seconds, usd)


def _priced(setup: Setup) -> None:
    """A price money can be spent at: none is unknown, and zero would buy unbounded compute."""
    if setup.price is None:
        raise InputError(
            f"{named('budget')}: {setup.hardware.name} has no default price; pass {named('price')} (e.g. '2.5 USD/h')"
        )
    if not setup.price > 0:
        raise InputError(
            f"{named('budget')}: GPU time on {setup.hardware.name} is priced at zero, so money buys unbounded compute; "
            f"give {named('price')} above zero, or budget with {named('days')} or {named('compute')}"
        )


def _serving_side(resolver: Resolver, run: Mapping[str, Any], planned: Mapping[str, Any]) -> ServingSide:
    """Training's hardware side and price, and the serving GPU's price, share of output and MFUs."""
    setup, _ = resolver.setup(run)
    if setup.price is None:
        raise InputError(f"{named('price')}: {setup.hardware.name} has no default price; pass {named('price')}")
    serving = resolver.catalog.hardware(str(planned["serve_gpu"]), named("serve_gpu"))
    serve_price = planned.get("serve_price")
    with prefixed(named("serve_price")):
        serve_usd = units.parse_quantity(serve_price, units.PRICE) if serve_price else serving.price
    if serve_usd is None:
        raise InputError(f"{named('serve_price')}: {serving.name} has no default price; pass {named('serve_price')}")
    share = _fraction("output_share", planned.get("output_share"), OUTPUT_SHARE)
    prefill_mfu, decode_mfu = planned.get("prefill_mfu"), planned.get("decode_mfu")
    mfu = None
    if prefill_mfu is not None or decode_mfu is not None:
        mfu = _fraction("prefill_mfu", prefill_mfu, PREFILL_MFU), _fraction("decode_mfu", decode_mfu, DECODE_MFU)
    precision = planned.get("serve_precision")
    if precision is not None:
        if precision not in SERVING_PRECISIONS:
            expected = ", ".join(SERVING_PRECISIONS)
            raise InputError(f"{named('serve_precision')}: expected one of {expected}, got '{precision}'")
        if precision not in serving.peaks:
            known = ", ".join(serving.peaks)
            raise InputError(
                f"{named('serve_precision')}: {serving.name} has no published {precision} peak (known: {known})"
            )
    return ServingSide(setup, serving, serve_usd, precision, share, mfu)


@dataclass(frozen=True)
class LossSetup:
    """`loss`: N parameters on D tokens, a preset's or given, and the laws to ask."""

    model: str | None  # the preset as named
    title: str
    params: float
    tokens: float
    law: str
    notes: tuple[str, ...]  # how the size was chosen, where the laws may not fit it


def loss_setup(catalog: Catalog, model: str | None, params: Any = None, tokens: Any = None,
               law: str = "epoch") -> LossSetup:  # fmt: skip
    """The `loss` request read: a preset's active parameters and tokens, or those given."""
    found: Model | None = catalog.model(model) if model else None
    with prefixed(named("params")):
        n = (
            units.parse_count(params, "a parameter count")
            if params
            else found and (found.active_params or found.params)
        )
    with prefixed(named("tokens")):
        d = units.parse_count(tokens, "a token count") if tokens else found and found.tokens
    if not n or not d:
        raise InputError(
            f"loss needs parameters and tokens: a MODEL preset with both, or {named('params')} and {named('tokens')}"
        )
    notes: tuple[str, ...] = ()
    if found and found.is_moe and not params:
        notes = (f"{found.name} is a mixture of experts; the laws were fitted on dense models: active parameters",)
    return LossSetup(model, found.title if found else "Custom model", float(n), float(d), law, notes)


def _amount(key: str, value: Any, kind: units.Kind) -> float:
    """A positive quantity."""
    with prefixed(named(key)):
        parsed = units.parse_quantity(value, kind)
    if parsed <= 0:
        raise InputError(f"{named(key)}: expected a positive amount, got '{value}'")
    return parsed


def _fraction(key: str, value: Any, default: float) -> float:
    """A share in (0, 1], or `default` when not given."""
    if value is None:
        return default
    number = _positive(key, value)
    if number > 1:
        raise InputError(f"{named(key)}: expected a fraction in (0, 1], e.g. 0.5, got '{value}'")
    return number


MAX_LOSS = 100.0  # nats per token: a uniform guess over a vocabulary of e^100 tokens; past it a typo


def _positive(key: str, value: Any) -> float:
    """A positive, finite plain number (a loss: at most MAX_LOSS)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{named(key)}: expected a positive number, e.g. 2.0, got '{value}'")
    if key == "loss" and number > MAX_LOSS:
        raise InputError(f"{named(key)}: at most {MAX_LOSS:g} nats per token, e.g. 2.0, got '{value}'")
    return number


def _params(value: Any) -> float:
    """A parameter count within the input's bounds (inputs.INPUTS)."""
    with prefixed(named("params")):
        return INPUTS["params"].parse(value)
