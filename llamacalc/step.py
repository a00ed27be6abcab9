"""Step time of one parallel training layout, from first principles: compute, communication, bubble.

Legend: L layers, h d_model, s sequence length, b micro-batch (sequences), t TP, p PP, v virtual
stages per GPU, d DP, c CP, e EP, m micro-batches per step on one pipeline, T = b·s/c tokens a GPU
holds of a micro-batch. One step of a data-parallel replica is m micro-batches through p stages:

    step = m·(t_fwd + t_bwd) + bubble + exposed DP communication + optimizer        (per GPU)

- GEMMs run at `max(F / (e·P), bytes / HBM) + overhead`: e the accelerator's achievable fraction of
  its dense peak P on large GEMMs (the Maximum Achievable Matmul FLOPS measurements), the HBM
  roofline for thin ones, and a fitted per-kernel overhead (the fit report is in the steps preset).
  The backward pass is two GEMMs (input and weight gradients) of the forward's FLOPs each.
- Attention scores run as a fused (flash) kernel at the accelerator's measured attention fraction of
  the BF16 peak, causal (half the square), backward 2.5× the forward (Dao 2023, FlashAttention-2 §3:
  five matmuls against two).
- Element-wise work (norms, residual adds, rotary, the gated activation, FP8 casts) is bound by HBM.
- TP: per layer and pass, two all-gathers and two reduce-scatters of T·h activations with sequence
  parallelism, or two all-reduces without (Korthikanti et al. 2022, arXiv:2205.05198, §4.2.2).
- Collectives: ring costs from nccl-tests' PERFORMANCE.md — all-reduce 2(n−1)/n·S/B, reduce-scatter
  and all-gather (n−1)/n·S/B — plus NCCL's ring latency, at the measured bus-bandwidth fraction of the
  fabric the group spans: scale-up (NVLink) inside a domain, the GPU's NIC beyond.
- The pipeline bubble is (p−1)/(v·m) of the ideal time (Narayanan et al. 2021, arXiv:2104.04473,
  §2.2.1); the busiest stage runs ceil(L/p) layers, its v chunks as even as the layers allow (Llama 3
  splits 126 layers unevenly, §3.3.2), and the last stage also the output layer.
- DP gradients are reduce-scattered and parameters all-gathered over the DP group, hidden behind one
  micro-batch's backward and forward passes; what does not fit there is exposed.
- The optimizer step reads and writes each local parameter's fp32 state once (bound by HBM).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from llamacalc.errors import InputError
from llamacalc.flops import attention_params, flops_per_token
from llamacalc.specs import Architecture, Cluster, Hardware, StepModel

ACTIVATION_BYTES = 2  # bf16 activations and gradients
ADAM_BYTES_MOVED = 4 * (4 + 3)  # fp32 master, m, v read and written, fp32 gradient read [Rajbhandari 2020 §3.1]
FLASH_BACKWARD = 2.5  # backward / forward FLOPs of fused attention (FlashAttention-2 §3.1: 5 matmuls vs 2)
CAUSAL = 0.5  # a causal mask skips half the score blocks
# Unfused attention's score tensor through HBM, bytes per element: forward scale-mask-softmax (read 2,
# write 2) and dropout (read 2, write 2 and a 1-byte mask); backward dropout (read 2 and the mask, write
# 2) and softmax (read 4, write 2) [Korthikanti et al. 2022 §4.1 counts the same tensors in memory].
SCORE_BYTES_FORWARD, SCORE_BYTES_BACKWARD = 9, 11


class Fabric(NamedTuple):
    """What an accelerator's system offers a step: GEMM and attention efficiency, memory bandwidth, and
    the two networks (per GPU, per direction, in B/s) at their measured achievable fractions."""

    peaks: Mapping[str, float]  # dense FLOP/s by precision
    gemm: Mapping[str, float]  # achievable fraction of the peak on large GEMMs, by precision
    attention: float  # achievable fraction of the BF16 peak in fused attention
    hbm: float  # B/s
    domain: int  # GPUs in one scale-up (NVLink) domain
    scale_up: float  # B/s, achievable bus bandwidth
    scale_out: float  # B/s, achievable bus bandwidth of the GPU's NIC
    pod: int | None = None  # GPUs at full bisection above the domain; None: the whole network
    oversubscription: float = 1.0  # of the links between pods


class Layout(NamedTuple):
    """How one run is split over its GPUs, and how each micro-batch is computed."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    vp: int = 1
    micro_batch: int = 1
    zero: int = 1  # ZeRO stage 0-3 over the DP ranks (3: FSDP)
    recompute: str = "none"  # none, selective (attention scores) or full (whole layers)
    precision: str = "bf16"  # GEMM precision: bf16 or fp8
    sequence_parallel: bool = True
    attention: str = "flash"  # flash (fused, scores never stored) or unfused (scores materialised)

    @property
    def gpus(self) -> int:
        """GPUs of the run: EP splits experts within the data-parallel ranks (Megatron's layout)."""
        return self.tp * self.pp * self.dp * self.cp

    def label(self) -> str:
        parts = [f"tp{self.tp}", f"pp{self.pp}", f"dp{self.dp}"]
        parts += [f"{name}{value}" for name, value in (("cp", self.cp), ("ep", self.ep), ("vp", self.vp)) if value > 1]
        return ",".join(parts)


