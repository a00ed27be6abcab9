"""The `train` estimate: a resolved run's budget, with the publisher's figures beside it."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from llamacalc import units
from llamacalc.budget import Budget, budget, implied_mfu, whole_gpus
from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named
from llamacalc.fastpath import built
from llamacalc.inputs import MAX_GPUS as INPUT_MAX_GPUS
from llamacalc.inputs import Assumption
from llamacalc.ownership import facility_watts
from llamacalc.resolve import Resolved, Resolver
from llamacalc.specs import Reported

if TYPE_CHECKING:  # goodput and layouts are asked for rarely: loaded when they are
    from llamacalc.goodput import Goodput
    from llamacalc.layouts import Candidate
    from llamacalc.setups import GlobalBatch, TrainExtras


class Comparison(NamedTuple):
    """The publisher's reported figures beside the estimate."""

    gpu: str | None
    gpus: int | None
    gpu_hours: float | None
    co2_t: float | None
    implied_mfu: float | None
    source: str


class Range(NamedTuple):
    """A figure's P10, P50 (the estimate) and P90, in canonical units (a tuple: a batch makes ~8 a line)."""

    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class TrainResult:
    resolved: Resolved
    budget: Budget
    facility_watts: float | None  # the cluster's draw at TDP, servers and PUE included
    cost_parts: Mapping[str, float] | None  # USD: hardware, networking, energy, with --pricing owned
    scaled_ranges: Mapping[str, Range] | None = None  # ranges already worked out (with_goodput's)

    @functools.cached_property
    def ranges(self) -> Mapping[str, Range]:
        """mfu, seconds or gpus, gpu_seconds, cost, energy, co2 (those known), price: worked out when
        first read, so a batch projecting days and cost (--fields) never pays for them."""
        return self.scaled_ranges if self.scaled_ranges is not None else _ranges(self.resolved, self.budget)

    @property
    def reported(self) -> Comparison | None:
        """The publisher's figures beside the estimate, when the preset has them."""
        s = self.resolved
        return _comparison(s.model.reported, s.precision, s.flops) if s.model and s.model.reported else None


RANGED = ("gpu_seconds", "cost", "energy", "co2")  # Budget fields that scale with 1 / utilisation


def estimate(resolver: Resolver, request: Mapping[str, Any]) -> TrainResult:
    """Resolve a request and budget it: what every command that plans a run calls."""
    return train(resolver.resolve(request))


def train(resolved: Resolved) -> TrainResult:
    """The budget of a resolved run, with the publisher's figures beside it when the preset has them."""
    s = resolved
    result = budget(
        s.flops, s.peak, s.mfu, gpus=s.gpus, seconds=s.seconds,
        price=s.price, power=s.power, pue=s.pue, carbon=s.carbon,
    )  # fmt: skip
    _guard(s, result)
    hw = s.hardware
    facility = facility_watts(result.gpus, s.power, hw.server_power, s.pue) if s.power and hw.server_power else None
    owned = s.owned
    parts = None if owned is None else {
        "hardware": owned.hardware * result.gpu_seconds, "networking": owned.networking * result.gpu_seconds,
        "energy": owned.energy * result.gpu_seconds,
    }  # fmt: skip
    return built(
        TrainResult, {}, resolved=s, budget=result, facility_watts=facility, cost_parts=parts,
    )  # fmt: skip


MAX_GPUS = INPUT_MAX_GPUS  # as for --gpus: ten times the largest cluster announced


