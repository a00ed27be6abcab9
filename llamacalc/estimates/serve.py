"""The `serve` estimate: a replica under load — TTFT, TPOT, tokens/s per user and per GPU, $/M tokens.

A continuous-batching iteration (serving.py) is timed from the architecture, the accelerator's
fabric and the step model's collectives (step.py). Four constants turn its parts into seconds:
`compute` scales the compute-bound kernels (1/compute: the share of the measured GEMM ceiling a
serving stack holds), `half_rate` is the token count at which a GEMM reaches half that rate,
`memory` scales the bandwidth-bound kernels (1/memory: the share of the HBM peak), and `kernel` is a
fixed cost per kernel launch. They are fitted, by least squares on the relative error of the time per
iteration, to the published serving runs (the `serving` presets, which a user can extend), bounded to
be physical (neither fraction above 1, no negative cost), each GEMM bound by whichever roof is
slower under the fitted factors (refitted to a fixed point). The spread of each run's error with that
run left out gives the P10–P90 range. The published runs are all one vendor's stacks (TensorRT-LLM
and NVIDIA NIM), so a GPU none of them used is shown as an extrapolation.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from llamacalc import units
from llamacalc.catalog import Catalog
from llamacalc.efficiency import Z90
from llamacalc.errors import InputError, PresetError, named, prefixed
from llamacalc.inputs import Assumption
from llamacalc.serving import (
    BYTES,
    MAX_ITERATION_TOKENS,
    NOMINAL,
    Bounds,
    Iteration,
    Replica,
    iteration,
    kv_bytes_per_token,
    kv_capacity,
    max_concurrency,
    steady,
    weight_bytes,
)
from llamacalc.setups import ServeSetup
from llamacalc.specs import Architecture, Hardware, StepModel


def default_kv(precision: str) -> str:
    """The KV cache's elements: FP8 beside FP8 or FP4 weights (as NVIDIA's quantized checkpoints
    store it), INT8 beside INT8, else BF16."""
    return {"fp8": "fp8", "fp4": "fp8", "int8": "int8"}.get(precision, "bf16")


def over_network(hardware: Hardware, tp: int) -> bool:
    """Whether a replica's TP group spans more GPUs than one scale-up (NVLink) domain holds."""
    return tp > (hardware.scale_up_domain or 0)


def replica(hardware: Hardware, arch: Architecture, cal: StepModel, precision: str, kv: str, tp: int,
            ep: int = 1) -> Replica:  # fmt: skip
    """A replica of `tp` GPUs, its fabric from the step model (FP4 and INT8 GEMMs borrow the fabric of
    FP8 and BF16, whose achievable fractions they take)."""
    from llamacalc.step import fabric

    if hardware.memory is None:
        raise InputError(f"{named('gpu')}: {hardware.name} has no memory figure; serving needs one for the KV cache")
    hardware.peak(precision)  # a clear error when the GPU has no such peak
    base = {"fp4": "fp8", "int8": "bf16"}.get(precision, precision)
    f = fabric(hardware, None, base if base in hardware.peaks else "bf16", network=over_network(hardware, tp))
    return Replica(arch, f, cal, hardware.memory, tp, ep, precision, kv)


# --- the calibration ------------------------------------------------------------------------------


class Measured(NamedTuple):
    """A published serving run: a model on a replica at a load, and its output tokens/s."""

    name: str
    title: str
    model: str
    gpu: str  # a hardware preset
    replica: Replica
    input: int
    output: int
    concurrency: int  # the load it ran at: 1, or the most the KV cache allows
    tokens_per_s: float  # output tokens/s of the whole replica
    group: str  # the citation tag: its source, left out together when testing out of sample


def measured(catalog: Catalog) -> list[Measured]:
    """Every `serving` preset, on the replica it names, at the concurrency it ran."""
    cal = catalog.step_model()
    found = []
    for name in catalog.names("serving"):
        entry = catalog.serving(name)
        fields = entry.fields
        model = catalog.model(str(fields["model"]))
        hardware = catalog.hardware(str(fields["accelerator"]))
        if model.arch is None:
            raise PresetError(f"{entry.where('model')}: {model.name} has no architecture; serving needs one")
        precision, tp = str(fields["precision"]), int(fields["tp"])
        inp, out = int(fields["input"]), int(fields["output"])
        with prefixed(entry.where("accelerator")):
            r = replica(hardware, model.arch, cal, precision, default_kv(precision), tp)
        load = 1 if fields["concurrency"] == 1 else max_concurrency(r, inp, out)
        if load < 1:
            raise PresetError(f"{entry.where('input')}: {inp + out:,} tokens do not fit {tp} {hardware.name}")
        tags = re.findall(r"\[(S\d+[a-z]?)", str(fields["source"]))
        found.append(
            Measured(
                name,
                entry.title,
                model.name,
                hardware.name,
                r,
                inp,
                out,
                load,
                float(fields["tokens_per_s"]),
                tags[0] if tags else str(fields["source"]),
            )  # fmt: skip
        )
    return found