@dataclass(frozen=True)
class Step:
    """One optimizer step of one layout: the time its parts take (s, exposed), summing to `time`."""

    layout: Layout
    global_batch: int  # sequences
    seq_len: int
    parts: Mapping[str, float]  # compute, tp, cp, ep, pp, bubble, dp, optimizer
    model_flops: float  # per step per GPU: 6·N_matmul + 6·L·d_attn·T per token (flops.py "megatron", causal)
    hardware_flops: float  # per step per GPU, recomputation included (flops.py "hardware")
    peak: float  # dense BF16 FLOP/s
    peak_precision: float  # dense FLOP/s of the layout's precision

    @property
    def time(self) -> float:
        return sum(self.parts.values())

    @property
    def tokens_per_s_per_gpu(self) -> float:
        return self.global_batch * self.seq_len / self.time / self.layout.gpus

    @property
    def mfu(self) -> float:
        """Model FLOPs over the dense BF16 peak."""
        return self.model_flops / self.time / self.peak

    @property
    def mfu_of_precision(self) -> float:
        """Model FLOPs over the dense peak of the layout's precision (NVIDIA's FP8 convention)."""
        return self.model_flops / self.time / self.peak_precision

    @property
    def hfu(self) -> float:
        return self.hardware_flops / self.time / self.peak

    def lost(self) -> str:
        """The largest part after compute: what takes the lost time."""
        return max((k for k in self.parts if k != "compute"), key=lambda k: self.parts[k])


FABRIC_FIELDS = (
    "scale_up_domain", "scale_up_bandwidth", "scale_up_efficiency", "scale_out_bandwidth", "scale_out_efficiency",
    "bandwidth", "attention",
)  # fmt: skip


def fabric(
    hardware: Hardware, cluster: Cluster | None = None, precision: str = "bf16", *, network: bool = True
) -> Fabric:
    """The step model's view of an accelerator in its system, the cluster's network where it has one.
    Refuses, naming what is missing, rather than borrow another accelerator's figures. Without
    `network` (a serving replica inside one scale-up domain) the network's figures may be absent: a
    group that leaves the domain is then refused where it forms (`group_link`)."""
    needed = FABRIC_FIELDS if network else tuple(key for key in FABRIC_FIELDS if not key.startswith("scale_out"))
    missing = [key for key in needed if getattr(hardware, key) is None]
    missing += [f"gemm_{p}" for p in ("bf16", precision) if p not in hardware.gemm]
    missing += [f"peak_{precision}"] if precision not in hardware.peaks else []
    if missing:
        keys = ", ".join(dict.fromkeys("memory bandwidth" if key == "bandwidth" else key for key in missing))
        raise InputError(
            f"--gpu: {hardware.name} lacks what the step model needs ({keys}); add them to a preset "
            f"(see 'llamacalc presets show h100-sxm') or pick a GPU that has them"
        )
    assert hardware.scale_up_domain and hardware.scale_up_bandwidth and hardware.scale_up_efficiency  # checked
    assert hardware.bandwidth and hardware.attention is not None
    out = cluster.scale_out_bandwidth if cluster and cluster.scale_out_bandwidth else hardware.scale_out_bandwidth
    return Fabric(
        peaks=hardware.peaks,
        gemm=hardware.gemm,
        attention=hardware.attention,
        hbm=hardware.bandwidth,
        domain=hardware.scale_up_domain,
        scale_up=hardware.scale_up_bandwidth * hardware.scale_up_efficiency,
        scale_out=(out or 0.0) * (hardware.scale_out_efficiency or 0.0),
        pod=cluster.pod if cluster else None,
        oversubscription=(cluster.oversubscription or 1.0) if cluster else 1.0,
    )


