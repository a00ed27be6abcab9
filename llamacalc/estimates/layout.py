"""The `layout` estimate: how to split a run over its GPUs, with its step time, MFU and memory.

Given every degree, it evaluates that layout; given some, it searches the rest (layouts.py) and
returns the fastest few that fit in memory. When nothing fits it says what would: the fewest GPUs
at this sequence length, or the longest sequence at these GPUs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named
from llamacalc.footprint import ALLOWANCE_SOURCE, GIB, allowance, memory_per_gpu, usable
from llamacalc.inputs import Assumption
from llamacalc.layouts import Candidate, Problem, candidates, problem_for, search
from llamacalc.setups import MAX_DEGREE, LayoutSetup
from llamacalc.specs import Architecture, Cluster, Hardware, Model, StepModel

FABRIC_KEYS = (
    "scale_up_domain", "scale_up_bandwidth", "scale_up_efficiency", "scale_out_bandwidth", "scale_out_efficiency",
    "gemm_bf16", "gemm_fp8", "attention_bf16", "memory",
)  # fmt: skip


@dataclass(frozen=True)
class LayoutResult:
    """The best layouts of one run that fit, best first, and what they were chosen from."""

    SCHEMA = "layout"  # its document's JSON Schema (llamacalc schema layout)

    model: Model
    hardware: Hardware
    cluster: Cluster | None
    gpus: int
    gpus_from: str  # how the GPU count was chosen
    seq_len: int
    global_batch: int  # sequences
    precision: str
    fixed: Mapping[str, Any]  # the degrees and choices the user gave
    layouts: tuple[Candidate, ...]
    tried: int
    step_model: StepModel
    notes: tuple[str, ...]  # assumptions the answer rests on, in words
    assumptions: Mapping[str, Assumption]  # each input and where it came from

    @property
    def best(self) -> Candidate:
        return self.layouts[0]

    @property
    def allowance(self) -> float:
        assert self.hardware.memory is not None
        return allowance(self.hardware.memory)


def estimate_layout(catalog: Catalog, setup: LayoutSetup, keep: int = 5) -> LayoutResult:
    """The best `keep` layouts of a model on its GPUs for a global batch (setups.layout_setup)."""
    model, hardware, fixed = setup.model, setup.hardware, setup.fixed
    assert model.arch is not None
    problem = problem_for(
        model.arch, setup.seq_len, setup.global_batch, setup.gpus, hardware, setup.cluster, catalog.step_model(),
        setup.precision,
    )  # fmt: skip
    _check_fixed(problem, fixed)
    found, tried, closest = search(problem, fixed, keep)
    if not found:
        raise InputError(nothing_fits(problem, fixed, tried, closest))
    notes = [ALLOWANCE_SOURCE, *setup.notes]
    notes += [
        f"{hardware.name} {key.replace('_', ' ')}: {hardware.entry.source_of(key)}"
        for key in FABRIC_KEYS
        if key in hardware.entry.fields and hardware.entry.is_assumption(key)
    ]
    return LayoutResult(
        model, hardware, setup.cluster, setup.gpus, setup.gpus_from, setup.seq_len, setup.global_batch,
        setup.precision, fixed, tuple(found), tried, problem.model, tuple(notes), setup.assumptions,
    )  # fmt: skip


def _check_fixed(problem: Problem, fixed: Mapping[str, Any]) -> None:
    """Degrees that cannot multiply to the GPUs, or that the model's shape forbids, named plainly."""
    product = math.prod(fixed.get(key, 1) for key in ("tp", "pp", "dp", "cp"))
    if problem.gpus % product or (all(k in fixed for k in ("tp", "pp", "dp")) and product != problem.gpus):
        given = " × ".join(f"{key} {fixed[key]}" for key in ("tp", "pp", "dp", "cp") if key in fixed)
        raise InputError(f"the degrees ({given} = {product:,}) do not divide {named('gpus')} {problem.gpus:,}")
    check_degrees(problem.arch, problem.seq_len, fixed)


