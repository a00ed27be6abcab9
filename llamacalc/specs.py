"""Specs: the frozen domain types every formula and estimate works on.

A spec is a preset once parsed: a model, an accelerator, a cluster or a scaling law, in canonical
units (FLOP, FLOP/s, B, W, USD per GPU-second). Each keeps the `Entry` it was read from, so any
figure can be traced to its file and source. catalog.py builds these from TOML; hf_config.py
builds an Architecture from a Hugging Face config.json; nothing here reads a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from llamacalc.errors import InputError, PresetError, prefixed

PRECISIONS = ("bf16", "fp8")  # what a training run computes in
SERVING_PRECISIONS = (*PRECISIONS, "int8", "fp4")  # and a served model's weights: INT8, FP4 serve, never train

_NOT_FIGURES = {
    "title", "aliases", "source", "sources", "reported", "based_on", "cluster", "form", "organisation", "flags",
    "derivation", "architecture", "hours_type", "confidence", "accelerator", "year",
}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One preset as written in its file: validated keys and types, values not yet parsed."""

    SCHEMA = "preset"  # its document's JSON Schema (llamacalc schema preset)

    kind: str
    name: str
    path: Path
    fields: Mapping[str, Any]

    @property
    def title(self) -> str:
        return str(self.fields.get("title", self.name))

    @property
    def figures(self) -> list[str]:
        """The fields that are figures, and so need a source."""
        return [key for key in self.fields if key not in _NOT_FIGURES]

    def source_of(self, key: str) -> str:
        """Where a figure comes from: its own source, else the preset's, else ''."""
        return str(self.fields.get("sources", {}).get(key) or self.fields.get("source", ""))

    def is_assumption(self, key: str) -> bool:
        return self.source_of(key).lower().startswith("assumption")

    def where(self, key: str | None = None) -> str:
        """'file: preset' or 'file: preset.key', for error messages."""
        suffix = f".{key}" if key else ""
        return f"{self.path}: {self.kind}.{self.name}{suffix}"

    def parse(self, key: str, parser: Callable[[Any], Any]) -> Any:
        """The parsed value of `key` (None if absent), with errors naming file, preset and field."""
        if key not in self.fields:
            return None
        with prefixed(self.where(key), PresetError):
            return parser(self.fields[key])


class Architecture(NamedTuple):
    """Decoder shape: GQA (or multi-head latent) attention, a gated (SwiGLU, GeGLU) or plain MLP,
    optional MoE layers. The defaults are Llama's; the other fields cover the families config.json
    files bring."""

    layers: int
    d_model: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    seq_len: int | None = None
    tied_embeddings: bool = False
    experts: int = 0
    experts_per_token: int = 0
    shared_experts: int = 0
    shared_ffn: int = 0  # a shared expert's width when not moe_ffn (Qwen2-MoE's shared_expert_intermediate_size)
    shared_gate: bool = False  # a sigmoid gate (d → 1) on the shared expert's output (Qwen2-MoE)
    moe_ffn: int = 0
    moe_every: int = 1
    dense_layers: int = 0  # leading layers that stay dense in an MoE (DeepSeek's first_k_dense_replace)
    router_bias: bool = False  # a bias per expert in the router (DeepSeek-V3's score correction)
    head_size: int = 0  # when not d_model / heads (Gemma, Qwen3)
    qkv_bias: bool = False  # biases on Q, K, V (Qwen2)
    o_bias: bool = False  # and on the output projection (Llama's attention_bias)
    mlp_bias: bool = False
    qk_norm: bool = False  # a norm of head size on queries and keys (Qwen3, Gemma 3)
    qk_norm_full: bool = False  # ... over all heads at once instead (OLMo 2: q and k projections' width)
    layer_norms: int = 2  # norms per layer: 2 in Llama, 4 in Gemma 2 and 3, 1 with parallel attention
    norm_bias: bool = False  # LayerNorm with a bias, not RMSNorm (GPT-NeoX, Falcon): 2·d a norm
    gated_ffn: bool = True  # gate, up and down matrices (SwiGLU); False: up and down (GELU MLP)
    unembedding_bias: bool = False  # a bias on the output layer (Phi-1.5/2's lm_head)
    sliding_window: int = 0  # attention span in tokens, when bounded (Mistral)
    kv_lora_rank: int = 0  # multi-head latent attention (DeepSeek-V2/V3): the compressed KV width
    q_lora_rank: int = 0  # and the compressed Q width (0: Q projected directly)
    rope_head_dim: int = 0  # the decoupled RoPE part of each query/key head
    v_head_dim: int = 0  # each value head, when not head size

    @property
    def head_dim(self) -> int:
        return self.head_size or self.d_model // self.heads

    @property
    def is_moe(self) -> bool:
        return self.experts > 0