def _guard(s: Resolved, b: Budget) -> None:
    """Every figure finite and positive (money, energy, CO2 may be 0), GPUs within bounds: inputs at
    the edge of floating point (an MFU of 1e-320, a price of 1e308) are refused, never printed as inf."""
    inf = math.inf
    if (  # the common case, at a batch line's cost: every comparison is False for NaN
        0 < b.flops < inf and 0 < b.seconds < inf and 0 < b.gpu_seconds < inf and 0 < b.gpus <= MAX_GPUS
        and (b.cost is None or 0 <= b.cost < inf) and (b.energy is None or 0 <= b.energy < inf)
        and (b.co2 is None or 0 <= b.co2 < inf)
    ):  # fmt: skip
        return
    figures = {
        "compute": (b.flops, False), "GPUs": (b.gpus, False), "wall-clock": (b.seconds, False),
        "GPU-hours": (b.gpu_seconds, False), "cost": (b.cost, True), "energy": (b.energy, True), "CO2": (b.co2, True),
    }  # fmt: skip
    for name, (value, zero_ok) in figures.items():
        if value is not None and not (math.isfinite(value) and (value > 0 or (zero_ok and value == 0))):
            given = [named(key) for key, a in s.assumptions.items() if a.origin == "user"]
            blame = f"; check {', '.join(given)}" if given else ""
            raise InputError(f"out of range: the inputs make the {name} {value:g}{blame}")
    if b.gpus > MAX_GPUS:
        given = [named(key) for key, a in s.assumptions.items() if a.origin == "user"]
        raise InputError(
            f"the inputs need {b.gpus:.3g} GPUs (at most {MAX_GPUS:,.0f}, ten times the largest cluster announced); "
            f"check {', '.join(given) or named('days')}"
        )


def _ranges(s: Resolved, p50: Budget) -> dict[str, Range]:
    """P10-P90 of every figure from the MFU band, and of cost from the price band too, where the
    preset has one. Every figure but a GPU count is inversely proportional to utilisation, so the
    band scales the estimate (a batch computes this per line: no second and third budget)."""
    low_mfu, high_mfu = s.mfu_band
    fast, slow = s.mfu / high_mfu, s.mfu / low_mfu  # high utilisation gives the low figure
    ranges = {"mfu": Range(low_mfu, s.mfu, high_mfu)}
    if s.seconds is not None and s.gpus is None:
        used = p50.gpu_seconds
        ranges["gpus"] = Range(whole_gpus(used * fast, s.seconds), p50.gpus, whole_gpus(used * slow, s.seconds))
    for key in RANGED if s.gpus is None else ("seconds", *RANGED):
        value = getattr(p50, key)
        if value is not None:
            ranges[key] = Range(value * fast, value, value * slow)
    if s.price_band is not None and s.price is not None and "cost" in ranges:
        low, high = s.price_band
        ranges["price"] = Range(low, s.price, high)
        ranges["cost"] = _widened(ranges["cost"], low / s.price, high / s.price)
    return ranges


def _widened(band: Range, low: float, high: float) -> Range:
    """A log-normal band combined with an independent factor's P10 and P90 (as ratios to its P50):
    on each side, the spreads in log space add in quadrature."""
    down = math.hypot(math.log(band.p50 / band.p10), math.log(low))
    up = math.hypot(math.log(band.p90 / band.p50), math.log(high))
    return Range(band.p50 * math.exp(-down), band.p50, band.p50 * math.exp(up))


def _comparison(reported: Reported, precision: str, flops: float) -> Comparison:
    mfu = None
    peak = dict(reported.peaks).get(precision)
    if reported.gpu_hours is not None and peak is not None:
        mfu = implied_mfu(flops, reported.gpu_hours * units.HOUR, peak)
    return Comparison(reported.gpu, reported.gpus, reported.gpu_hours, reported.co2_t, mfu, reported.source)


# --- what the train commands show ----------------------------------------------------------------


class GoodputEstimate(NamedTuple):
    """Interruptions of the run at the Llama 3 failure rate, and the wall-clock they cost."""

    goodput: Goodput
    lost_per_interruption: float  # hours
    source: str


class ServingBill(NamedTuple):
    """Serving T tokens after training, on the training GPU type at `serve`'s derated throughput."""

    tokens: float
    flops: float  # 2 · N_active per token (Kaplan et al. 2020 §2.1; attention left out)
    tokens_per_s_per_gpu: float
    gpu_hours: float
    cost: float | None  # USD, at the training price