def check_degrees(arch: Architecture, seq_len: int | None, fixed: Mapping[str, Any]) -> None:
    """Degrees the model's shape forbids, named plainly: TP must divide the heads, PP and its virtual
    stages fit in the layers, EP must divide the experts; CP needs two chunks a rank."""
    tp, pp, vp, ep, cp = (int(fixed.get(key, 1)) for key in ("tp", "pp", "vp", "ep", "cp"))
    if tp > 1 and arch.heads % tp:
        raise InputError(f"{named('tp')}: {tp} does not divide the model's {arch.heads} attention heads")
    if pp > arch.layers:
        raise InputError(f"{named('pp')}: {pp} stages for {arch.layers} layers; at most {arch.layers}")
    if vp > 1 and "pp" in fixed:
        if pp == 1:
            raise InputError(f"{named('vp')}: virtual stages interleave a pipeline; give {named('pp')} 2 or more")
        if pp * vp > arch.layers:
            raise InputError(
                f"{named('vp')}: {pp} stages × {vp} virtual stages exceed the model's {arch.layers} layers"
            )
    if ep > 1 and (not arch.is_moe or arch.experts % ep):
        raise InputError(f"{named('ep')}: {ep} must divide the model's experts ({arch.experts or 'none: it is dense'})")
    if cp > 1 and seq_len is not None and seq_len < 2 * cp:
        raise InputError(f"{named('cp')}: {cp} ranks need sequences of at least {2 * cp} tokens, got {seq_len}")


def nothing_fits(problem: Problem, fixed: Mapping[str, Any], tried: int, closest: Candidate | None) -> str:
    if tried == 0:
        given = ", ".join(f"{named(key)} {value}" for key, value in fixed.items()) or "no degrees given"
        return (
            f"no layout of {problem.gpus:,} GPUs fits a global batch of {problem.global_batch:,} sequences with "
            f"{given}: DP × micro-batch must divide the batch, and with {named('vp')} the micro-batches must be "
            "a multiple "
            "of PP"
        )
    room = usable(problem.hbm) / GIB
    least = f"; the least memory is {closest.memory.total / GIB:.1f} GiB of {room:.1f} GiB usable" if closest else ""
    hints = []
    gpus = fewest_gpus(problem, fixed)
    if gpus is not None:
        hints.append(f"{gpus:,} GPUs would fit")
    seq = longest_sequence(problem, fixed)
    if seq is not None:
        hints.append(f"sequences of {seq:,} tokens would fit on {problem.gpus:,}")
    advice = f"; {' or '.join(hints)}" if hints else ""
    return f"no layout of {problem.gpus:,} GPUs fits in {problem.hbm / GIB:,.1f} GiB per GPU{least}{advice}"


def _fits_any(problem: Problem, fixed: Mapping[str, Any]) -> bool:
    room = usable(problem.hbm)
    for layout in candidates(problem, fixed):
        m = problem.global_batch // (layout.dp * layout.micro_batch)
        if memory_per_gpu(problem.params, problem.arch, problem.seq_len, layout, m).total <= room:
            return True
    return False


def fewest_gpus(problem: Problem, fixed: Mapping[str, Any]) -> int | None:
    """The fewest GPUs (doubling from the asked count) at which some layout fits; the batch grows to
    keep every DP rank busy if it must."""
    free = {key: value for key, value in fixed.items() if key != "dp"}
    gpus = problem.gpus * 2
    while gpus <= MAX_DEGREE:
        batch = max(problem.global_batch, gpus)
        if _fits_any(problem._replace(gpus=gpus, global_batch=batch), free):
            return gpus
        gpus *= 2
    return None


def longest_sequence(problem: Problem, fixed: Mapping[str, Any]) -> int | None:
    """The longest sequence (halving from the asked length, at least 128) that fits on these GPUs."""
    seq = problem.seq_len // 2
    while seq >= 128:
        if _fits_any(problem._replace(seq_len=seq), fixed):
            return seq
        seq //= 2
    return None
