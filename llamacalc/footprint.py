"""Training memory per GPU under a layout: model states, activations, ZeRO-3 buffers, an allowance.

Model states follow ZeRO (Rajbhandari et al. 2020, arXiv:1910.02054, §3.1) [S37]: mixed-precision
Adam keeps 2 B of bf16 weights, 2 B of bf16 gradients and 12 B of fp32 master weights and two
moments per parameter — 16 B/param. TP and PP divide every state, EP the routed experts too; ZeRO
stage 1/2/3 shards optimizer / + gradients / + weights over the DP ranks, and stage 3 (FSDP) gathers
each layer's weights and gradients into a buffer as it runs (DeepSpeed's estimator counts the
largest layer's, 4 B/param) [S37]. FP8 training keeps an FP8 copy of the weights beside them.

Activations follow Korthikanti et al. 2022 (arXiv:2205.05198, §4.1) [S15], counted tensor by tensor
from the architecture so that GQA and gated MLPs come out right: per token and layer, 16-bit copies
of the inputs each backward pass needs. For a GPT layer with dropout the count is their 34·h + 5·a·s
bytes; modern decoders pretrain without dropout, so no masks are kept. TP splits all but the norms'
and the column-parallel GEMMs' inputs, which sequence parallelism splits too; CP splits the tokens;
fused (flash) attention or selective recomputation keeps no score matrices; full recomputation keeps
only each layer's input. Under 1F1B the first stage holds min(p, m) micro-batches of its layers,
×(1 + (p−1)/(p·v)) when interleaved (§4.2.3); the last stage also holds the logits.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from llamacalc.flops import expert_params
from llamacalc.specs import Architecture
from llamacalc.step import Layout, local_params

WEIGHT_BYTES, GRAD_BYTES, OPTIMIZER_BYTES = 2, 2, 12  # bf16 weights and grads; fp32 master + Adam m, v
FP8_WEIGHT_BYTES = 1  # the FP8 copy of the weights the GEMMs read
GATHER_BYTES = 4  # ZeRO-3: a layer's 16-bit weights and gradients, gathered whole [S37]
LOGIT_BYTES = 2 + 4  # bf16 logits and their fp32 softmax for the loss
ZERO_STAGES = (0, 1, 2, 3)
RECOMPUTE_MODES = ("none", "selective", "full")  # activations kept: all, all but attention scores, layer inputs
GIB = 2**30
# Assumption, no measurement in the references: CUDA context, NCCL and cuBLAS workspaces and the
# caching allocator's fragmentation take 1 GiB plus 5% of the memory.
ALLOWANCE_FIXED, ALLOWANCE_SHARE = 1 * GIB, 0.05
ALLOWANCE_SOURCE = "assumption: 1 GiB + 5% of HBM for CUDA context, NCCL and cuBLAS workspaces, fragmentation"


class Memory(NamedTuple):
    """Bytes per GPU on the busiest pipeline stage."""

    weights: float
    gradients: float
    optimizer: float
    activations: float | None  # None without an architecture
    buffers: float = 0.0  # ZeRO-3 gather buffers

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + (self.activations or 0.0) + self.buffers


def allowance(hbm: float) -> float:
    """What a GPU of `hbm` bytes keeps outside the model's tensors."""
    return ALLOWANCE_FIXED + ALLOWANCE_SHARE * hbm


def usable(hbm: float) -> float:
    return hbm - allowance(hbm)


