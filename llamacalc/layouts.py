"""The layout search: every way to split a run over its GPUs that fits in memory, fastest first.

A plain loop over divisors with pruning (STYLE.md): TP within one scale-up domain and dividing the
heads, CP in powers of two, PP any depth up to the layer count, DP what remains; then virtual stages,
micro-batch, ZeRO stage and recomputation. Each candidate is checked against memory first (cheap)
and timed by the step model (step.py) only if it fits. Degrees the user fixed are not searched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from llamacalc.memory import Memory, memory_per_gpu, usable
from llamacalc.specs import Architecture, StepModel
from llamacalc.step import Fabric, Layout, Step, step_time, token_flops

MICRO_BATCHES = (1, 2, 4, 8)
VIRTUAL_STAGES = (1, 2, 4, 8)
CONTEXT_PARALLEL = (1, 2, 4, 8, 16, 32)
SEARCHED = ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "zero", "recompute")


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


def evaluate(problem: Problem, layout: Layout) -> Candidate:
    """One layout's step and memory."""
    m = problem.global_batch // (layout.dp * layout.micro_batch)
    step = step_time(
        problem.arch, problem.params, problem.experts, problem.seq_len, problem.global_batch, layout,
        problem.fabric, problem.model,
    )  # fmt: skip
    memory = memory_per_gpu(problem.params, problem.arch, problem.seq_len, layout, m)
    return Candidate(step, memory, usable(problem.hbm))


def search(
    problem: Problem, fixed: Mapping[str, Any], keep: int = 5, *, must_fit: bool = True
) -> tuple[list[Candidate], int, Candidate | None]:
    """The `keep` fastest layouts that fit (any, fitting or not, without `must_fit`), the number of
    layouts tried, and the one closest to fitting (least memory) when none does."""
    capacity = usable(problem.hbm)
    per_token = {mode: token_flops(problem.arch, problem.seq_len, mode) for mode in ("none", "selective", "full")}
    found: list[Candidate] = []
    tried = 0
    closest: Candidate | None = None
    for layout in candidates(problem, fixed):
        tried += 1
        m = problem.global_batch // (layout.dp * layout.micro_batch)
        memory = memory_per_gpu(problem.params, problem.arch, problem.seq_len, layout, m)
        if must_fit and memory.total > capacity:
            if closest is None or memory.total < closest.memory.total:
                closest = Candidate(_timed(problem, layout, per_token), memory, capacity)
            continue
        found.append(Candidate(_timed(problem, layout, per_token), memory, capacity))
    found.sort(key=lambda c: (c.step.time, c.memory.total))
    return found[:keep], tried, (None if found else closest)


def _timed(problem: Problem, layout: Layout, per_token: Mapping[str, tuple[float, float]]) -> Step:
    return step_time(
        problem.arch, problem.params, problem.experts, problem.seq_len, problem.global_batch, layout,
        problem.fabric, problem.model, per_token[layout.recompute],
    )  # fmt: skip


def candidates(problem: Problem, fixed: Mapping[str, Any]) -> Iterator[Layout]:
    """Every layout of `problem.gpus` GPUs consistent with `fixed` and with the model's shape."""
    arch, gpus, batch = problem.arch, problem.gpus, problem.global_batch
    domain = problem.fabric.domain

    def options(key: str, default: tuple[Any, ...]) -> tuple[Any, ...]:
        return (fixed[key],) if key in fixed else default

    tps = options("tp", tuple(t for t in _divisors(gpus) if t <= domain and arch.heads % t == 0))
    cps = options("cp", tuple(c for c in CONTEXT_PARALLEL if problem.seq_len % (2 * c) == 0 or c == 1))
    pps = options("pp", tuple(p for p in _divisors(gpus) if p <= arch.layers))
    eps = options("ep", _expert_degrees(arch))
    zeros = options("zero", (1, 2, 3))
    unfused = fixed.get("attention") == "unfused"  # selective recomputation saves nothing under fused attention
    recomputes = options("recompute", ("none", "selective", "full") if unfused else ("none", "full"))
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
                        vps = options("vp", VIRTUAL_STAGES if pp > 1 else (1,))
                        for vp in vps:
                            if vp > 1 and (m % pp or pp * vp > arch.layers):
                                continue
                            for zero in zeros:
                                for recompute in recomputes:
                                    yield Layout(
                                        tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vp=vp, micro_batch=mb, zero=zero,
                                        recompute=recompute, precision=problem.precision,
                                        sequence_parallel=fixed.get("sequence_parallel", tp > 1),
                                        attention=fixed.get("attention", "flash"),
                                    )  # fmt: skip


def _divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted({*small, *(n // d for d in small)}))


def _expert_degrees(arch: Architecture) -> tuple[int, ...]:
    if not arch.is_moe:
        return (1,)
    return tuple(e for e in _divisors(arch.experts) if e <= 64)
