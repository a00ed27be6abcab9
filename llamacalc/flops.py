"""FLOP accounting: training compute C ≈ 6·N·D, and parameter counts from the architecture.

N, D = active parameters, training tokens. Each parameter costs 2 FLOP per token in the forward
pass and 4 in the backward pass (Kaplan et al. 2020, arXiv:2001.08361, §2.1; Hoffmann et al. 2022,
arXiv:2203.15556, App. F). For a mixture of experts N is the *active* count per token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from llamacalc.specs import Architecture, Model

TRAIN_FLOP_PER_PARAM_TOKEN = 6  # 2 forward + 4 backward [Kaplan 2020 §2.1]
INFERENCE_FLOP_PER_PARAM_TOKEN = 2  # the forward pass alone, per input or output token [Kaplan 2020 §2.1]


FEWEST = 1000  # parameters or tokens below this are no model: a missing suffix ('15.6'), or too little compute


def training_flops(params: float, tokens: float, per_param_token: float = TRAIN_FLOP_PER_PARAM_TOKEN) -> float:
    """C = 6·N·D: training FLOPs for N (active) parameters seen on D tokens.

    Plain arithmetic, so it also runs on pint Quantities (the tests check it lands in FLOP).
    """
    return per_param_token * params * tokens


def model_flops(model: Model) -> float:
    """Training FLOPs of a preset: 6·N_active·D, or compute_scale × its baseline's."""
    if model.baseline is not None and model.compute_scale is not None:
        return model.compute_scale * model_flops(model.baseline)
    assert model.active_params is not None and model.tokens is not None  # checked by the catalog
    return training_flops(model.active_params, model.tokens)


def attention_params(arch: Architecture) -> int:
    """Attention weights of one layer. Grouped-query: Q and O are d×(heads·head_dim), K and V
    d×(kv_heads·head_dim). Multi-head latent (DeepSeek-V2 §2.1): Q directly or through a rank-q
    bottleneck, K and V through a shared rank-kv latent plus a decoupled RoPE key, O from the values."""
    d, heads = arch.d_model, arch.heads
    if arch.kv_lora_rank:
        q_head = arch.head_dim + arch.rope_head_dim
        q = d * arch.q_lora_rank + arch.q_lora_rank * heads * q_head if arch.q_lora_rank else d * heads * q_head
        latent = d * (arch.kv_lora_rank + arch.rope_head_dim)  # the compressed KV and the shared RoPE key
        kv = latent + arch.kv_lora_rank * heads * (arch.head_dim + arch.v_head_dim)
        return q + kv + heads * arch.v_head_dim * d
    q, kv = heads * arch.head_dim, arch.kv_heads * arch.head_dim
    return 2 * d * q + 2 * d * kv


def _attention_extras(arch: Architecture) -> int:
    """Attention biases and norms of one layer: parameters, but no matmul."""
    q, kv = arch.heads * arch.head_dim, arch.kv_heads * arch.head_dim
    biases = (q + 2 * kv if arch.qkv_bias else 0) + (arch.d_model if arch.o_bias else 0)
    norms = (q + kv if arch.qk_norm_full else 2 * arch.head_dim) if arch.qk_norm else 0
    latent_norms = arch.kv_lora_rank + arch.q_lora_rank  # each bottleneck is normalised
    return biases + norms + latent_norms


def _mlp(arch: Architecture, width: int) -> int:
    """A gated FFN (SwiGLU, GeGLU) has three matrices: gate and up (d×width), down (width×d); a plain
    MLP (GELU: GPT-NeoX, Falcon) two, up and down."""
    if not arch.gated_ffn:
        return 2 * arch.d_model * width + ((width + arch.d_model) if arch.mlp_bias else 0)
    return 3 * arch.d_model * width + ((2 * width + arch.d_model) if arch.mlp_bias else 0)


def moe_layers(arch: Architecture) -> int:
    """Layers that are mixture-of-experts: past the leading dense ones, every `moe_every`-th
    (Llama 4's interleave step, Qwen's decoder_sparse_step)."""
    if not arch.is_moe:
        return 0
    return arch.layers // arch.moe_every - arch.dense_layers // arch.moe_every  # multiples of the step past the dense


def _ffn(arch: Architecture, routed: int) -> int:
    """FFN weights of all layers: gated on dense layers; router, shared and `routed` experts on MoE ones."""
    n_moe = moe_layers(arch)
    router = arch.d_model * arch.experts + (arch.experts if arch.router_bias else 0)
    shared = _mlp(arch, arch.shared_ffn or arch.moe_ffn) * arch.shared_experts + (
        arch.d_model if arch.shared_gate else 0
    )
    moe_layer = _mlp(arch, arch.moe_ffn) * routed + shared + router
    return (arch.layers - n_moe) * _mlp(arch, arch.ffn) + n_moe * moe_layer


def expert_params(arch: Architecture) -> int:
    """Weights in routed experts: what expert parallelism splits."""
    return moe_layers(arch) * arch.experts * _mlp(arch, arch.moe_ffn)


def norm_params(arch: Architecture) -> int:
    """One norm over the model width: RMSNorm has a scale; LayerNorm a scale and a bias."""
    return arch.d_model * (2 if arch.norm_bias else 1)


def layer_stack_params(arch: Architecture, active: bool = False) -> int:
    """Parameters of the layers alone: attention with its biases and norms, the layer norms, the FFN
    or experts. Without embeddings or a final norm it is also a vision tower's encoder (ViT)."""
    per_layer = attention_params(arch) + _attention_extras(arch) + arch.layer_norms * norm_params(arch)
    return arch.layers * per_layer + _ffn(arch, arch.experts_per_token if active else arch.experts)