# --- collectives [nccl-tests doc/PERFORMANCE.md; NCCL tuning.cc ring latency] -------------------


def all_gather_time(size: float, n: int, bandwidth: float, hop_latency: float) -> float:
    """All-gather (or reduce-scatter) of a `size`-byte array over n ranks on a ring."""
    if n <= 1:
        return 0.0
    return (n - 1) / n * size / bandwidth + (n - 1) * hop_latency


def all_reduce_time(size: float, n: int, bandwidth: float, hop_latency: float) -> float:
    """All-reduce of a `size`-byte array over n ranks: a reduce-scatter and an all-gather."""
    return 2 * all_gather_time(size, n, bandwidth, hop_latency)


def group_link(fabric: Fabric, cal: StepModel, size: int, stride: int) -> tuple[float, float]:
    """(bandwidth, hop latency) of a group of `size` ranks `stride` GPUs apart: inside the scale-up
    domain if it fits, else each GPU's NIC, shared with the pod's uplinks when it spans pods."""
    span = size * stride
    if span <= fabric.domain:
        return fabric.scale_up, cal.latency_up
    if not fabric.scale_out:
        raise InputError(
            f"a group of {span} GPUs leaves the {fabric.domain}-GPU scale-up domain, and this GPU's network "
            "bandwidth is not in its preset (scale_out_bandwidth, scale_out_efficiency)"
        )
    bandwidth = fabric.scale_out
    if fabric.pod and span > fabric.pod and fabric.oversubscription > 1:
        crossing = math.ceil(span / fabric.pod) / size  # the ring's hops that leave a pod
        bandwidth *= min(1.0, 1 / (fabric.oversubscription * crossing))
    return bandwidth, cal.latency_out


# --- compute ---------------------------------------------------------------------------------------


def gemm_time(m: float, n: float, k: float, peak: float, efficiency: float, fabric: Fabric, cal: StepModel,
              element_bytes: float) -> float:  # fmt: skip
    """One (m×k)·(k×n) GEMM: compute at the achievable peak, or the HBM roofline, plus launch overhead."""
    flops = 2 * m * n * k
    traffic = (m * k + k * n) * element_bytes + m * n * ACTIVATION_BYTES
    return max(flops / (peak * efficiency), traffic / fabric.hbm) + cal.kernel_overhead


def gemm_fraction(fabric: Fabric, cal: StepModel, precision: str) -> float:
    """The fraction of the dense peak a large GEMM holds over a step: the measured ceiling, times what
    is held over whole steps. (A separate FP8 share was fitted and stayed at 1: the rows ask none.)"""
    return fabric.gemm[precision] * cal.sustained


def layer_gemms(arch: Architecture, tokens: float, layout: Layout) -> list[tuple[float, float, float, float]]:
    """(m, n, k, count) of one layer's forward GEMMs on one GPU: TP splits the output (QKV, up) or the
    input (O, down) dimension; routed experts see k·T tokens spread over E/e local experts. The input
    projections are sized from the attention's weights (flops.py), so multi-head latent attention's
    bottlenecks count as what they are."""
    t, h = layout.tp, arch.d_model
    out = arch.heads * (arch.v_head_dim or arch.head_dim)  # the output projection's input width
    projections = attention_params(arch) / h - out  # the input side's width, Q, K and V together
    gemms = [(tokens, projections / t, h, 1.0), (tokens, h, out / t, 1.0)]
    mats = 2 if arch.gated_ffn else 1  # gate and up fused into one GEMM
    if not arch.is_moe:
        return [*gemms, (tokens, mats * arch.ffn / t, h, 1.0), (tokens, h, arch.ffn / t, 1.0)]
    local = max(1.0, arch.experts / layout.ep)
    routed = tokens * arch.experts_per_token / local  # tokens per local expert
    shared = (arch.shared_ffn or arch.moe_ffn) * arch.shared_experts
    gemms += [(routed, mats * arch.moe_ffn / t, h, local), (routed, h, arch.moe_ffn / t, local)]
    if shared:
        gemms += [(tokens, mats * shared / t, h, 1.0), (tokens, h, shared / t, 1.0)]
    return gemms


