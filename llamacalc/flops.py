"""FLOP accounting: training compute C ≈ 6·N·D, and parameter counts from the architecture.

N, D = active parameters, training tokens. Each parameter costs 2 FLOP per token in the forward
pass and 4 in the backward pass (Kaplan et al. 2020, arXiv:2001.08361, §2.1; Hoffmann et al. 2022,
arXiv:2203.15556, App. F). For a mixture of experts N is the *active* count per token.
"""

from __future__ import annotations

from llamacalc.specs import Architecture, Model

TRAIN_FLOP_PER_PARAM_TOKEN = 6  # 2 forward + 4 backward [Kaplan 2020 §2.1]


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


def _attention(arch: Architecture) -> int:
    """Q and O are d×d; K and V are d×(kv_heads·head_dim) under grouped-query attention."""
    d, kv = arch.d_model, arch.kv_heads * arch.head_dim
    return 2 * d * d + 2 * d * kv


def _swiglu(d_model: int, width: int) -> int:
    """SwiGLU has three matrices: gate and up (d×width) and down (width×d)."""
    return 3 * d_model * width


def moe_layers(arch: Architecture) -> int:
    """Layers that are mixture-of-experts: every `moe_every`-th one (Llama 4 interleave step)."""
    return arch.layers // arch.moe_every if arch.is_moe else 0


def _ffn(arch: Architecture, routed: int) -> int:
    """FFN weights of all layers: SwiGLU on dense layers; router, shared and `routed` experts on MoE ones."""
    d, n_moe = arch.d_model, moe_layers(arch)
    moe_layer = _swiglu(d, arch.moe_ffn) * (routed + arch.shared_experts) + d * arch.experts  # + router
    return (arch.layers - n_moe) * _swiglu(d, arch.ffn) + n_moe * moe_layer


def expert_params(arch: Architecture) -> int:
    """Weights in routed experts: what expert parallelism splits."""
    return moe_layers(arch) * arch.experts * _swiglu(arch.d_model, arch.moe_ffn)


def parameter_count(arch: Architecture, active: bool = False) -> int:
    """Parameters of a Llama-style decoder: attention, FFN or experts, RMSNorms, embeddings.

    With `active`, counts only what one token uses: its routed and shared experts, not all experts.
    """
    d = arch.d_model
    per_layer = _attention(arch) + 2 * d  # two RMSNorms
    embeddings = arch.vocab * d * (1 if arch.tied_embeddings else 2)
    ffn = _ffn(arch, arch.experts_per_token if active else arch.experts)
    return arch.layers * per_layer + ffn + d + embeddings  # + d: the final norm


# --- detailed FLOPs per token, by convention -----------------------------------------------------
# N_matmul counts the weights a token multiplies through: attention Q, K, V, O (GQA), the FFN or the
# experts it is routed to (plus router and shared experts), and the output layer; not the input
# embedding lookup, not norms. L, d_attn, T = layers, heads × head_dim, sequence length.
#   6nd       6 · N_active                               (Kaplan 2020 §2.1)
#   palm      6 · N_matmul + 12 · L · d_attn · T          (PaLM App. B: full attention square)
#   megatron  6 · N_matmul +  6 · L · d_attn · T          (causal mask halves the square)
#   hardware  executed with activation recomputation: causal scores, plus one more forward of the
#             recomputed part: selective recomputes the attention scores (+2·L·d_attn·T), full the
#             whole layer (+2·N_matmul + 2·L·d_attn·T, i.e. 8·N instead of 6·N)

CONVENTIONS = ("6nd", "palm", "megatron", "hardware")
RECOMPUTE = ("none", "selective", "full")


def matmul_params(arch: Architecture) -> dict[str, float]:
    """Weights one token multiplies through in a forward pass, by component."""
    return {
        "attention/qkvo": arch.layers * _attention(arch),
        "mlp": _ffn(arch, arch.experts_per_token),
        "unembedding": arch.vocab * arch.d_model,
    }


def flops_per_token(arch: Architecture, convention: str, seq_len: int, recompute: str = "none") -> dict[str, float]:
    """Training FLOPs per token by component (attention/qkvo, attention/scores, mlp, unembedding)."""
    params = matmul_params(arch)
    scores = arch.layers * arch.heads * arch.head_dim * seq_len  # L · d_attn · T
    if convention == "6nd":
        return {"all parameters": TRAIN_FLOP_PER_PARAM_TOKEN * parameter_count(arch, active=True)}
    weights = 8 if convention == "hardware" and recompute == "full" else TRAIN_FLOP_PER_PARAM_TOKEN
    per_score = {
        "palm": 12,
        "megatron": 6,
        "hardware": {"none": 6, "selective": 8, "full": 8}[recompute],
    }[convention]
    return {
        "attention/qkvo": weights * params["attention/qkvo"],
        "attention/scores": per_score * scores,
        "mlp": weights * params["mlp"],
        "unembedding": weights * params["unembedding"],
    }
