"""The `serve` estimate: throughput of a model on a replica of GPUs, the GPUs a demand needs, $/M tokens.

A request of I input and O output tokens costs a prefill (I tokens at the compute peak × PREFILL_MFU)
and O decode steps at the roofline (serving.decode_step), at the average context I + O/2. The
roofline is an upper bound: measured throughputs (the `serving` presets: NVIDIA NIM at concurrency 1,
TensorRT-LLM at maximum load) reach a fraction of it. That fraction, measured per regime on the
published runs, derates the bound — at batch 1 the latency runs', at the largest batch that fits the
maximum-load runs', and between them interpolated in log batch — and the spread of the maximum-load
runs' fractions gives the P10-P90 range. It is a calibration on a handful of runs of one stack and
one accelerator, and is shown as such.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.catalog import Catalog
from llamacalc.efficiency import Z90
from llamacalc.errors import InputError, PresetError, prefixed
from llamacalc.inputs import DEFAULTS, INPUTS
from llamacalc.serving import BYTES, Step, decode_step, forward_flops, kv_bytes_per_token, max_batch, weight_bytes
from llamacalc.specs import Architecture, Hardware

PREFILL_MFU = 0.5  # assumption: Sardana et al. 2024's default prefill MFU (cost_optimal.py), here on the peak
MAX_TOKENS = 1e20  # a day's or a lifetime's serving: a hundred quintillion is far past any demand


@dataclass(frozen=True)
class Setting:
    """A model served on a replica: its shape, precision, GPUs per replica, request shape, batch."""

    arch: Architecture
    hardware: Hardware
    precision: str
    tp: int
    input: int
    output: int
    batch: int

    @property
    def context(self) -> float:
        """Average tokens a decode step attends to over a request's output."""
        return self.input + self.output / 2


def roofline(s: Setting) -> tuple[float, Step]:
    """Output tokens per second of the replica at the roofline (prefill, then decode steps), and the step."""
    peak = s.hardware.peak(s.precision) * s.tp
    assert s.hardware.bandwidth is not None
    prefill = s.batch * s.input * forward_flops(s.arch, s.input / 2) / (peak * PREFILL_MFU)
    step = decode_step(s.arch, s.precision, s.batch, s.context, s.hardware.bandwidth * s.tp, peak)
    return s.batch * s.output / (prefill + s.output * step.seconds), step


def bound_tokens_per_s(s: Setting) -> float:
    return roofline(s)[0]


@dataclass(frozen=True)
class Derating:
    """Measured / roofline, at batch 1 and at maximum load, with the spread of the latter (ln σ)."""

    latency: float
    throughput: float
    sigma: float
    runs: int
    accelerators: frozenset[str]  # what the runs were measured on: anything else is extrapolation

    def at(self, batch: int, largest: int) -> float:
        if batch <= 1 or largest <= 1:
            return self.latency
        share = min(1.0, math.log(batch) / math.log(largest))
        return math.exp((1 - share) * math.log(self.latency) + share * math.log(self.throughput))


def derating(catalog: Catalog) -> Derating:
    """The fractions of the roofline the published serving runs reached, by regime."""
    latency: list[float] = []
    throughput: list[float] = []
    measured_on = set()
    for name in catalog.names("serving"):
        entry = catalog.serving(name)
        fields = entry.fields
        model = catalog.model(str(fields["model"]))
        hardware = catalog.hardware(str(fields["accelerator"]))
        measured_on.add(hardware.name)
        if model.arch is None or hardware.bandwidth is None or hardware.memory is None:
            raise InputError(f"serving.{name}: needs a model with an architecture and a GPU with memory and bandwidth")
        tp, inp, out = int(fields["tp"]), int(fields["input"]), int(fields["output"])
        precision = str(fields["precision"])
        load = fields["concurrency"]
        batch = 1 if load == 1 else max_batch(model.arch, precision, hardware.memory * tp, inp + out)
        if batch < 1:
            where, tokens = entry.where("input"), inp + out
            raise PresetError(f"{where}: {tokens:,} tokens do not fit {tp} {hardware.name} beside the weights")
        bound = bound_tokens_per_s(Setting(model.arch, hardware, precision, tp, inp, out, batch))
        (latency if load == 1 else throughput).append(float(fields["tokens_per_s"]) / bound)
    if not latency or len(throughput) < 2:
        raise InputError("serve needs published serving runs: one at concurrency 1, two or more at maximum load")
    logs = [math.log(r) for r in throughput]
    return Derating(
        math.exp(statistics.fmean(math.log(r) for r in latency)), math.exp(statistics.fmean(logs)),
        statistics.stdev(logs), len(latency) + len(throughput), frozenset(measured_on),
    )  # fmt: skip