def elementwise_bytes(arch: Architecture, tokens: float, layout: Layout) -> float:
    """HBM traffic of one layer's forward element-wise kernels: two norms (read and write h), two
    residual adds (read 2h, write h), rotary on Q and K, the activation (read 2f, write f gated; read
    f, write f plain), and with FP8 a cast of each GEMM input (read 2 B, write 1 B)."""
    t, h = layout.tp, arch.d_model
    sp = t if layout.sequence_parallel else 1
    q, kv = arch.heads * arch.head_dim, arch.kv_heads * arch.head_dim
    width = arch.moe_ffn * arch.experts_per_token if arch.is_moe else arch.ffn
    activation = (3 if arch.gated_ffn else 2) * width / t
    per_token = (2 * 2 * h + 2 * 3 * h) / sp + 2 * (q + kv) / t + activation
    traffic = per_token * ACTIVATION_BYTES
    if layout.precision == "fp8":
        traffic += 3 * (2 * h / sp + q / t + width / t)
    return tokens * traffic


def attention_flops(arch: Architecture, seq_len: int, layout: Layout) -> float:
    """Forward FLOPs of one layer's attention scores on one GPU: QKᵀ and ·V over the keys each
    query sees, causal (and within a sliding window); CP splits the queries, TP the heads."""
    window = arch.sliding_window or seq_len
    # keys a query sees on average: half the sequence under a causal mask, nearly the whole window
    # when the window is shorter than the sequence
    keys = seq_len * CAUSAL if window >= seq_len else window - window * window / (2 * seq_len)
    queries = layout.micro_batch * seq_len / layout.cp
    return 2 * 2 * queries * keys * arch.heads * arch.head_dim / layout.tp


def _score_elements(arch: Architecture, seq_len: int, layout: Layout) -> float:
    """Elements of one layer's attention score tensor on one GPU: b·(a/t)·(s/c)·s."""
    return layout.micro_batch * arch.heads / layout.tp * seq_len / layout.cp * seq_len


class PassTimes(NamedTuple):
    """Seconds of one micro-batch through one GPU's layers (all its chunks), by kind of work."""

    forward: float  # compute
    backward: float
    recompute: float
    tp: float  # exposed TP communication, all passes
    cp: float
    ep: float


def layer_pass(arch: Architecture, seq_len: int, layout: Layout, fabric: Fabric, cal: StepModel) -> PassTimes:
    """One micro-batch through one layer on one GPU."""
    tokens = layout.micro_batch * seq_len / layout.cp
    peak, efficiency = fabric.peaks[layout.precision], gemm_fraction(fabric, cal, layout.precision)
    element = 1.0 if layout.precision == "fp8" else ACTIVATION_BYTES
    gemm_fwd = sum(
        gemm_time(m, n, k, peak, efficiency, fabric, cal, element) * count
        for m, n, k, count in layer_gemms(arch, tokens, layout)
    )
    causal = attention_flops(arch, seq_len, layout)
    if layout.attention == "flash":
        attn_fwd = causal / (fabric.peaks["bf16"] * fabric.attention * cal.attention)
        attn_bwd = FLASH_BACKWARD * attn_fwd
    else:  # two batched GEMMs over the full square, softmax and dropout through HBM
        rate = fabric.peaks["bf16"] * fabric.gemm["bf16"] * cal.sustained
        scores = _score_elements(arch, seq_len, layout)
        attn_fwd = causal / CAUSAL / rate + scores * SCORE_BYTES_FORWARD / fabric.hbm
        attn_bwd = 2 * causal / CAUSAL / rate + scores * SCORE_BYTES_BACKWARD / fabric.hbm
    elementwise = elementwise_bytes(arch, tokens, layout) / fabric.hbm
    forward = gemm_fwd + attn_fwd + elementwise
    backward = 2 * gemm_fwd + attn_bwd + 2 * elementwise
    recompute = {"none": 0.0, "selective": attn_fwd, "full": forward}[layout.recompute]
    # TP: 4 collectives of T·h per pass, each half an all-reduce; the forward's again when recomputing
    activation = tokens * arch.d_model * ACTIVATION_BYTES
    bandwidth, hop = group_link(fabric, cal, layout.tp, 1)
    passes = 3 if layout.recompute == "full" else 2
    tp = cal.exposed_tp * passes * 4 * all_gather_time(activation, layout.tp, bandwidth, hop)
    cp = _cp_exposed(arch, seq_len, layout, fabric, cal, attn_fwd)
    ep = _ep_time(arch, tokens, layout, fabric, cal)
    return PassTimes(forward, backward, recompute, tp, cp, ep)