@dataclass(frozen=True)
class Calibration:
    """Seconds of an iteration = compute·(C + m½·ramp) + memory·M + TP + kernel·launches; its spread (ln σ)."""

    compute: float
    memory: float
    half_rate: float  # m½: tokens at which a GEMM reaches half its large-GEMM rate
    kernel: float  # s per kernel launch
    sigma: float  # of ln(predicted / measured), each run left out of the fit in turn
    runs: int
    accelerators: frozenset[str]  # what the runs were measured on: anything else is extrapolation

    @property
    def constants(self) -> Constants:
        return (self.compute, self.memory, self.compute * self.half_rate, self.kernel)

    @property
    def bounds(self) -> Bounds:
        return (self.compute, self.memory, self.half_rate)

    def time(self, it: Iteration) -> float:
        return _predicted_time(self.constants, it)


Constants = tuple[float, float, float, float]  # the coefficients of C, M, ramp and launches
Point = tuple[Iteration, float]  # an iteration and the measured seconds per iteration
LOWER: Constants = (1.0, 1.0, 0.0, 0.0)  # no stack beats the measured GEMM ceiling or the HBM peak


def _columns(it: Iteration) -> Constants:
    return (it.compute, it.memory, it.ramp, it.kernels)


def _predicted_time(constants: Constants, it: Iteration) -> float:
    return sum(c * x for c, x in zip(constants, _columns(it), strict=True)) + it.communication


def fit(points: Sequence[Point]) -> Constants:
    """The coefficients minimising Σ (predicted / measured time − 1)² within LOWER: linear least
    squares, each bound tried active or not."""
    xs = [[x / y for x in _columns(it)] for it, y in points]
    targets = [1 - it.communication / y for it, y in points]
    n = len(LOWER)
    best: tuple[float, list[float]] | None = None
    for mask in range(2**n):
        fixed = {i: LOWER[i] for i in range(n) if mask >> i & 1}
        free = [i for i in range(n) if i not in fixed]
        ys = [t - sum(x[i] * v for i, v in fixed.items()) for x, t in zip(xs, targets, strict=True)]
        solved = _least_squares([[x[i] for i in free] for x in xs], ys)
        if solved is None:
            continue
        theta = [fixed.get(i, 0.0) for i in range(n)]
        for i, v in zip(free, solved, strict=True):
            theta[i] = v
        if any(theta[i] < LOWER[i] - 1e-12 for i in range(n)):
            continue
        loss = sum(
            (sum(a * b for a, b in zip(x, theta, strict=True)) - t) ** 2 for x, t in zip(xs, targets, strict=True)
        )
        if best is None or loss < best[0]:
            best = (loss, theta)
    if best is None:
        raise InputError("serve: the published serving runs do not determine the model's constants")
    compute, memory, ramp, kernel = best[1]
    return (compute, memory, ramp, kernel)