@dataclass(frozen=True)
class ServeEstimate:
    """What `serve` reports: per-token costs, memory, throughput with its range, GPUs and price."""

    model: str
    setting: Setting
    flops_per_token: float
    weight_bytes: float
    kv_bytes_per_token: float
    max_batch: int
    bound_tokens_per_s: float  # the replica's roofline
    derate: float
    tokens_per_s: Mapping[str, float]  # the replica's decode output tokens/s: p10, p50, p90
    prefill_tokens_per_s_per_gpu: float
    bandwidth_bound: bool
    tokens_per_day: float | None
    gpus: int | None  # for tokens_per_day, in whole replicas
    price: float | None  # USD per GPU-second
    calibration: Derating

    @property
    def extrapolated(self) -> bool:
        """Served on an accelerator none of the calibration runs used."""
        return self.setting.hardware.name not in self.calibration.accelerators

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.tokens_per_s["p50"] / self.setting.tp

    @property
    def usd_per_million_tokens(self) -> float | None:
        if self.price is None:
            return None
        return self.price * self.setting.tp / self.tokens_per_s["p50"] * 1e6


def estimate_serve(catalog: Catalog, model_name: str, options: Mapping[str, Any]) -> ServeEstimate:
    """Serve a preset with an architecture on a GPU preset: the throughput a replica reaches."""
    model = catalog.model(model_name)
    if model.arch is None:
        raise InputError(f"MODEL: {model.name} has no architecture (layers, d_model, ...): serving needs one")
    arch = model.arch
    gpu = options.get("gpu") or (model.reported.gpu if model.reported and model.reported.gpu else None)
    hardware = catalog.hardware(str(gpu or DEFAULTS["gpu"].value))
    if hardware.memory is None or hardware.bandwidth is None:
        raise InputError(f"--gpu: {hardware.name} has no memory or bandwidth figure; serving needs both")
    precision = options.get("precision") or "bf16"
    if precision not in BYTES:
        raise InputError(f"--precision: expected one of {', '.join(BYTES)}, got '{precision}'")
    hardware.peak(precision)  # a clear error when the GPU has no such peak
    inp, out = _whole(options, "input_tokens", 1000), _whole(options, "output_tokens", 1000)
    tp = _whole(options, "tp", 0) or _fewest_gpus(arch, precision, hardware.memory, inp + out)
    largest = max_batch(arch, precision, hardware.memory * tp, inp + out)
    if largest < 1:
        raise InputError(
            f"--tp: {tp} × {hardware.name} cannot hold {model.name}'s {precision} weights and one "
            f"{inp + out:,}-token sequence; raise --tp"
        )
    batch = largest if options.get("batch") in (None, "max") else _whole(options, "batch", 1)
    if batch > largest:
        raise InputError(f"--batch: at most {largest:,} sequences of {inp + out:,} tokens fit on {tp} GPUs")
    setting = Setting(arch, hardware, precision, tp, inp, out, batch)
    calibration = derating(catalog)
    bound, step = roofline(setting)
    derate = calibration.at(batch, largest)
    p50 = bound * derate
    spread = math.exp(Z90 * calibration.sigma)
    per_day = options.get("tokens_per_day")
    demand = None
    if per_day is not None:
        with prefixed("--tokens-per-day"):
            demand = units.parse_count(per_day, "a token count")
        if demand > MAX_TOKENS:
            raise InputError(f"--tokens-per-day: at most {MAX_TOKENS:.0e}, got '{per_day}'")
    peak = hardware.peak(precision)
    price = options.get("price")
    if price is not None:
        with prefixed("--price"):
            price = INPUTS["price"].parse(price)
    return ServeEstimate(
        model.name, setting, forward_flops(arch, setting.context), weight_bytes(arch, precision),
        kv_bytes_per_token(arch, precision), largest, bound, derate,
        {"p10": p50 / spread, "p50": p50, "p90": min(bound, p50 * spread)},
        peak * PREFILL_MFU / forward_flops(arch, inp / 2), step.bandwidth_bound, demand,
        None if demand is None else tp * math.ceil(demand / (p50 * units.DAY)),
        price if price is not None else hardware.price, calibration,
    )  # fmt: skip


def _whole(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key)
    if value is None:
        return default
    with prefixed("--" + key.replace("_", "-")):
        return units.parse_whole(value, "a whole number")


def _fewest_gpus(arch: Architecture, precision: str, memory: float, context: int) -> int:
    """The fewest GPUs, a power of two, that hold the weights and at least one sequence."""
    tp = 1
    while max_batch(arch, precision, memory * tp, context) < 1:
        tp *= 2
        if tp > 4096:
            raise InputError("no tensor-parallel degree up to 4,096 holds this model; check the GPU's memory")
    return tp