def _cp_exposed(arch: Architecture, seq_len: int, layout: Layout, fabric: Fabric, cal: StepModel,
                attention: float) -> float:  # fmt: skip
    """The CP ring passes each rank's K and V chunk round the c ranks (and dK, dV back in the
    backward), overlapped with attention on the chunk in hand: exposed only past that."""
    c = layout.cp
    if c <= 1:
        return 0.0
    chunk = 2 * layout.micro_batch * seq_len / c * arch.kv_heads * arch.head_dim / layout.tp * ACTIVATION_BYTES
    bandwidth, hop = group_link(fabric, cal, c, layout.tp)
    step = chunk / bandwidth + hop
    forward = max(0.0, (c - 1) * step - attention)
    backward = max(0.0, 2 * (c - 1) * step - FLASH_BACKWARD * attention)
    return forward + backward


def _ep_time(arch: Architecture, tokens: float, layout: Layout, fabric: Fabric, cal: StepModel) -> float:
    """EP all-to-all: each MoE layer dispatches k·T token vectors and combines them back, in the
    forward and again in the backward; (e−1)/e of them leave the GPU."""
    e = layout.ep
    if not arch.is_moe or e <= 1:
        return 0.0
    moe_share = (arch.layers - arch.dense_layers) / arch.moe_every / arch.layers
    size = tokens * arch.experts_per_token * arch.d_model * ACTIVATION_BYTES / layout.tp
    bandwidth, hop = group_link(fabric, cal, e, layout.tp * layout.cp)
    one = (e - 1) / e * size / bandwidth + (e - 1) * hop
    return 4 * one * moe_share


# --- the step ------------------------------------------------------------------------------------


def local_params(params: float, experts: float, layout: Layout) -> tuple[float, float]:
    """(dense, routed-expert) parameters one GPU holds before ZeRO: TP and PP split all, EP the routed
    experts too."""
    return (params - experts) / (layout.tp * layout.pp), experts / (layout.tp * layout.pp * layout.ep)


def step_time(
    arch: Architecture,
    params: float,
    experts: float,
    seq_len: int,
    global_batch: int,
    layout: Layout,
    fabric: Fabric,
    cal: StepModel,
    per_token: tuple[float, float] | None = None,
    grad_bytes: float = ACTIVATION_BYTES,
    layer: PassTimes | None = None,
) -> Step:
    """One optimizer step of `layout` on `global_batch` sequences of `seq_len` tokens. `per_token` is
    (model, hardware) FLOPs per token (`token_flops`) and `layer` its `layer_pass`, when a search has
    them already."""
    p, v, d = layout.pp, layout.vp, layout.dp
    m = global_batch // (d * layout.micro_batch)  # micro-batches per step on one pipeline
    layer = layer or layer_pass(arch, seq_len, layout, fabric, cal)
    layers = math.ceil(arch.layers / p)  # on the busiest stage, its chunks as even as the layers allow
    tokens = layout.micro_batch * seq_len / layout.cp
    head = _output_layer(arch, tokens, layout, fabric, cal)
    fwd = layers * layer.forward + head
    bwd = layers * (layer.backward + layer.recompute) + 2 * head
    comm = layers * (layer.tp + layer.cp + layer.ep)
    pp = _pp_exposed(arch, tokens, layout, fabric, cal)
    micro = fwd + bwd + comm + pp
    bubble = (p - 1) / v * micro
    shard = sum(local_params(params, experts, layout))
    dp = _dp_exposed(shard, layout, fabric, cal, fwd, bwd, grad_bytes, m)
    optimizer = shard / (d * layout.cp if layout.zero >= 1 else 1) * ADAM_BYTES_MOVED / fabric.hbm
    parts = {
        "compute": m * (fwd + bwd),
        "tp": m * layers * layer.tp,
        "cp": m * layers * layer.cp,
        "ep": m * layers * layer.ep,
        "pp": m * pp,
        "bubble": bubble,
        "dp": dp,
        "optimizer": optimizer,
    }
    model, executed = per_token or token_flops(arch, seq_len, layout.recompute)
    per_gpu = global_batch * seq_len / layout.gpus  # tokens
    return Step(layout, global_batch, seq_len, parts, model * per_gpu, executed * per_gpu, fabric.peaks["bf16"],
                fabric.peaks[layout.precision])  # fmt: skip