ARCH_FIELDS = ("layers", "d_model", "heads", "kv_heads", "ffn", "vocab")
MOE_FIELDS = ("experts", "experts_per_token", "moe_ffn")


class Reported(NamedTuple):
    """What the model's publishers reported about its training run."""

    gpu: str | None
    gpu_hours: float | None
    gpus: int | None
    co2_t: float | None
    source: str
    peaks: tuple[tuple[str, float], ...] = ()  # the reported GPU's dense peaks by precision, for its MFU


class Model(NamedTuple):
    """A model to train: total and active parameters, tokens, or a compute figure from a baseline."""

    name: str
    title: str
    params: float | None
    active_params: float | None
    tokens: float | None
    baseline: Model | None  # a scenario defined as compute_scale x the baseline's compute
    compute_scale: float | None
    arch: Architecture | None
    precision: str | None
    cluster: str | None
    reported: Reported | None
    entry: Entry
    global_batch: int | None = None  # sequences per optimizer step, where published

    @property
    def is_moe(self) -> bool:
        """Its architecture's experts where it has one (a vision tower counted in `params` is no expert)."""
        if self.arch is not None:
            return self.arch.is_moe
        return self.active_params is not None and self.active_params != self.params


class Hardware(NamedTuple):
    """An accelerator, per chip: dense peaks by precision (FLOP/s), memory (B), power (W), price."""

    name: str
    title: str
    peaks: Mapping[str, float]
    memory: float | None
    bandwidth: float | None
    power: float | None
    price: float | None  # USD per GPU-second
    price_range: tuple[float, float] | None  # P10, P90 of the price where sources disagree
    purchase_price: float | None  # USD per GPU, its share of the server included
    server_power: float | None  # server watts per GPU watt of TDP (CPUs, NICs, fans)
    entry: Entry
    # What the step model needs (step.py): the fabric per GPU and per direction, and achievable fractions.
    scale_up_domain: int | None = None  # GPUs in one NVLink (scale-up) domain
    scale_up_bandwidth: float | None = None  # B/s per GPU per direction
    scale_up_efficiency: float | None = None  # measured collective bus bandwidth over line rate
    scale_out_bandwidth: float | None = None  # B/s per GPU per direction: its NIC in the standard system
    scale_out_efficiency: float | None = None
    gemm: Mapping[str, float] = MappingProxyType({})  # achievable fraction of the dense peak, by precision
    attention: float | None = None  # achievable fraction of the BF16 peak in fused attention

    def peak(self, precision: str) -> float:
        if precision not in self.peaks:
            known = ", ".join(sorted(self.peaks))
            raise InputError(
                f"--precision: {self.name} has no published {precision} peak "
                f"(known: {known}); use --precision {min(self.peaks)}"
            )
        return self.peaks[precision]


LAW_FORMS: Mapping[str, tuple[str, ...]] = {
    "parametric": ("E", "A", "B", "alpha", "beta"),
    "ratio": ("ratio",),
    "tokens-power": ("A", "alpha"),
}


class Law(NamedTuple):
    """A scaling law's constants as published; the formulas live in scaling.py."""

    name: str
    title: str
    form: str
    constants: Mapping[str, float]
    fit_range: tuple[float, float] | None  # FLOPs over which the law was fitted
    entry: Entry


