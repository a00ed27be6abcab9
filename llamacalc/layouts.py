"""The layout search: every way to split a run over its GPUs that fits in memory, fastest first.

A plain loop over divisors with pruning (STYLE.md): TP within one scale-up domain and dividing the
heads, CP in powers of two, PP any depth up to the layer count, DP what remains; then virtual stages,
micro-batch, ZeRO stage and recomputation. Each candidate is checked against memory first (cheap)
and timed by the step model (step.py) only if it fits. Degrees the user fixed are not searched.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from llamacalc.errors import InputError
from llamacalc.flops import expert_params, parameter_count
from llamacalc.footprint import Memory, memory_per_gpu, usable
from llamacalc.specs import Architecture, Cluster, Hardware, StepModel
from llamacalc.step import (
    Fabric,
    Layout,
    PassTimes,
    Step,
    compute_bound,
    fabric,
    layer_pass,
    step_time,
    token_flops,
)

# Assumption: Llama 3 405B's first batch stage, 4M tokens [S7 §3.4.1], for presets that publish no
# batch; read as 2^22, as Table 4's 16M is 2,048 sequences of 8,192 tokens (2^24).
DEFAULT_BATCH_TOKENS = 4 * 2**20
DEFAULT_BATCH_SOURCE = "assumption: 4M tokens, Llama 3's first batch stage [S7 §3.4.1]"
MICRO_BATCHES = (1, 2, 4, 8)
VIRTUAL_STAGES = (1, 2, 4, 8)
CONTEXT_PARALLEL = (1, 2, 4, 8, 16, 32)
MIN_CP_TOKENS = 1024


class Candidate(NamedTuple):
    """A layout with its step and memory."""

    step: Step
    memory: Memory
    capacity: float  # usable bytes per GPU

    @property
    def fits(self) -> bool:
        return self.memory.total <= self.capacity


class Problem(NamedTuple):
    """What a layout is sought for: one model, its size, one accelerator system, one batch."""

    arch: Architecture
    params: float
    experts: float
    seq_len: int
    global_batch: int  # sequences
    gpus: int
    hbm: float  # bytes per GPU
    fabric: Fabric
    model: StepModel
    precision: str


def problem_for(
    arch: Architecture,
    seq_len: int,
    global_batch: int,
    gpus: int,
    hardware: Hardware,
    cluster: Cluster | None,
    model: StepModel,
    precision: str,
) -> Problem:
    """The problem of one model on one accelerator system: parameters counted from the architecture,
    the fabric from the presets (the cluster's network where it has one)."""
    if hardware.memory is None:
        raise InputError(f"--gpu: {hardware.name} has no memory figure")
    return Problem(
        arch, parameter_count(arch), expert_params(arch), seq_len, global_batch, gpus, hardware.memory,
        fabric(hardware, cluster, precision), model, precision,
    )  # fmt: skip


def default_sequences(seq_len: int) -> int:
    """Sequences in the assumed global batch (DEFAULT_BATCH_TOKENS) of a preset that publishes none."""
    return max(1, DEFAULT_BATCH_TOKENS // seq_len)


def search(
    problem: Problem, fixed: Mapping[str, Any], keep: int = 5, *, must_fit: bool = True
) -> tuple[list[Candidate], int, Candidate | None]:
    """The `keep` fastest layouts that fit (any, fitting or not, without `must_fit`), the number of
    layouts tried, and the one closest to fitting (least memory) when none does.

    For each parallel shape and recomputation mode only the lowest ZeRO stage that fits is timed: a
    higher stage moves more data for the same compute. A micro-batch's pass through a layer depends
    only on TP, CP, EP, the micro-batch and the recomputation, so it is worked out once per search
    (one search times ~4,000 layouts of 405B on 16,384 GPUs; this keeps it under 50 ms).
    """
    capacity = usable(problem.hbm)
    per_token = {mode: token_flops(problem.arch, problem.seq_len, mode) for mode in ("none", "selective", "full")}
    passes: dict[tuple[Any, ...], PassTimes] = {}
    zeros, recomputes = _choices(fixed)
    found: list[Candidate] = []
    fastest: list[float] = []  # the `keep` fastest times yet, negated: a max-heap
    tried = 0
    closest: Candidate | None = None
    for shape in shapes(problem, fixed):
        m = problem.global_batch // (shape.dp * shape.micro_batch)
        if len(fastest) >= keep:  # already `keep` layouts faster than this one can be: skip it
            floor = compute_bound(
                problem.arch, problem.seq_len, problem.global_batch, shape, _pass(problem, shape, passes)
            )
            if floor > -fastest[0]:
                tried += len(zeros) * len(recomputes)
                continue
        if must_fit:  # the least memory this shape can take: if even that does not fit, nothing will
            least = shape._replace(zero=zeros[-1], recompute=recomputes[-1])
            memory = memory_per_gpu(problem.params, problem.arch, problem.seq_len, least, m, problem.experts)
            if memory.total > capacity:
                tried += len(zeros) * len(recomputes)
                if closest is None or memory.total < closest.memory.total:
                    closest = Candidate(_timed(problem, least, per_token, passes), memory, capacity)
                continue
        for recompute in recomputes:
            for zero in zeros:
                layout = shape._replace(zero=zero, recompute=recompute)
                tried += 1
                memory = memory_per_gpu(problem.params, problem.arch, problem.seq_len, layout, m, problem.experts)
                fits = memory.total <= capacity
                if must_fit and not fits:
                    if closest is None or memory.total < closest.memory.total:
                        closest = Candidate(_timed(problem, layout, per_token, passes), memory, capacity)
                    continue
                found.append(Candidate(_timed(problem, layout, per_token, passes), memory, capacity))
                heapq.heappush(fastest, -found[-1].step.time)
                if len(fastest) > keep:
                    heapq.heappop(fastest)
                break
    found.sort(key=lambda c: (c.step.time, c.memory.total))
    return found[:keep], tried, (None if found else closest)


def _timed(
    problem: Problem,
    layout: Layout,
    per_token: Mapping[str, tuple[float, float]],
    passes: dict[tuple[Any, ...], PassTimes],
) -> Step:
    layer = _pass(problem, layout, passes)
    return step_time(
        problem.arch, problem.params, problem.experts, problem.seq_len, problem.global_batch, layout,
        problem.fabric, problem.model, per_token[layout.recompute], layer=layer,
    )  # fmt: skip


def _pass(problem: Problem, layout: Layout, passes: dict[tuple[Any, ...], PassTimes]) -> PassTimes:
    """One micro-batch through one layer, worked out once per search for each TP, CP, EP, micro-batch
    and recomputation."""
    key = (layout.tp, layout.cp, layout.ep, layout.micro_batch, layout.recompute, layout.sequence_parallel)
    layer = passes.get(key)
    if layer is None:
        layer = passes[key] = layer_pass(problem.arch, problem.seq_len, layout, problem.fabric, problem.model)
    return layer


def _choices(fixed: Mapping[str, Any]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """ZeRO stages, cheapest first, and recomputation modes to try."""
    zeros = (fixed["zero"],) if "zero" in fixed else (1, 2, 3)
    unfused = fixed.get("attention") == "unfused"  # selective recomputation saves nothing under fused attention
    modes = ("none", "selective", "full") if unfused else ("none", "full")
    return zeros, (fixed["recompute"],) if "recompute" in fixed else modes


def candidates(problem: Problem, fixed: Mapping[str, Any]) -> Iterator[Layout]:
    """Every layout of `problem.gpus` GPUs consistent with `fixed` and with the model's shape."""
    zeros, recomputes = _choices(fixed)
    for shape in shapes(problem, fixed):
        for recompute in recomputes:
            for zero in zeros:
                yield shape._replace(zero=zero, recompute=recompute)


def shapes(problem: Problem, fixed: Mapping[str, Any]) -> Iterator[Layout]:
    """Every split of `problem.gpus` GPUs (degrees, micro-batch, virtual stages) consistent with
    `fixed` and with the model's shape; ZeRO and recomputation left at their defaults."""
    arch, gpus, batch = problem.arch, problem.gpus, problem.global_batch
    domain = problem.fabric.domain

    def options(key: str, default: tuple[Any, ...]) -> tuple[Any, ...]:
        return (fixed[key],) if key in fixed else default

    # widest TP first: for a large model those fit and run fast, so the search's floor prunes early
    tps = options("tp", tuple(t for t in reversed(_divisors(gpus)) if t <= domain and arch.heads % t == 0))
    # CP below 1,024 tokens a GPU is not searched: attention kernels on such short chunks lose an
    # efficiency the model does not capture (it can still be asked for with --cp)
    cps = options(
        "cp",
        tuple(
            c
            for c in CONTEXT_PARALLEL
            if c == 1 or problem.seq_len % (2 * c) == 0 and problem.seq_len // c >= MIN_CP_TOKENS
        ),
    )
    pps = options("pp", tuple(p for p in _divisors(gpus) if p <= arch.layers))
    eps = options("ep", _expert_degrees(arch))
    for tp in tps:
        for cp in cps:
            for pp in pps:
                if gpus % (tp * cp * pp):
                    continue
                dp = gpus // (tp * cp * pp)
                if "dp" in fixed and fixed["dp"] != dp:
                    continue
                for ep in eps:
                    if (dp * cp) % ep:
                        continue
                    for mb in options("micro_batch", MICRO_BATCHES):
                        if batch % (dp * mb):
                            continue
                        m = batch // (dp * mb)
                        for vp in options("vp", VIRTUAL_STAGES if pp > 1 else (1,)):
                            if vp > 1 and (m % pp or pp * vp > arch.layers):
                                continue
                            yield Layout(
                                tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vp=vp, micro_batch=mb,
                                precision=problem.precision, sequence_parallel=fixed.get("sequence_parallel", tp > 1),
                                attention=fixed.get("attention", "flash"),
                            )  # fmt: skip


def batch_width(
    arch: Architecture, params: float, seq_len: int, hbm: float, sequences: int, domain: int
) -> tuple[int, Layout] | None:
    """The GPUs that give each sequence of a global batch a model replica of its own: the smallest
    model-parallel group (TP within the scale-up domain, then PP) that holds the model at ZeRO-3 with
    one sequence a micro-batch, times the batch. None if no group of up to 128 pipeline stages does."""
    room = usable(hbm)
    groups = sorted(
        (tp * pp, tp, pp)
        for tp in (1, 2, 4, 8, 16, 32, 64)
        if tp <= domain and arch.heads % tp == 0
        for pp in (1, 2, 4, 8, 16, 32, 64, 128)
        if pp <= arch.layers
    )
    for _, tp, pp in groups:
        layout = Layout(tp=tp, pp=pp, dp=sequences, zero=3, sequence_parallel=tp > 1)
        if memory_per_gpu(params, arch, seq_len, layout, 1).total <= room:
            return tp * pp * sequences, layout
    return None


def _divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted({*small, *(n // d for d in small)}))


def _expert_degrees(arch: Architecture) -> tuple[int, ...]:
    if not arch.is_moe:
        return (1,)
    return tuple(e for e in _divisors(arch.experts) if e <= 64)