def compute_bound(arch: Architecture, seq_len: int, global_batch: int, layout: Layout, layer: PassTimes) -> float:
    """A floor under `step_time`: the layers' compute and exposed TP, CP and EP communication of every
    micro-batch, and its bubble; no output layer, PP sends, DP sync or optimizer. A search skips a
    layout whose floor is already slower than the layouts it keeps."""
    m = global_batch // (layout.dp * layout.micro_batch)
    layers = math.ceil(arch.layers / layout.pp)
    micro = layers * (layer.forward + layer.backward + layer.recompute + layer.tp + layer.cp + layer.ep)
    return (m + (layout.pp - 1) / layout.vp) * micro


def token_flops(arch: Architecture, seq_len: int, recompute: str) -> tuple[float, float]:
    """(model, hardware) training FLOPs per token: MFU's numerator, causal attention (flops.py's
    "megatron"), and what is executed with recomputation (flops.py's "hardware")."""
    model = sum(flops_per_token(arch, "megatron", seq_len).values())
    return model, sum(flops_per_token(arch, "hardware", seq_len, recompute).values())


def _output_layer(arch: Architecture, tokens: float, layout: Layout, fabric: Fabric, cal: StepModel) -> float:
    """The output layer's forward GEMM on the last stage (its backward is twice it)."""
    peak, efficiency = fabric.peaks[layout.precision], gemm_fraction(fabric, cal, layout.precision)
    element = 1.0 if layout.precision == "fp8" else ACTIVATION_BYTES
    return gemm_time(tokens, arch.vocab / layout.tp, arch.d_model, peak, efficiency, fabric, cal, element)


def _pp_exposed(arch: Architecture, tokens: float, layout: Layout, fabric: Fabric, cal: StepModel) -> float:
    """Point-to-point sends of one micro-batch between stages (activations forward, gradients back),
    v times with interleaving; each TP rank sends its 1/t (Narayanan et al. 2021 §4.1, scatter/gather)."""
    if layout.pp <= 1:
        return 0.0
    size = tokens * arch.d_model * ACTIVATION_BYTES / layout.tp
    bandwidth, hop = group_link(fabric, cal, layout.pp, layout.tp * layout.cp * layout.dp)
    return 2 * layout.vp * (size / bandwidth + hop)


def _dp_exposed(shard: float, layout: Layout, fabric: Fabric, cal: StepModel, fwd: float, bwd: float,
                grad_bytes: float, micro_batches: int) -> float:  # fmt: skip
    """Data-parallel traffic of the local shard over the DP ranks, each collective hidden behind the
    pass it overlaps [Rajbhandari et al. 2020 §5, §7]:
    - ZeRO 0-1: the gradients reduced once a step, behind the last micro-batch's backward, and (1)
      the updated weights gathered behind the first one's forward;
    - ZeRO-2: the gradients are kept only as shards, so reduce-scattered every micro-batch;
    - ZeRO-3: the weights too, so gathered before every forward and every backward (1.5× the data).
    """
    d = layout.dp
    if d <= 1:
        return 0.0
    bandwidth, hop = group_link(fabric, cal, d, layout.tp * layout.cp)
    reduce = all_gather_time(shard * grad_bytes, d, bandwidth, hop)
    gather = all_gather_time(shard * ACTIVATION_BYTES, d, bandwidth, hop)
    m = micro_batches
    if layout.zero >= 3:
        return m * (max(0.0, gather - fwd) + max(0.0, gather + reduce - bwd))
    if layout.zero == 2:
        return m * max(0.0, reduce - bwd) + max(0.0, gather - fwd)
    if layout.zero == 1:
        return max(0.0, reduce - bwd) + max(0.0, gather - fwd)
    return max(0.0, 2 * reduce - bwd)  # an all-reduce: a reduce-scatter and an all-gather