class LayoutJoin(NamedTuple):
    """`train --layout`: the step model's layout, its steady-state MFU, the goodput that takes it to
    end-to-end utilisation, and the calibrated empirical band beside it."""

    best: Candidate
    global_batch: int  # sequences
    gpus_from: str
    steady_state_mfu: float  # the layout's model FLOPs (causal attention) over the dense BF16 peak
    steady_in_convention: float  # the same throughput as MFU in the run's FLOP convention and precision
    goodput: Goodput
    lost_per_interruption: float  # hours
    end_to_end_mfu: float  # steady × goodput, in the run's convention: what the budget uses
    empirical: tuple[float, float, float]  # the efficiency model's P10, P50, P90 of end-to-end MFU
    source: str

    @property
    def disagrees(self) -> bool:
        """The physical and the empirical answers further apart than the empirical band."""
        low, _, high = self.empirical
        return not low <= self.end_to_end_mfu <= high


@dataclass(frozen=True)
class TrainReport:
    """`train`: the estimate, its FLOP breakdown when asked (`explain`), and goodput when asked."""

    SCHEMA = "train"  # its document's JSON Schema (llamacalc schema train)

    result: TrainResult
    explain: bool = False
    goodput: GoodputEstimate | None = None
    sources: bool = False  # every input with its source, not only the assumptions that matter
    serving: ServingBill | None = None  # --inference-tokens: the lifetime bill beside training's
    layout: LayoutJoin | None = None  # --layout: the physical model's answer joined to the bill


@dataclass(frozen=True)
class Conventions:
    """`train --flops all`: the same run counted by every registered FLOP convention."""

    SCHEMA = "train"  # its document's JSON Schema (llamacalc schema train)

    results: tuple[TrainResult, ...]
    explain: bool = False  # each convention's breakdown and formula too

    def ratios(self) -> list[float]:
        """Each convention's FLOPs over the first's (6nd): how much more a fuller count finds."""
        return [r.budget.flops / self.results[0].budget.flops for r in self.results]


@dataclass(frozen=True)
class Compared:
    """`compare`: runs side by side, each with its ratios to the first."""

    SCHEMA = "compare"  # its document's JSON Schema (llamacalc schema compare)

    results: tuple[TrainResult, ...]

    def ratios(self) -> list[dict[str, float | None]]:
        """Each run's figures (RATIOED) over the first run's; None where either is unknown or zero."""
        base = _figures(self.results[0])
        return [{key: _ratio(value, base[key]) for key, value in _figures(r).items()} for r in self.results]


RATIOED = ("params", "active_params", "tokens", "flops", "gpu_seconds", "seconds", "cost", "energy", "co2")


def compared(resolver: Resolver, models: Sequence[str], request: Mapping[str, Any]) -> Compared:
    """What `compare` answers: each model under the same inputs, the first the base of the ratios."""
    if not models:
        raise InputError("compare needs at least one model preset")
    return Compared(tuple(estimate(resolver, {**request, "model": name}) for name in models))


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


def _figures(result: TrainResult) -> dict[str, float | None]:
    s, b = result.resolved, result.budget
    return {"params": s.params, "active_params": s.active_params, "tokens": s.tokens} | {
        key: getattr(b, key) for key in RATIOED[3:]
    }


def goodput_estimate(result: TrainResult, recovery: tuple[float, float] | None) -> GoodputEstimate:
    """Goodput from the checkpoint interval and restart time in hours (setups.recovery), else the
    Llama 3 calibration."""
    from llamacalc.goodput import goodput

    lost, source = lost_per_interruption_given(recovery)
    return GoodputEstimate(goodput(result.budget.gpus, result.budget.seconds / units.HOUR, lost), lost, source)


def lost_per_interruption_given(recovery: tuple[float, float] | None) -> tuple[float, str]:
    """Hours lost per interruption, and its source: from the checkpoint interval and restart time in
    hours, else the Llama 3 calibration."""
    from llamacalc.goodput import LOST_HOURS_PER_INTERRUPTION, lost_per_interruption
    from llamacalc.goodput import SOURCE as GOODPUT_SOURCE

    rate = "failure rate: 419 interruptions / (54 days × 16,384 H100) [S7]"
    if recovery is None:
        return LOST_HOURS_PER_INTERRUPTION, f"{rate}; lost per interruption {GOODPUT_SOURCE}"
    return lost_per_interruption(*recovery), rate