class Cluster(NamedTuple):
    name: str
    title: str
    gpu: str
    gpus: int
    capex: float | None  # USD spent on it (or, for a fleet, the capital budget it came from)
    entry: Entry
    scale_out_bandwidth: float | None = None  # B/s per GPU per direction, when not the GPU's standard system's
    pod: int | None = None  # GPUs at full bisection bandwidth
    oversubscription: float | None = None  # of the links above a pod


class StepModel(NamedTuple):
    """The step model's fitted constants (step.py), with the fit's statistics."""

    name: str
    kernel_overhead: float  # s per GEMM launch
    latency_up: float  # s per ring hop inside a scale-up domain
    latency_out: float  # s per ring hop across the network
    exposed_tp: float  # fraction of TP communication not hidden behind compute
    sustained: float  # fraction of the GEMM ceiling held over whole steps
    attention: float  # fraction of the fused-attention ceiling held over whole steps
    statistics: Mapping[str, float]
    entry: Entry


class MeasuredStep(NamedTuple):
    """A published training step: the model, GPUs and layout it ran, and its tokens/s per GPU."""

    name: str
    title: str
    arch: Architecture
    gpu: str  # a hardware preset
    cluster: str | None  # a cluster preset, for its network
    gpus: int
    seq_len: int
    global_batch: int  # sequences
    layout: Mapping[str, Any]  # the published degrees and choices; absent ones are searched
    tokens_per_s_per_gpu: float
    group: str  # the source family, left out together when testing out of sample
    entry: Entry


class PriceTier(NamedTuple):
    """A cloud price tier: its discount off the on-demand price, low and high (P10-P90)."""

    name: str
    discount: tuple[float, float]
    entry: Entry


class Ownership(NamedTuple):
    """How owned hardware turns into a price per GPU-hour (Epoch AI's amortisation method)."""

    name: str
    networking_share: float  # of cluster capex, beside the servers
    depreciation: float  # per year, continuous: r · ln 10 for r orders of magnitude a year
    average_power: float  # average draw over TDP
    electricity: float  # USD per joule
    entry: Entry


@dataclass(frozen=True)
class Run:
    """A published training run: what was trained, on what, and the accelerator-hours it took."""

    name: str
    title: str
    organisation: str
    params: float
    active_params: float
    tokens: float
    architecture: str  # RUN_ARCHITECTURES
    accelerator: str  # a hardware preset
    count: int | None
    hours: float  # accelerator-hours
    hours_type: str  # "end-to-end" (downtime included) or "steady-state" (from throughput)
    confidence: str  # "primary", "mixed" or "secondary"
    entry: Entry = field(repr=False)

    @property
    def is_moe(self) -> bool:
        return self.architecture == "moe" or self.active_params != self.params


RUN_ARCHITECTURES = ("dense", "moe", "ssm", "encoder-decoder", "multimodal")
HOURS_TYPES = ("end-to-end", "steady-state")
CONFIDENCES = ("primary", "mixed", "secondary")


class Scaling(NamedTuple):
    """Published utilisation of one model at two GPU counts (strong scaling: same model and global
    batch, more GPUs), the evidence for how utilisation falls as a run spreads wider."""

    gpus: tuple[float, float]
    mfu: tuple[float, float]
    source: str


@dataclass(frozen=True)
class Efficiency:
    """A fitted model of end-to-end utilisation: ln u = Σ coefficient · feature (efficiency.py).

    `sigma` is the spread of its leave-one-organisation-out errors (ln u), which sets the P10-P90
    range; `bounds` are the ranges of the features it was fitted on, beyond which it extrapolates.
    """

    name: str
    coefficients: Mapping[str, float]  # feature name -> coefficient; "intercept" always present
    size_cap: float | None  # active parameters beyond which size no longer raises utilisation
    sigma: float
    bounds: Mapping[str, tuple[float, float]]  # "active_params", "peak": fitted ranges
    statistics: Mapping[str, float]  # the fit's leave-one-organisation-out figures
    source: str
    scaling: tuple[Scaling, ...] = ()  # the loss beyond `scaling_from` GPUs (efficiency.py)
    scaling_from: float = math.inf  # GPUs up to which the fitted runs already speak
    scaling_source: str = ""  # why the loss starts at `scaling_from`
    entry: Entry | None = field(default=None, repr=False)