def parameter_count(arch: Architecture, active: bool = False) -> int:
    """Parameters of a decoder: attention, FFN or experts, norms, embeddings.

    With `active`, counts only what one token uses: its routed and shared experts, not all experts.
    """
    embeddings = arch.vocab * arch.d_model * (1 if arch.tied_embeddings else 2) + (
        arch.vocab if arch.unembedding_bias else 0
    )
    return layer_stack_params(arch, active) + norm_params(arch) + embeddings  # + a norm: the final one


# --- FLOPs per token, by convention ---------------------------------------------------------------
# N_matmul counts the weights a token multiplies through: attention Q, K, V, O (GQA), the FFN or the
# experts it is routed to (plus router and shared experts), and the output layer; not the input
# embedding lookup, not norms. L, d_attn, T = layers, heads × head_dim, sequence length.


class Term(NamedTuple):
    """One term of a convention's per-token count: coefficient × the product of named factors."""

    coefficient: float
    factors: tuple[tuple[str, float], ...]  # (symbol, value): ("N_matmul", 4.04e11), ("L", 126), ...


class Count(NamedTuple):
    """Training FLOPs per token by component, and the terms they add up from (for the formula)."""

    components: Mapping[str, float]
    terms: tuple[Term, ...]

    def shares(self) -> dict[str, float]:
        """Each component's share of the FLOPs per token."""
        total = sum(self.components.values()) or 1.0
        return {name: value / total for name, value in self.components.items()}


Counter = Callable[[float | None, Architecture | None, int, str], Count]  # (active N, arch, seq_len, recompute)


@dataclass(frozen=True)
class Convention:
    """A way of counting training FLOPs; `count` takes what it needs of (active N, architecture,
    sequence length, recompute) — an architecture and a sequence length when `needs_architecture`."""

    name: str
    source: str
    count: Counter
    needs_architecture: bool = True
    recomputes: bool = False  # takes --recompute


def _six_nd(active: float | None, arch: Architecture | None, seq_len: int, recompute: str) -> Count:
    n = parameter_count(arch, active=True) if active is None and arch is not None else active
    assert n is not None  # resolve passes one or the other
    return Count({"all parameters": TRAIN_FLOP_PER_PARAM_TOKEN * n}, (Term(TRAIN_FLOP_PER_PARAM_TOKEN, (("N", n),)),))


def _weights_and_scores(weights: float, per_score: float) -> Counter:
    """weights · N_matmul (by component) + per_score · L · d_attn · T (the attention scores)."""

    def count(active: float | None, arch: Architecture | None, seq_len: int, recompute: str) -> Count:
        assert arch is not None
        params = matmul_params(arch)
        d_attn = arch.heads * arch.head_dim
        span = min(seq_len, arch.sliding_window) if arch.sliding_window else seq_len  # keys a query sees
        components = {
            "attention/qkvo": weights * params["attention/qkvo"],
            "attention/scores": per_score * arch.layers * d_attn * span,
            "mlp": weights * params["mlp"],
            "unembedding": weights * params["unembedding"],
        }
        terms = (
            Term(weights, (("N_matmul", sum(params.values())),)),
            Term(per_score, (("L", arch.layers), ("d_attn", d_attn), ("T", span))),
        )
        return Count(components, terms)

    return count


def _hardware(active: float | None, arch: Architecture | None, seq_len: int, recompute: str) -> Count:
    """Executed FLOPs with activation recomputation: causal scores (6), plus one more forward of what
    is recomputed — selective: the scores (+2); full: the whole layer (8·N instead of 6·N, scores 8)."""
    weights = 8 if recompute == "full" else TRAIN_FLOP_PER_PARAM_TOKEN
    per_score = {"none": 6, "selective": 8, "full": 8}[recompute]
    return _weights_and_scores(weights, per_score)(active, arch, seq_len, recompute)


CONVENTIONS: dict[str, Convention] = {}  # the registry: name -> Convention, in --flops all order
RECOMPUTE = ("none", "selective", "full")


def register(convention: Convention) -> Convention:
    """Add a FLOP convention: `--flops NAME`, `--flops all`, `--explain` and JSON then count with it."""
    CONVENTIONS[convention.name] = convention
    return convention


DEFAULT_CONVENTION = register(Convention(
    "6nd",
    "C = 6·N·D: 2 FLOP forward + 4 backward per parameter per token (Kaplan et al. 2020 §2.1)",
    _six_nd, needs_architecture=False,
)).name  # fmt: skip
register(Convention(
    "palm",
    "6 · N_matmul + 12 · L · d_attn · T per token: PaLM (Chowdhery et al. 2022) App. B, the full attention square",
    _weights_and_scores(6, 12),
))  # fmt: skip
register(Convention(
    "megatron",
    "6 · N_matmul + 6 · L · d_attn · T per token: Narayanan et al. 2021 (Megatron-LM) §5.1, the causal mask "
    "halves the attention square",
    _weights_and_scores(6, 6),
))  # fmt: skip
register(Convention(
    "hardware",
    "executed FLOPs (--recompute none, selective or full): Korthikanti et al. 2022, selective recompute adds "
    "the attention scores' forward, full a whole layer's",
    _hardware, recomputes=True,
))  # fmt: skip


def matmul_params(arch: Architecture) -> dict[str, float]:
    """Weights one token multiplies through in a forward pass, by component."""
    return {
        "attention/qkvo": arch.layers * attention_params(arch),
        "mlp": _ffn(arch, arch.experts_per_token),
        "unembedding": arch.vocab * arch.d_model,
    }


def flops_per_token(arch: Architecture, convention: str, seq_len: int, recompute: str = "none") -> dict[str, float]:
    """Training FLOPs per token by component, counted from an architecture by a registered convention."""
    return dict(CONVENTIONS[convention].count(None, arch, seq_len, recompute).components)
