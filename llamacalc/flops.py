"""FLOP accounting: training compute C ≈ 6·N·D, and parameter counts from the architecture.

N, D = active parameters, training tokens. Each parameter costs 2 FLOP per token in the forward
pass and 4 in the backward pass (Kaplan et al. 2020, arXiv:2001.08361, §2.1; Hoffmann et al. 2022,
arXiv:2203.15556, App. F). For a mixture of experts N is the *active* count per token.
"""

from __future__ import annotations

from llamacalc.catalog import Architecture, Model

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


def parameter_count(arch: Architecture, active: bool = False) -> int:
    """Parameters of a Llama-style decoder: attention, FFN or experts, RMSNorms, embeddings.

    With `active`, counts only what one token uses: its routed and shared experts, not all experts.
    """
    d = arch.d_model
    n_moe = moe_layers(arch)
    routed = arch.experts_per_token if active else arch.experts
    moe_layer = _swiglu(d, arch.moe_ffn) * (routed + arch.shared_experts) + d * arch.experts  # + router
    per_layer = _attention(arch) + 2 * d  # two RMSNorms
    embeddings = arch.vocab * d * (1 if arch.tied_embeddings else 2)
    return (
        arch.layers * per_layer
        + (arch.layers - n_moe) * _swiglu(d, arch.ffn)
        + n_moe * moe_layer
        + d  # final norm
        + embeddings
    )
