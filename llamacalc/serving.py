"""Serving a decoder: FLOPs and bytes per token, the memory a batch needs, and the roofline.

Forward FLOPs per token C = 2·N_matmul + 2·L·ctx·d_attn (Kaplan et al. 2020 §2.1, Table 1). Each
decode step reads every weight once and each sequence's KV cache; it is bound by HBM bandwidth at
small batch and by the peak at large batch (Stanford CS336 2025, lecture 10: latency = (B·KV +
parameter bytes) / bandwidth). KV cache bytes per token = 2 (K and V) · layers · kv_heads ·
head_dim · bytes per element (GQA-aware: Llama 3 70B in bf16 = 327,680 B). The roofline is an upper
bound; `estimates/serve.py` derates it with factors measured on published serving runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from llamacalc.flops import INFERENCE_FLOP_PER_PARAM_TOKEN, matmul_params, parameter_count
from llamacalc.specs import Architecture

BYTES = {"bf16": 2, "fp8": 1, "int8": 1}  # bytes per weight and per KV-cache element
# assumption: the share of the memory left after the weights that holds KV cache, as TensorRT-LLM's
# default kv_cache_free_gpu_mem_fraction
KV_MEMORY_SHARE = 0.9


def forward_flops(arch: Architecture, context: float) -> float:
    """FLOPs to run one token through the model at `context` tokens of attention."""
    weights = sum(matmul_params(arch).values())
    d_attn = arch.heads * arch.head_dim
    span = min(context, arch.sliding_window) if arch.sliding_window else context
    return INFERENCE_FLOP_PER_PARAM_TOKEN * (weights + arch.layers * span * d_attn)


def weight_bytes(arch: Architecture, precision: str) -> float:
    return parameter_count(arch) * BYTES[precision]


def kv_bytes_per_token(arch: Architecture, precision: str) -> float:
    return 2 * arch.layers * arch.kv_heads * arch.head_dim * BYTES[precision]


def max_batch(arch: Architecture, precision: str, memory: float, context: float) -> int:
    """Sequences of `context` tokens whose KV cache fits beside the weights in `memory` bytes."""
    free = KV_MEMORY_SHARE * (memory - weight_bytes(arch, precision))
    return max(0, int(free // (kv_bytes_per_token(arch, precision) * context)))


@dataclass(frozen=True)
class Step:
    """One decode step of a batch on a replica: its time at the roofline, and which roof binds."""

    seconds: float
    bandwidth_bound: bool


def decode_step(arch: Architecture, precision: str, batch: int, context: float, bandwidth: float, peak: float) -> Step:
    """Weights and every sequence's KV cache read once; or the batch's FLOPs at the peak, if slower.

    `bandwidth` and `peak` are the replica's (all its GPUs)."""
    reads = weight_bytes(arch, precision) + batch * kv_bytes_per_token(arch, precision) * context
    memory_time, compute_time = reads / bandwidth, batch * forward_flops(arch, context) / peak
    return Step(max(memory_time, compute_time), memory_time >= compute_time)
