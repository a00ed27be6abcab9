"""Serving a decoder under load: one continuous-batching iteration, from the same physics as training.

Legend: B sequences in flight (the concurrency), I input and O output tokens per request, t GPUs of
a tensor-parallel replica, e of them splitting the routed experts (EP), h d_model, L layers.

- Continuous batching (Yu et al. 2022, Orca, OSDI '22): each iteration every running sequence
  decodes one token, and finished requests are replaced at once. In steady state a request's
  prompt is prefilled once per O iterations, so an iteration carries B decode tokens and B·I/O
  prompt tokens, chunked into the same forward pass (Agrawal et al. 2024, Sarathi-Serve,
  arXiv:2403.02310). Prefill is compute-bound, decode bandwidth-bound; their mix follows I/O.
- Each GEMM runs on `step.gemm_time`'s roofline: the larger of its FLOPs at the accelerator's measured
  fraction of the dense peak and its bytes through HBM (weights read once per iteration for the whole
  batch). That fraction is measured on large GEMMs; one of m tokens reaches m/(m + m½) of it (tiles
  of rows left part-empty, too few tiles to fill the GPU), m½ fitted.
  Routed experts: active parameters drive the FLOPs, and only the experts the batch's tokens reach
  are read — 1 − (1 − k/E)^T of them for T tokens, k of E each — while all of them take memory.
- Attention: the prompt's causal scores at the fused-attention fraction of the BF16 peak (flash);
  each decode token reads its sequence's KV cache, 2·L·kv_heads·head_dim bytes per token of context
  (Pope et al. 2022, arXiv:2211.05102 §2; Stanford CS336 2025, lecture 10), at the HBM roofline.
- Element-wise kernels through HBM (`step.elementwise_bytes`); TP: two all-reduces of the
  iteration's activations per layer (Shoeybi et al. 2019, Megatron-LM §3), `step.all_reduce_time`
  over the scale-up domain at its measured bus bandwidth and NCCL's hop latency.
- Memory: the KV cache takes a share of what the weights leave (TensorRT-LLM's
  kv_cache_free_gpu_mem_fraction), paged (Kwon et al. 2023, vLLM, SOSP '23) but reserved for a
  request's whole I + O tokens, as TensorRT-LLM's default scheduler (GUARANTEED_NO_EVICT) does.

The iteration's time is `compute·(C + m½·ramp) + memory·M + TP + kernel·launches`: the seconds of
compute-bound and of bandwidth-bound kernels scaled by two factors, the GEMMs' ramp with their token
count, and a fixed cost per kernel, which `estimates/serve.py` fits to the published serving runs
(presets/serving/).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from llamacalc.flops import expert_params, moe_layers, parameter_count
from llamacalc.footprint import usable
from llamacalc.specs import Architecture, StepModel
from llamacalc.step import ACTIVATION_BYTES, CAUSAL, Fabric, Layout, all_reduce_time, elementwise_bytes, group_link

# Bytes per weight. NVFP4: 4-bit values with one FP8 scale per 16 (NVIDIA, "Introducing NVFP4", 2025).
BYTES = {"bf16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5 + 1 / 16}
KV_PRECISIONS = ("bf16", "fp8", "int8")
# Assumptions, TensorRT-LLM's defaults: kv_cache_free_gpu_mem_fraction 0.9; max_batch_size 2,048 and
# max_num_tokens 8,192 per iteration (the LLM API's BuildConfig).
KV_SHARE = 0.9
MAX_BATCH = 2048
MAX_ITERATION_TOKENS = 8192
# Per layer beside its GEMMs: attention over the prompts and over the decoding sequences' KV cache,
# two norms fused with the residual adds, rotary embedding, the gated activation.
KERNELS_BESIDE_GEMMS = 6


class Replica(NamedTuple):
    """One model served on t GPUs: their fabric, the step model's kernel costs, and the precisions."""

    arch: Architecture
    fabric: Fabric
    cal: StepModel
    hbm: float  # bytes per GPU
    tp: int = 1
    ep: int = 1  # GPUs (of the tp) the routed experts are split over; the rest split each expert
    precision: str = "bf16"  # weights and GEMMs
    kv: str = "bf16"  # KV cache elements

    @property
    def peak(self) -> float:
        return self.fabric.peaks[self.precision]

    @property
    def gemm_efficiency(self) -> float:
        """The measured fraction of the dense peak on large GEMMs: FP4 and INT8 have none measured, and
        take FP8's (assumption: the same tensor cores, at twice the rate) or BF16's."""
        gemm = self.fabric.gemm
        return gemm.get(self.precision) or gemm.get("fp8" if self.precision == "fp4" else "bf16") or gemm["bf16"]