def serving_bill(catalog: Catalog, result: TrainResult, tokens: float) -> ServingBill:
    """What serving T tokens adds to a preset's training: FLOPs, and GPU-hours and cost at the
    throughput `serve` gives on the same GPU (bf16, the largest batch, 1,000 in / 1,000 out)."""
    from llamacalc.estimates.serve import estimate_serve

    s = result.resolved
    if s.model is None or s.model.arch is None or s.active_params is None:
        raise InputError(
            f"{named('inference_tokens')}: serving needs a model preset with an architecture (for its KV cache)"
        )
    from llamacalc.setups import serving

    served = estimate_serve(catalog, serving(s.model, s.hardware))
    per_gpu = served.tokens_per_s_per_gpu
    gpu_hours = tokens / per_gpu / units.HOUR
    price = s.price
    return ServingBill(
        tokens,
        2 * s.active_params * tokens,
        per_gpu,
        gpu_hours,
        None if price is None else price * gpu_hours * units.HOUR,
    )


def with_goodput(result: TrainResult, g: GoodputEstimate) -> TrainResult:
    """The bill with the time interruptions cost: wall-clock, GPU-hours, cost, energy and CO2 (and
    their ranges) grow by effective / ideal hours; FLOPs, GPUs and MFU stay."""
    ideal, effective = result.budget.seconds / units.HOUR, g.goodput.effective_hours
    if not math.isfinite(effective):
        raise InputError(f"{named('goodput')}: at this scale interruptions outpace progress; the run never finishes")
    factor = effective / ideal
    b = result.budget
    scaled: dict[str, Any] = {
        key: None if getattr(b, key) is None else getattr(b, key) * factor for key in ("seconds", *RANGED)
    }
    ranges = {
        key: Range(band.p10 * factor, band.p50 * factor, band.p90 * factor) if key in scaled else band
        for key, band in result.ranges.items()
    }
    parts = None if result.cost_parts is None else {k: v * factor for k, v in result.cost_parts.items()}
    return dataclasses.replace(result, budget=b._replace(**scaled), scaled_ranges=ranges, cost_parts=parts)


Z90 = 1.2816  # the standard normal's P90: a log-normal band of spread sigma spans exp(±1.2816·sigma)


def train_for(resolver: Resolver, request: Mapping[str, Any], extras: TrainExtras) -> TrainReport:
    """What `train` answers, the one path of the CLI and the API: the run, planned with a layout if
    asked, its bill grown by goodput if asked, and the serving bill after it if asked."""
    joined = None
    if extras.layout is not None:
        lost = lost_per_interruption_given(extras.recovery)
        result, joined = with_layout(resolver.catalog, resolver, request, extras.layout, extras.global_batch, lost)
    else:
        result = estimate(resolver, request)
    interrupted = goodput_estimate(result, extras.recovery) if extras.goodput else None
    if interrupted is not None:  # the bill includes the time lost to interruptions
        result = with_goodput(result, interrupted)
    served = None
    if extras.inference_tokens is not None:
        served = serving_bill(resolver.catalog, result, extras.inference_tokens)
    return TrainReport(result, goodput=interrupted, serving=served, layout=joined)