def _least_squares(x: list[list[float]], y: list[float]) -> list[float] | None:
    """Normal equations, solved by Gaussian elimination; None when singular."""
    n = len(x[0]) if x else 0
    if n == 0:
        return []
    a = [[sum(r[i] * r[j] for r in x) for j in range(n)] + [sum(r[i] * v for r, v in zip(x, y, strict=True))]
         for i in range(n)]  # fmt: skip
    for col in range(n):
        pivot = max(range(col, n), key=lambda row: abs(a[row][col]))
        if abs(a[pivot][col]) < 1e-300:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for row in range(n):
            if row != col:
                ratio = a[row][col] / a[col][col]
                a[row] = [u - ratio * v for u, v in zip(a[row], a[col], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def points(runs: Sequence[Measured], bounds: Bounds = NOMINAL) -> list[Point]:
    return [(steady(m.replica, m.concurrency, m.input, m.output, bounds), m.concurrency / m.tokens_per_s)
            for m in runs]  # fmt: skip


def fitted(runs: Sequence[Measured]) -> tuple[Constants, list[Point]]:
    """The constants, with each GEMM's bound decided by them: refitted until the bounds hold still
    (a fixed point, reached in a few rounds), and the runs' iterations under them."""
    bounds = NOMINAL
    for _ in range(FIXED_POINT_ROUNDS):
        found = points(runs, bounds)
        constants = fit(found)
        moved = (constants[0], constants[1], constants[2] / constants[0])
        if all(abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in zip(moved, bounds, strict=True)):
            break
        bounds = moved
    return constants, found


FIXED_POINT_ROUNDS = 20


def calibration(catalog: Catalog) -> Calibration:
    """The constants fitted to every published serving run; the spread from each left out in turn."""
    runs = measured(catalog)
    if len(runs) < 5:
        raise InputError("serve needs five or more published serving runs (presets of kind 'serving') to fit")
    (compute, memory, ramp, kernel), found = fitted(runs)
    held_out = [_predicted_time(fit(found[:i] + found[i + 1 :]), it) / y for i, (it, y) in enumerate(found)]
    sigma = statistics.pstdev(math.log(r) for r in held_out)
    return Calibration(compute, memory, ramp / compute, kernel, sigma, len(runs), frozenset(m.gpu for m in runs))


# --- a load ---------------------------------------------------------------------------------------


class Load(NamedTuple):
    """A replica at a concurrency: its latencies and throughput."""

    concurrency: int
    ttft: float  # s: the iteration(s) that prefill a new request's prompt beside the running batch
    tpot: float  # s: one steady-state iteration
    iteration: Iteration

    @property
    def tokens_per_s(self) -> float:
        """Output tokens/s of the replica: every running sequence decodes one token an iteration."""
        return self.concurrency / self.tpot

    @property
    def tokens_per_s_per_user(self) -> float:
        return 1 / self.tpot


def load(r: Replica, cal: Calibration, concurrency: int, inp: int, out: int) -> Load:
    """Concurrency B in steady state; a new prompt is chunked into iterations of at most the token budget."""
    it = steady(r, concurrency, inp, out, cal.bounds)
    budget = max(1, MAX_ITERATION_TOKENS - concurrency)
    chunks = math.ceil(inp / budget)
    first = iteration(r, concurrency, max(inp / chunks, it.prefill), inp + out / 2, inp, cal.bounds)
    return Load(concurrency, chunks * cal.time(first), cal.time(it), it)


def best_load(r: Replica, cal: Calibration, largest: int, inp: int, out: int, tpot: float | None,
              ttft: float | None) -> Load:  # fmt: skip
    """The highest-throughput load meeting the latency targets: the largest concurrency that does (both
    latencies grow with the batch). Refuses, naming the best latency possible, when even one request
    misses them."""

    def meets(candidate: Load) -> bool:
        return (tpot is None or candidate.tpot <= tpot) and (ttft is None or candidate.ttft <= ttft)

    lone = load(r, cal, 1, inp, out)
    if not meets(lone):
        missed = [f"{named('max_tpot')} {_ms(tpot)}" if tpot is not None and lone.tpot > tpot else "",
                  f"{named('max_ttft')} {_ms(ttft)}" if ttft is not None and lone.ttft > ttft else ""]  # fmt: skip
        raise InputError(
            f"{' and '.join(m for m in missed if m)}: no load meets it; the best possible is a TPOT of "
            f"{_ms(lone.tpot)} and a TTFT of {_ms(lone.ttft)}, at concurrency 1; raise {named('tp')}"
            + "".join(f" or serve in {named('precision')} {p}" for p in _lighter(r)[:1])
        )
    low, high = 1, largest
    while low < high:
        mid = (low + high + 1) // 2
        if meets(load(r, cal, mid, inp, out)):
            low = mid
        else:
            high = mid - 1
    return load(r, cal, low, inp, out)


def _lighter(r: Replica) -> list[str]:
    """Precisions with fewer bytes a weight than the replica's that its GPUs have a peak for."""
    return [p for p in ("fp8", "fp4") if BYTES[p] < BYTES[r.precision] and p in r.fabric.peaks]


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1e3:,.3g} ms" if seconds < 1 else f"{seconds:,.3g} s"


# --- the estimate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """A model served on a replica, and the requests it serves."""

    arch: Architecture
    hardware: Hardware
    precision: str
    kv: str
    tp: int
    ep: int
    input: int
    output: int


@dataclass(frozen=True)
class ServeEstimate:
    """What `serve` reports: the load, its latencies and throughput with their range, GPUs and price."""

    SCHEMA = "serve"  # its document's JSON Schema (llamacalc schema serve)

    model: str
    setting: Setting
    weight_bytes: float  # the replica's
    kv_bytes_per_token: float  # the replica's, all GPUs
    kv_tokens: float  # tokens of context the replica's KV cache holds
    max_concurrency: int
    load: Load
    tokens_per_s: Mapping[str, float]  # the replica's output tokens/s: p10, p50, p90
    tokens_per_day: float | None
    gpus: Mapping[str, int] | None  # for tokens_per_day, in whole replicas: p10, p50, p90
    price: float | None  # USD per GPU-second
    calibration: Calibration
    max_tpot: float | None = None
    max_ttft: float | None = None
    assumptions: Mapping[str, Assumption] = dataclasses.field(default_factory=dict)  # each input's origin

    @property
    def parts(self) -> dict[str, float]:
        """The TPOT (one iteration) by what takes it: sums to `load.tpot`."""
        c, it = self.calibration, self.load.iteration
        return {"compute": c.compute * (it.compute + c.half_rate * it.ramp), "memory": c.memory * it.memory,
                "tp": it.communication, "kernels": c.kernel * it.kernels}  # fmt: skip

    @property
    def over_network(self) -> bool:
        """The replica's TP all-reduces cross the network (more GPUs than one scale-up domain)."""
        return over_network(self.setting.hardware, self.setting.tp)

    @property
    def bound(self) -> str:
        """What limits the iteration most: compute, memory (HBM), TP or kernel launches."""
        return max(self.parts, key=lambda k: self.parts[k])

    @property
    def peak(self) -> float:
        """The dense FLOP/s of the weights' precision on one GPU."""
        return self.setting.hardware.peak(self.setting.precision)

    @property
    def peak_source(self) -> str:
        return self.setting.hardware.entry.source_of(f"peak_{self.setting.precision}")

    @property
    def extrapolated(self) -> bool:
        """Served on an accelerator none of the calibration runs used."""
        return self.setting.hardware.name not in self.calibration.accelerators

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.tokens_per_s["p50"] / self.setting.tp

    @property
    def usd_per_million_tokens(self) -> Mapping[str, float] | None:
        """$/M output tokens: the P10 cost at the P90 throughput."""
        if self.price is None:
            return None
        per = {k: self.price * self.setting.tp / v * 1e6 for k, v in self.tokens_per_s.items()}
        return {"p10": per["p90"], "p50": per["p50"], "p90": per["p10"]}


def estimate_serve(catalog: Catalog, setup: ServeSetup) -> ServeEstimate:
    """Serve a model with an architecture on a GPU (setups.serve_setup): a replica at a load, or at the
    best load meeting latency targets."""
    model, hardware, precision, ep = setup.model, setup.hardware, setup.precision, setup.ep
    arch = model.arch
    assert arch is not None
    kv = setup.kv or default_kv(precision)
    inp, out = setup.input, setup.output
    cal = catalog.step_model()
    if ep > 1 and (not arch.is_moe or arch.experts % ep):
        raise InputError(
            f"{named('ep')}: {model.name} has {arch.experts} experts; {named('ep')} must divide them (an MoE only)"
        )
    tp = setup.tp or _fewest_gpus(hardware, arch, cal, precision, kv, ep, inp + out)
    if arch.heads % tp:
        raise InputError(
            f"{named('tp')}: {tp} does not divide {model.name}'s {arch.heads} attention heads; try "
            + ", ".join(str(d) for d in range(1, arch.heads + 1) if arch.heads % d == 0 and d <= 64)
        )
    if tp % ep:
        raise InputError(
            f"{named('ep')}: {ep} must divide {named('tp')} {tp}: the experts are split over the replica's GPUs"
        )
    r = replica(hardware, arch, cal, precision, kv, tp, ep)
    largest = max_concurrency(r, inp, out)
    if largest < 1:
        raise InputError(
            f"{named('tp')}: {tp} × {hardware.name} cannot hold {model.name}'s {precision} weights and one "
            f"{inp + out:,}-token request; raise {named('tp')}"
        )
    calibrated = calibration(catalog)
    if setup.max_tpot is not None or setup.max_ttft is not None:
        at = best_load(r, calibrated, largest, inp, out, setup.max_tpot, setup.max_ttft)
    else:
        concurrency = setup.concurrency or largest
        if concurrency > largest:
            raise InputError(f"{named('batch')}: at most {largest:,} requests of {inp + out:,} tokens fit on {tp} GPUs")
        at = load(r, calibrated, concurrency, inp, out)
    spread = math.exp(Z90 * calibrated.sigma)
    p50 = at.tokens_per_s
    band = {"p10": p50 / spread, "p50": p50, "p90": p50 * spread}
    demand = setup.tokens_per_day
    gpus = None
    if demand is not None:
        gpus = {
            k: tp * max(1, math.ceil(demand / (band[q] * units.DAY)))
            for k, q in (("p10", "p90"), ("p50", "p50"), ("p90", "p10"))
        }
    price = setup.price if setup.price is not None else hardware.price
    return ServeEstimate(
        model.name, Setting(arch, hardware, precision, kv, tp, ep, inp, out), weight_bytes(arch, precision),
        kv_bytes_per_token(arch, kv, tp) * tp, kv_capacity(r), largest, at, band, demand, gpus,
        price, calibrated, setup.max_tpot, setup.max_ttft, setup.assumptions,
    )  # fmt: skip


def _fewest_gpus(hardware: Hardware, arch: Architecture, cal: StepModel, precision: str, kv: str, ep: int,
                 context: int) -> int:  # fmt: skip
    """The fewest GPUs that hold the weights and at least one request: a power of two, as deployments
    choose, else any degree; each divides the attention heads and is a multiple of `ep`."""
    degrees = [tp for tp in range(ep, arch.heads + 1, ep) if arch.heads % tp == 0]
    for tp in sorted(degrees, key=lambda tp: (tp & (tp - 1) != 0, tp)):
        if max_concurrency(replica(hardware, arch, cal, precision, kv, tp, ep), context - 1, 1) >= 1:
            return tp
    raise InputError(
        f"{named('tp')}: no tensor-parallel degree holds the model and one {context:,}-token request on "
        f"{hardware.name}; shorten {named('input_tokens')} or {named('output_tokens')}"
    )


# --- the backtest ---------------------------------------------------------------------------------


class ServingRow(NamedTuple):
    """One published run beside its prediction, in sample and with runs like it left out of the fit."""

    run: Measured
    predicted: float  # output tokens/s, all runs fitted
    held_out: Mapping[str, float]  # with the run alone ("run") or its source's table, model or GPU left out

    @property
    def error(self) -> float:
        return self.predicted / self.run.tokens_per_s - 1

    @property
    def held_out_error(self) -> float:
        """With the run's source table (its citation tag and model) left out of the fit."""
        return self.held_out["table"] / self.run.tokens_per_s - 1

    def error_without(self, left_out: str) -> float:
        return self.held_out[left_out] / self.run.tokens_per_s - 1


@dataclass(frozen=True)
class ServingBacktest:
    """`serve --backtest`: every published serving run predicted, and the fitted constants."""

    SCHEMA = "serving-backtest"  # its document's JSON Schema (llamacalc schema serving-backtest)

    rows: tuple[ServingRow, ...]
    calibration: Calibration

    def summary(self, rows: Sequence[ServingRow] | None = None) -> dict[str, float]:
        chosen = self.rows if rows is None else rows
        errors = [abs(r.error) for r in chosen]
        found = {
            "runs": len(chosen),
            "median_abs_error": statistics.median(errors),
            "max_abs_error": max(errors),
            "within_30pct": sum(e <= 0.30 for e in errors) / len(errors),
        }
        for left_out, name in (("table", "held_out"), ("run", "left_out"), ("model", "model_held_out"),
                               ("gpu", "gpu_held_out")):  # fmt: skip
            held = [abs(r.error_without(left_out)) for r in chosen]
            found[f"{name}_median_abs_error"] = statistics.median(held)
            found[f"{name}_max_abs_error"] = max(held)
        return found


def backtest_serving(catalog: Catalog) -> ServingBacktest:
    """Each published serving run predicted by the constants fitted to all of them; and to all but
    itself, all but its source table's runs (a citation tag and a model: one table of a page), its
    model's, or its GPU's. A group leaving fewer runs than constants is not left out. The held-out fits
    keep each GEMM's bound as the full fit decides it (one fixed point, not one per fit)."""
    runs = measured(catalog)
    constants, found = fitted(runs)
    keys: dict[str, Callable[[Measured], Any]] = {
        "table": lambda m: (m.group, m.model),
        "model": lambda m: m.model,
        "gpu": lambda m: m.gpu,
    }
    rows = []
    for i, (m, (it, _)) in enumerate(zip(runs, found, strict=True)):
        fits = {"run": fit(found[:i] + found[i + 1 :])}
        for left_out, key in keys.items():
            others = [p for n, p in zip(runs, found, strict=True) if key(n) != key(m)]
            fits[left_out] = fit(others) if len(others) >= len(LOWER) else constants
        held = {name: m.concurrency / _predicted_time(c, it) for name, c in fits.items()}
        rows.append(ServingRow(m, m.concurrency / _predicted_time(constants, it), held))
    return ServingBacktest(tuple(rows), calibration(catalog))