def weight_bytes(arch: Architecture, precision: str) -> float:
    """All the weights: the matrices at `precision`, the embedding and output layer kept in BF16 (as
    quantized checkpoints keep them)."""
    embeddings = arch.vocab * arch.d_model * (1 if arch.tied_embeddings else 2)
    return (parameter_count(arch) - embeddings) * BYTES[precision] + embeddings * BYTES["bf16"]


def kv_bytes_per_token(arch: Architecture, kv: str, tp: int = 1) -> float:
    """KV cache bytes per token of context on one GPU: TP splits the KV heads, replicating them past
    their count."""
    heads = math.ceil(arch.kv_heads / tp)
    return 2 * arch.layers * heads * arch.head_dim * BYTES[kv]


def kv_capacity(r: Replica) -> float:
    """Tokens of context the replica's KV cache holds: a share of what the weights leave of each GPU."""
    free = usable(r.hbm) - weight_bytes(r.arch, r.precision) / r.tp
    return max(0.0, KV_SHARE * free / kv_bytes_per_token(r.arch, r.kv, r.tp))


def max_concurrency(r: Replica, input_tokens: int, output_tokens: int) -> int:
    """The most requests in flight: each reserves its whole I + O tokens of KV cache; at most
    MAX_BATCH, and no more than MAX_ITERATION_TOKENS' worth of decode and prompt tokens per iteration."""
    by_memory = int(kv_capacity(r) // (input_tokens + output_tokens))
    by_tokens = int(MAX_ITERATION_TOKENS * output_tokens // (input_tokens + output_tokens))
    return max(0, min(by_memory, MAX_BATCH, max(1, by_tokens)))


class Iteration(NamedTuple):
    """One continuous-batching iteration on one GPU of the replica, in seconds by kind of bound."""

    batch: int  # sequences decoding
    prefill: float  # prompt tokens in the iteration
    compute: float  # compute-bound kernels at the measured fractions of the peak
    memory: float  # bandwidth-bound kernels at the HBM peak
    communication: float  # TP all-reduces
    kernels: float  # kernel launches: each costs a fixed time beside its work
    ramp: float  # Σ compute-bound GEMM seconds / their tokens m: a GEMM reaches m/(m + m½) of its rate


Bounds = tuple[float, float, float]  # compute and memory factors, m½: what decides which roof binds a GEMM
NOMINAL: Bounds = (1.0, 1.0, 0.0)


def iteration(r: Replica, batch: int, prefill: float, context: float, prompt: float,
              bounds: Bounds = NOMINAL) -> Iteration:  # fmt: skip
    """B decode tokens at `context` tokens of KV cache each, and `prefill` prompt tokens of prompts
    `prompt` tokens long. Each GEMM is bound by whichever roof is slower under `bounds` (the fitted
    factors), so the time is a maximum per GEMM, continuous in the load."""
    arch, f, cal = r.arch, r.fabric, r.cal
    tokens = batch + prefill
    compute = memory = kernels = 0.0
    ramp = 0.0

    def gemm(m: float, n: float, k: float, count: float = 1.0, read: float | None = None) -> None:
        """A GEMM (or `count` alike) on the roofline; `read`: the share of its weights read."""
        nonlocal compute, memory, kernels, ramp
        kernels += 1
        flops = 2 * m * n * k * count
        weights = k * n * BYTES[r.precision] * (count if read is None else read)
        traffic = weights + m * (k + n) * ACTIVATION_BYTES * count
        at_peak, through_hbm = flops / (r.peak * r.gemm_efficiency), traffic / f.hbm
        if bounds[0] * at_peak * (1 + bounds[2] / max(m, 1)) >= bounds[1] * through_hbm:
            compute += at_peak
            ramp += at_peak / max(m, 1)
        else:
            memory += through_hbm

    t, h, dh = r.tp, arch.d_model, arch.head_dim
    q, kv = arch.heads * dh, arch.kv_heads * dh
    mats = 2 if arch.gated_ffn else 1
    moe = moe_layers(arch) if arch.is_moe else 0
    for layers, is_moe in ((arch.layers - moe, False), (moe, True)):
        if not layers:
            continue
        before = compute, memory, kernels, ramp
        compute = memory = kernels = ramp = 0.0
        gemm(tokens, (q + 2 * kv) / t, h)
        gemm(tokens, h, q / t)
        if not is_moe:
            gemm(tokens, mats * arch.ffn / t, h)
            gemm(tokens, h, arch.ffn / t)
        else:
            e, local = r.ep, arch.experts / r.ep
            per_expert = tokens * arch.experts_per_token / arch.experts
            reached = local * (1 - (1 - arch.experts_per_token / arch.experts) ** tokens)
            width = arch.moe_ffn * e / t  # each expert split over the t/e GPUs that hold it
            gemm(per_expert, mats * width, h, local, reached)
            gemm(per_expert, h, width, local, reached)
            shared = (arch.shared_ffn or arch.moe_ffn) * arch.shared_experts
            if shared:
                gemm(tokens, mats * shared / t, h)
                gemm(tokens, h, shared / t)
        compute += _prefill_attention(arch, prefill, prompt, t) / (f.peaks["bf16"] * f.attention * cal.attention)
        memory += batch * context * kv_bytes_per_token(arch, r.kv, t) / arch.layers / f.hbm
        memory += elementwise_bytes(arch, tokens, Layout(tp=t, sequence_parallel=False)) / f.hbm
        kernels += KERNELS_BESIDE_GEMMS
        compute, memory = before[0] + layers * compute, before[1] + layers * memory
        kernels = before[2] + layers * kernels
        ramp = before[3] + layers * ramp
    gemm(batch + prefill / max(prompt, 1), arch.vocab / t, h)  # the output layer: decode tokens, each prompt's last
    bandwidth, hop = group_link(f, cal, t, 1)
    communication = 2 * arch.layers * all_reduce_time(tokens * h * ACTIVATION_BYTES, t, bandwidth, hop)
    return Iteration(batch, prefill, compute, memory, communication, kernels + (2 * arch.layers if t > 1 else 0), ramp)


def _prefill_attention(arch: Architecture, prefill: float, prompt: float, tp: int) -> float:
    """One layer's forward attention-score FLOPs of `prefill` prompt tokens, causal over prompts of
    `prompt` tokens: QKᵀ and ·V over the keys each query sees."""
    span = min(prompt, arch.sliding_window) if arch.sliding_window else prompt
    return 2 * 2 * prefill * span * CAUSAL * arch.heads * arch.head_dim / tp


def steady(r: Replica, batch: int, input_tokens: int, output_tokens: int, bounds: Bounds = NOMINAL) -> Iteration:
    """The steady-state iteration at concurrency B: B decode tokens at the average context I + O/2,
    and B·I/O prompt tokens."""
    prefill, context = batch * input_tokens / output_tokens, input_tokens + output_tokens / 2
    return iteration(r, batch, prefill, context, input_tokens, bounds)


def expert_share(arch: Architecture) -> float:
    """The routed experts' share of the parameters: what EP divides."""
    return expert_params(arch) / parameter_count(arch) if arch.is_moe else 0.0
