"""Training memory per GPU: model states (weights, gradients, optimizer) and activations.

Model states follow ZeRO (Rajbhandari et al. 2020, arXiv:1910.02054): mixed-precision Adam keeps
2 B of bf16 weights, 2 B of bf16 gradients and 12 B of fp32 master weights and two moments per
parameter — 16 B/param. Tensor (TP) and pipeline (PP) parallelism divide every state; expert
parallelism (EP) divides the expert weights; ZeRO stage 1/2/3 shards optimizer / + gradients /
+ weights over the data-parallel (DP) ranks.

Activations per layer follow Korthikanti et al. 2022 (arXiv:2205.05198) §4 for a GPT layer with
tensor and sequence parallelism: s·b·h·(34 + 5·a·s/h)/t bytes when the attention matrices are kept,
s·b·h·34/t with selective recomputation — also the footprint of FlashAttention, which never stores
them — and 2·s·b·h/t with full recomputation (only each layer's input is kept, split by sequence
parallelism).
That formula is recalled from the paper, not from the vetted reference data, and is written for a
4h MLP with multi-head attention, so it approximates Llama's SwiGLU and GQA layers. With 1F1B
pipelining the first stage holds activations of all L layers' worth of micro-batches, so PP does
not lower the peak.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from llamacalc.flops import expert_params
from llamacalc.specs import Architecture

WEIGHT_BYTES, GRAD_BYTES, OPTIMIZER_BYTES = 2, 2, 12  # bf16 weights and grads; fp32 master + Adam m, v
ZERO_STAGES = (0, 1, 2, 3)
RECOMPUTE_MODES = ("none", "selective", "full")  # activations kept: all, all but attention scores, layer inputs


class Layout(NamedTuple):
    """How a run is split: tensor, pipeline, expert and data parallel degrees, ZeRO stage."""

    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    zero: int = 1
    micro_batch: int = 1
    recompute: str = "none"


class Memory(NamedTuple):
    """Bytes per GPU."""

    weights: float
    gradients: float
    optimizer: float
    activations: float | None  # None without an architecture

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + (self.activations or 0.0)


def model_states(params: float, experts: float, layout: Layout) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per GPU."""
    local = (params - experts) / (layout.tp * layout.pp) + experts / (layout.tp * layout.pp * layout.ep)
    shard = [layout.dp if sharded else 1 for sharded in _sharded(layout)]
    return (
        local * WEIGHT_BYTES / shard[0],
        local * GRAD_BYTES / shard[1],
        local * OPTIMIZER_BYTES / shard[2],
    )


def _sharded(layout: Layout) -> tuple[bool, bool, bool]:
    """Whether ZeRO shards the (weights, gradients, optimizer state): from stage 3, 2 and 1."""
    return layout.zero >= 3, layout.zero >= 2, layout.zero >= 1


def activations_per_layer(arch: Architecture, seq_len: int, layout: Layout) -> float:
    """Bytes one layer keeps for the backward pass, per micro-batch (Korthikanti 2022 §4)."""
    s, b, h, a, t = seq_len, layout.micro_batch, arch.d_model, arch.heads, layout.tp
    if layout.recompute == "full":
        return 2 * s * b * h / t
    if layout.recompute == "selective":
        return s * b * h * 34 / t
    return s * b * h * (34 + 5 * a * s / h) / t


def memory_per_gpu(params: float, arch: Architecture | None, seq_len: int | None, layout: Layout) -> Memory:
    experts = expert_params(arch) if arch else 0.0
    weights, grads, optimizer = model_states(params, experts, layout)
    activations = None
    if arch is not None and seq_len is not None:
        activations = activations_per_layer(arch, seq_len, layout) * arch.layers  # first stage under 1F1B
    return Memory(weights, grads, optimizer, activations)


def min_data_parallel(
    params: float, arch: Architecture | None, seq_len: int | None, layout: Layout, hbm: float
) -> int | None:
    """The fewest DP ranks at which the run fits in `hbm` bytes per GPU, or None if no DP degree does.

    Only ZeRO-sharded states shrink with DP; replicated states and activations do not.
    """
    at_one = memory_per_gpu(params, arch, seq_len, layout._replace(dp=1))
    states = (at_one.weights, at_one.gradients, at_one.optimizer)
    sharded = sum(part for part, is_sharded in zip(states, _sharded(layout), strict=True) if is_sharded)
    fixed = at_one.total - sharded
    if fixed >= hbm:
        return None
    return max(1, math.ceil(sharded / (hbm - fixed) - 1e-9))


def state_bytes(params: float) -> float:
    """All training state of N parameters: 16 B/param (bf16 weights and grads, fp32 master and Adam)."""
    return params * (WEIGHT_BYTES + GRAD_BYTES + OPTIMIZER_BYTES)


def can_fit(params: float, gpus: int, hbm: float) -> bool:
    """Whether the training state fits even fully sharded (ZeRO-3) over every GPU: a necessary condition."""
    return state_bytes(params) / gpus <= hbm


def fewest_gpus(
    params: float, arch: Architecture | None, seq_len: int | None, hbm: float, micro_batch: int = 1
) -> tuple[int, Layout] | None:
    """The fewest GPUs that hold the run at all: ZeRO-3, full recomputation, TP ≤ 8 (one node), any PP."""
    best: tuple[int, Layout] | None = None
    depths = [1 << i for i in range(12) if arch is None or 1 << i <= arch.layers]
    for tp in (1, 2, 4, 8):
        for pp in depths:
            layout = Layout(tp=tp, pp=pp, zero=3, micro_batch=micro_batch, recompute="full")
            dp = min_data_parallel(params, arch, seq_len, layout, hbm)
            if dp is not None and (best is None or tp * pp * dp < best[0]):
                best = (tp * pp * dp, layout._replace(dp=dp))
    return best