def with_layout(
    catalog: Catalog,
    resolver: Resolver,
    request: Mapping[str, Any],
    fixed: Mapping[str, Any],
    batch: GlobalBatch | None = None,
    lost: tuple[float, str] | None = None,
) -> tuple[TrainResult, LayoutJoin]:
    """The run budgeted from a parallel layout: its tokens/s per GPU from the step model, times the
    goodput of the Llama 3 interruption model, instead of the empirical efficiency model, whose band
    stays beside it. `fixed` holds the degrees given (setups.parse_layout; none: searched on the run's
    GPUs); `lost` the hours lost per interruption and their source (lost_per_interruption_given)."""
    from llamacalc.estimates.layout import check_degrees, nothing_fits
    from llamacalc.goodput import goodput
    from llamacalc.layouts import default_sequences, problem_for, search
    from llamacalc.setups import network_cluster

    for key in ("mfu", "days"):
        if request.get(key) is not None:
            raise InputError(
                f"{named('layout')} and {named(key)} conflict: the layout gives the utilisation and the time"
            )
    layout = ",".join(f"{key}{value}" for key, value in fixed.items()) or "auto"
    degrees = math.prod(fixed.get(key, 1) for key in ("tp", "pp", "dp", "cp"))
    if all(key in fixed for key in ("tp", "pp", "dp")):
        if request.get("gpus") is not None or request.get("cluster") is not None:
            raise InputError(
                f"{named('layout')} with tp, pp and dp sets the GPU count; drop {named('gpus')} and {named('cluster')}"
            )
        request = {**request, "gpus": degrees}
    s = resolver.resolve(request, decided=("mfu", "days"))
    model = s.model
    if model is None or model.arch is None:
        raise InputError(
            f"{named('layout')} needs a model preset or {named('config')} with an architecture (layers, d_model, ...)"
        )
    if s.tokens is None:
        raise InputError(
            f"{named('layout')} needs the training tokens ({named('tokens')}) to turn throughput into time"
        )
    gpus_seen = s.assumptions["gpus"]
    if gpus_seen.origin == "default":
        raise InputError(
            f"{named('layout')} {layout} needs a GPU count: {named('gpus')}, {named('cluster')}, "
            "or degrees tp, pp and dp "
            f"({model.name} has no reported run or cluster to take one from)"
        )
    arch, gpus = model.arch, int(s.gpus or 0)
    given_seq = s.assumptions.get("seq_len")
    seq_len = int(given_seq.value) if given_seq is not None else arch.seq_len
    if not seq_len:
        raise InputError(f"{named('layout')}: the preset gives no training sequence length; pass {named('seq_len')}")
    check_degrees(arch, seq_len, fixed)
    if batch is not None:
        sequences, _ = batch.sequences(seq_len)
    else:
        sequences = model.global_batch or default_sequences(seq_len)
    chosen = catalog.cluster(request["cluster"]) if request.get("cluster") else None
    cluster = network_cluster(resolver, model, s.hardware, chosen)
    step_model = catalog.step_model()
    problem = problem_for(arch, seq_len, sequences, gpus, s.hardware, cluster, step_model, s.precision)
    found, tried, closest = search(problem, fixed, keep=1)
    if not found:
        raise InputError(f"{named('layout')}: " + nothing_fits(problem, fixed, tried, closest))
    best = found[0]
    per_token = s.flops / s.tokens  # the run's convention, per token
    steady = best.step.tokens_per_s_per_gpu * per_token / s.peak
    ideal_hours = s.tokens / (best.step.tokens_per_s_per_gpu * gpus) / units.HOUR
    lost_hours, lost_source = lost or lost_per_interruption_given(None)
    interrupted = goodput(gpus, ideal_hours, lost_hours)
    if not math.isfinite(interrupted.effective_hours):
        raise InputError(f"{named('layout')}: at this scale interruptions outpace progress; the run never finishes")
    end_to_end = steady * interrupted.fraction
    sigma = step_model.statistics.get("held_out_rms_log_error", 0.0)
    band = (end_to_end * math.exp(-Z90 * sigma), end_to_end * math.exp(Z90 * sigma))
    source = (
        f"derived: layout {best.step.layout.label()} by the step model (tokens/s per GPU), times goodput "
        f"{interrupted.fraction:.1%} ({lost_source}); range: the step model's held-out error"
    )
    mfu_seen = Assumption(end_to_end, "", "derived", source)
    resolved = dataclasses.replace(
        s, mfu=end_to_end, mfu_band=band, extrapolation=(),
        assumptions={**s.assumptions, "mfu": mfu_seen},
    )  # fmt: skip
    low, high = s.mfu_band
    gpus_from = (
        "the layout's degrees" if all(k in fixed for k in ("tp", "pp", "dp")) else gpus_seen.source or gpus_seen.origin
    )
    join = LayoutJoin(
        best, sequences, gpus_from, best.step.mfu, steady, interrupted, lost_hours, end_to_end,
        (low, s.mfu, high), source,
    )  # fmt: skip
    return train(resolved), join