def model_states(params: float, experts: float, layout: Layout) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per GPU. ZeRO shards the dense states over the DP × CP
    ranks (the replicas of a weight), the experts' over the DP × CP / EP ranks that hold the same
    experts (Megatron's expert-data-parallel group)."""
    dense, routed = local_params(params, experts, layout)
    replicas = layout.dp * layout.cp
    expert_replicas = max(1.0, replicas / layout.ep)
    weight_bytes = WEIGHT_BYTES + (FP8_WEIGHT_BYTES if layout.precision == "fp8" else 0)
    return tuple(  # type: ignore[return-value]
        (dense / replicas + routed / expert_replicas if sharded else dense + routed) * size
        for size, sharded in zip((weight_bytes, GRAD_BYTES, OPTIMIZER_BYTES), _sharded(layout), strict=True)
    )


def _sharded(layout: Layout) -> tuple[bool, bool, bool]:
    """Whether ZeRO shards the (weights, gradients, optimizer state): from stage 3, 2 and 1."""
    return layout.zero >= 3, layout.zero >= 2, layout.zero >= 1


def activations_per_token(arch: Architecture, layout: Layout, seq_len: int) -> float:
    """Bytes one layer keeps per token of a micro-batch for the backward pass, on one GPU."""
    t, h = layout.tp, arch.d_model
    sp = t if layout.sequence_parallel else 1
    if layout.recompute == "full":
        return 2 * h / sp
    q, kv = arch.heads * arch.head_dim, arch.kv_heads * arch.head_dim
    routed = arch.experts_per_token if arch.is_moe else 1
    width = arch.moe_ffn if arch.is_moe else arch.ffn
    mlp = (3 if arch.gated_ffn else 2) * 2 * width * routed
    if arch.is_moe and arch.shared_experts:
        mlp += (3 if arch.gated_ffn else 2) * 2 * (arch.shared_ffn or arch.moe_ffn) * arch.shared_experts
    replicated = 2 * 2 * h + 2 * h + 2 * h * routed  # norm inputs, QKV and up-projection inputs
    split = 2 * q + 2 * 2 * kv + 2 * q + mlp  # Q, K, V, the attention output, the MLP's inner tensors
    scores = 5 * arch.heads * seq_len / layout.cp if layout.attention == "unfused" and layout.recompute == "none" else 0
    return replicated / sp + (split + scores) / t


def activation_bytes(arch: Architecture, seq_len: int, layout: Layout, micro_batches: int | None = None) -> float:
    """Activations on the first pipeline stage (or the last, with its logits, if that holds more)."""
    tokens = layout.micro_batch * seq_len / layout.cp
    per_layer = activations_per_token(arch, layout, seq_len) * tokens
    p, v = layout.pp, layout.vp
    layers = math.ceil(arch.layers / p)  # on the busiest stage
    held = p + (p - 1) / v if v > 1 else p  # micro-batches in flight on the first stage [S15 §4.2.3]
    if micro_batches is not None:
        held = min(held, micro_batches)
    logits = tokens * arch.vocab / layout.tp * LOGIT_BYTES
    first = layers * held * per_layer + (logits if p == 1 else 0.0)
    last = layers * per_layer + logits
    return max(first, last)


def gather_buffers(arch: Architecture | None, params: float, layout: Layout) -> float:
    """ZeRO-3's gathered weights and gradients of the largest unit (a layer, or the embedding); none
    counted without an architecture, whose units are unknown (states only, as the output says)."""
    if layout.zero < 3 or arch is None:
        return 0.0
    largest = max(params / arch.layers, arch.vocab * arch.d_model)
    return GATHER_BYTES * largest / layout.tp


def memory_per_gpu(
    params: float,
    arch: Architecture | None,
    seq_len: int | None,
    layout: Layout,
    micro_batches: int | None = None,
    experts: float | None = None,
) -> Memory:
    """Bytes per GPU; `experts` the routed experts' parameters, when the caller has counted them."""
    if experts is None:
        experts = expert_params(arch) if arch else 0.0
    weights, grads, optimizer = model_states(params, experts, layout)
    activations = None
    if arch is not None and seq_len is not None:
        activations = activation_bytes(arch, seq_len, layout, micro_batches)
    return Memory(weights, grads, optimizer, activations, gather_buffers(arch, params, layout))


def min_data_parallel(
    params: float, arch: Architecture | None, seq_len: int | None, layout: Layout, hbm: float
) -> int | None:
    """The fewest DP ranks at which the run fits in `hbm` bytes per GPU (less the allowance), or None
    if no DP degree does. Only ZeRO-sharded states shrink with DP; the rest does not."""
    room = usable(hbm)
    at_one = memory_per_gpu(params, arch, seq_len, layout._replace(dp=1))
    states = (at_one.weights, at_one.gradients, at_one.optimizer)
    sharded = sum(part for part, is_sharded in zip(states, _sharded(layout), strict=True) if is_sharded)
    fixed = at_one.total - sharded
    if fixed >= room:
        return None
    return max(1, math.ceil(sharded / (room - fixed) - 1e-9))


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
