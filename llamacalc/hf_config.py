"""Hugging Face `config.json` → a llamacalc model preset, its parameters counted from the architecture.

Each supported family is a row of FAMILIES: which config keys give the MoE, and the layout quirks
its modelling code has (q/k/v biases in Qwen2, per-head q/k norms in Qwen3 and Gemma 3, whole-width
ones in OLMo 2, four norms per layer and tied embeddings in Gemma 2 and 3, multi-head latent
attention and leading dense layers in DeepSeek-V2/V3, interleaved MoE layers in Llama 4 [S8],
LayerNorms and plain GELU MLPs with biases in GPT-NeoX, Falcon and StarCoder2). Counts agree exactly with `transformers`
building the model (tests/test_hf_config.py). A family not listed is refused, never guessed.

Multimodal wrappers (Gemma 3, Mistral 3, Qwen2.5-VL, Llama 4) are counted as their text decoder,
described under "text_config" (or, in older Qwen2.5-VL files, at the top level); the vision tower and
projector are left out, and the preset's source says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llamacalc.catalog import architecture
from llamacalc.errors import InputError
from llamacalc.flops import parameter_count
from llamacalc.specs import Entry

MAX_CONFIG_BYTES = 1_000_000  # config.json files are a few KB


@dataclass(frozen=True)
class Family:
    """How one `architectures` name lays out its decoder, beyond the Llama defaults."""

    moe: str = ""  # "", "mixtral", "qwen", "llama4" or "deepseek": where the experts are described
    fixed: Mapping[str, Any] = field(default_factory=dict)  # preset fields the modelling code implies
    tied: bool = False  # tie_word_embeddings when the config omits it
    text_config: bool = False  # the decoder is described under "text_config" (at the top level without one)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the config class's values for absent keys
    windowed: bool = True  # sliding_window bounds every layer's attention (Gemma alternates: counted global)
    attention_bias: bool = False  # attention_bias when the config omits it
    # the config in Llama's key names, and fields its own keys imply (Falcon's layout switches)
    translate: Callable[[Mapping[str, Any]], tuple[Mapping[str, Any], dict[str, Any]]] | None = None


def _falcon(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Falcon (modeling_falcon): fused QKV with multi-query (7B) or grouped KV heads (40B, 180B:
    new_decoder_architecture), a plain GELU MLP of ffn_hidden_size (default 4·d), LayerNorms: one
    before the parallel attention and MLP, two in the new layout (num_ln_in_parallel_attn), and one
    `bias` switch for every linear layer. Old RW configs name the sizes n_layer, n_head, n_head_kv."""
    c = dict(config)
    for old, new in (("n_layer", "num_hidden_layers"), ("n_head", "num_attention_heads"),
                     ("n_head_kv", "num_kv_heads"), ("n_embed", "hidden_size")):  # fmt: skip
        c.setdefault(new, c.get(old))
    heads, d = c.get("num_attention_heads"), c.get("hidden_size")
    layout = bool(c.get("new_decoder_architecture", False))
    kv = c.get("num_kv_heads") or heads if layout else 1 if c.get("multi_query", True) else heads
    norms = (c.get("num_ln_in_parallel_attn") or 2) if layout else 1 if c.get("parallel_attn", True) else 2
    bias = c.get("bias", False)
    wide = c.get("ffn_hidden_size") or (4 * d if isinstance(d, int) and not isinstance(d, bool) else None)
    c |= {"num_key_value_heads": kv, "intermediate_size": wide, "attention_bias": bias, "mlp_bias": bias}
    return c, {"layer_norms": norms}


def _use_bias(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """StarCoder2: one `use_bias` switch (default on) for the attention and MLP linear layers."""
    bias = config.get("use_bias", True)
    return {**config, "attention_bias": bias, "mlp_bias": bias}, {}


def _stablelm(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """StableLM: biases on Q, K and V alone (use_qkv_bias), one LayerNorm a layer with the parallel
    residual; per-head q/k LayerNorms (qk_layernorm) are not counted here, so refused."""
    if config.get("qk_layernorm"):
        raise InputError("StableLM with qk_layernorm (per-head LayerNorms) is not supported")
    norms = 1 if config.get("use_parallel_residual") else 2
    return config, {"qkv_bias": bool(config.get("use_qkv_bias", False)), "layer_norms": norms}


def _phi(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Phi-1/1.5/2: Q, K, V and dense with biases, one LayerNorm before the parallel attention and
    MLP, a GELU MLP with biases, and a bias on the output layer."""
    if config.get("qk_layernorm"):
        raise InputError("Phi with qk_layernorm is not supported")
    return {**config, "attention_bias": True, "mlp_bias": True}, {}


def _cohere(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Command R: one bias-free LayerNorm before the parallel attention and MLP; use_qk_norm adds
    LayerNorms over all query and key heads (a weight per head and dimension)."""
    return config, ({"qk_norm": True, "qk_norm_full": True} if config.get("use_qk_norm") else {})


GEMMA3 = {"layer_norms": 4, "qk_norm": True}
# transformers' Gemma3TextConfig defaults (configuration_gemma3.py), which published Gemma 3 configs
# lean on: gemma-3-4b-it's text_config gives neither heads nor vocabulary
GEMMA3_TEXT = {"vocab_size": 262_208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
               "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256}  # fmt: skip
LAYER_NORM = {"norm_bias": True}  # LayerNorm (scale and bias) where Llama has RMSNorm
PLAIN_MLP = {"gated_ffn": False}  # up and down (GELU), where Llama has gate, up and down

FAMILIES: Mapping[str, Family] = {
    "LlamaForCausalLM": Family(),
    "MistralForCausalLM": Family(),
    "Phi3ForCausalLM": Family(),  # fused qkv and gate/up: the same weights as Llama's
    "Qwen2ForCausalLM": Family(fixed={"qkv_bias": True}),
    "Qwen3ForCausalLM": Family(fixed={"qk_norm": True}),
    "Qwen3MoeForCausalLM": Family(moe="qwen", fixed={"qk_norm": True}),
    "Qwen2MoeForCausalLM": Family(moe="qwen", fixed={"qkv_bias": True}),
    "MixtralForCausalLM": Family(moe="mixtral"),
    "GemmaForCausalLM": Family(tied=True),
    "Gemma2ForCausalLM": Family(fixed={"layer_norms": 4}, tied=True, windowed=False),
    "Gemma3ForCausalLM": Family(fixed=GEMMA3, tied=True, windowed=False, defaults=GEMMA3_TEXT),
    "Gemma3ForConditionalGeneration": Family(
        fixed=GEMMA3, tied=True, windowed=False, defaults=GEMMA3_TEXT, text_config=True
    ),
    # Mistral Small 3.1: a Mistral decoder, untied as its text_config reads (transformers 5.25 ties it,
    # reading Mistral3Config's own default instead, against the 24B checkpoint: tests/fixtures/hf-multimodal)
    "Mistral3ForConditionalGeneration": Family(text_config=True),
    "Qwen2_5_VLForConditionalGeneration": Family(fixed={"qkv_bias": True}, text_config=True),  # a Qwen2 decoder
    "DeepseekV2ForCausalLM": Family(moe="deepseek"),
    "DeepseekV3ForCausalLM": Family(moe="deepseek", fixed={"router_bias": True}),
    "Llama4ForConditionalGeneration": Family(moe="llama4", text_config=True),
    "Llama4ForCausalLM": Family(moe="llama4"),
    "GraniteForCausalLM": Family(),  # Llama's weights; its multipliers scale activations, not parameters
    "GraniteMoeForCausalLM": Family(moe="mixtral"),  # every layer's experts, gated, no shared one
    "Olmo2ForCausalLM": Family(fixed={"qk_norm": True, "qk_norm_full": True}),  # norms after, not before
    "GPTNeoXForCausalLM": Family(fixed={**LAYER_NORM, **PLAIN_MLP, "mlp_bias": True}, attention_bias=True),
    "FalconForCausalLM": Family(fixed={**LAYER_NORM, **PLAIN_MLP}, tied=True, translate=_falcon),
    "Starcoder2ForCausalLM": Family(fixed={**LAYER_NORM, **PLAIN_MLP}, tied=True, translate=_use_bias),
    "StableLmForCausalLM": Family(fixed=LAYER_NORM, translate=_stablelm),
    "PhiForCausalLM": Family(
        fixed={**LAYER_NORM, **PLAIN_MLP, "layer_norms": 1, "unembedding_bias": True}, translate=_phi
    ),
    "CohereForCausalLM": Family(fixed={"layer_norms": 1}, tied=True, translate=_cohere),  # its LayerNorm: no bias
}


# Families whose decoders a preset cannot describe yet, and why
REFUSED = {
    "MllamaForConditionalGeneration": "Llama 3.2 Vision is not supported: its cross-attention layers (gated, "
    "with q/k norms, attending to image tokens) are not counted here",
}


def family_of(config: Mapping[str, Any], where: str) -> Family:
    """The family of the first supported name in a config's `architectures`; refused if none is."""
    architectures = config.get("architectures") or [config.get("model_type", "?")]
    if not isinstance(architectures, list):
        raise InputError(f"{where}: 'architectures' must be a list of names, got {architectures!r:.40}")
    kind = next((a for a in architectures if isinstance(a, str) and a in FAMILIES), None)
    if refused := next((REFUSED[a] for a in architectures if isinstance(a, str) and a in REFUSED), None):
        raise InputError(f"{where}: {refused}; give the size by hand (--params N --tokens D)")
    if kind is None:
        raise InputError(
            f"{where}: unsupported architectures {architectures!r:.80}; expected one of {', '.join(FAMILIES)}; "
            "or give the size by hand (--params 7B --tokens 2T), or a model preset with layers, d_model, "
            "heads, kv_heads, ffn and vocab"
        )
    return FAMILIES[kind]


def preset_fields(config: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Model-preset fields (layers, d_model, ..., MoE and layout fields) read from a parsed config.json."""
    family = family_of(config, where)
    text = config.get("text_config", config) if family.text_config else config
    if not isinstance(text, Mapping):
        raise InputError(f"{where}: text_config must be an object")
    text = {**family.defaults, **text}
    implied: dict[str, Any] = {}
    if family.translate is not None:
        text, implied = family.translate(text)

    def get(key: str, default: int | None = None) -> int:
        value = text.get(key, default)
        if value is None:
            raise InputError(f"{where}: missing '{key}'")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{where}: '{key}' must be a positive integer, got {value!r:.40}")
        return value

    def flag(key: str, default: bool) -> bool:
        value = text.get(key, config.get(key, default))
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InputError(f"{where}: '{key}' must be true or false, got {value!r:.40}")
        return value

    heads = get("num_attention_heads")
    fields: dict[str, Any] = {
        "layers": get("num_hidden_layers"),
        "d_model": get("hidden_size"),
        "heads": heads,
        "kv_heads": get("num_key_value_heads", heads),
        "ffn": get("intermediate_size"),
        "vocab": get("vocab_size"),
        "tied_embeddings": flag("tie_word_embeddings", family.tied),
        **family.fixed,
        **implied,
    }
    if text.get("head_dim") is not None and get("head_dim") * heads != fields["d_model"]:
        fields["head_size"] = get("head_dim")
    if flag("attention_bias", family.attention_bias):  # Llama's: on Q, K, V and O
        fields |= {"qkv_bias": True, "o_bias": True}
    if flag("mlp_bias", False):
        fields["mlp_bias"] = True
    window = text.get("sliding_window")
    if family.windowed and isinstance(window, int) and window > 0 and flag("use_sliding_window", True):
        fields["sliding_window"] = get("sliding_window")
    fields |= _moe(family.moe, text, get)
    if fields.get("experts", 0) and fields["experts_per_token"] > fields["experts"]:
        routed, experts = fields["experts_per_token"], fields["experts"]
        raise InputError(f"{where}: num_experts_per_tok {routed} exceeds the {experts} experts")
    return fields


def _moe(kind: str, text: Mapping[str, Any], get: Any) -> dict[str, Any]:
    """The MoE fields of a family's config, in each family's own key names."""
    if kind == "mixtral":  # every layer MoE, no shared expert
        return {"experts": get("num_local_experts"), "experts_per_token": get("num_experts_per_tok"),
                "moe_ffn": get("intermediate_size")}  # fmt: skip
    if kind == "qwen":
        if text.get("mlp_only_layers"):
            raise InputError("mlp_only_layers (dense layers among the MoE ones) is not supported")
        routed = {"experts": get("num_experts"), "experts_per_token": get("num_experts_per_tok"),
                  "moe_ffn": get("moe_intermediate_size"), "moe_every": get("decoder_sparse_step", 1)}  # fmt: skip
        if text.get("shared_expert_intermediate_size"):  # Qwen2-MoE: one gated shared expert of its own width
            routed |= {"shared_experts": 1, "shared_ffn": get("shared_expert_intermediate_size"), "shared_gate": True}
        return routed
    if kind == "llama4":  # dense and MoE layers interleaved, one shared expert per MoE layer
        return {"experts": get("num_local_experts"), "experts_per_token": get("num_experts_per_tok"),
                "moe_ffn": get("intermediate_size"), "ffn": get("intermediate_size_mlp"), "shared_experts": 1,
                "moe_every": get("interleave_moe_layer_step", 1)}  # fmt: skip
    if kind == "deepseek":  # multi-head latent attention; leading dense layers; shared experts
        latent = {"kv_lora_rank": get("kv_lora_rank"), "rope_head_dim": get("qk_rope_head_dim"),
                  "head_size": get("qk_nope_head_dim"), "v_head_dim": get("v_head_dim")}  # fmt: skip
        if text.get("q_lora_rank"):
            latent["q_lora_rank"] = get("q_lora_rank")
        optional = {key: get(name) for key, name in (("shared_experts", "n_shared_experts"),
                    ("dense_layers", "first_k_dense_replace")) if text.get(name)}  # fmt: skip
        experts = {"experts": get("n_routed_experts"), "experts_per_token": get("num_experts_per_tok"),
                   "moe_ffn": get("moe_intermediate_size"), "moe_every": get("moe_layer_freq", 1)}  # fmt: skip
        return {**latent, **optional, **experts}
    return {}


def config_entry(config: Any, path: Path, tokens: str) -> Entry:
    """A model preset from a parsed config.json: its architecture, parameters counted from it, `tokens`."""
    where = f"--config {path}"
    if not isinstance(config, Mapping):
        raise InputError(f"{where}: must hold a JSON object")
    fields = preset_fields(config, where)
    name = f"config:{path.parent.name or path.stem}"
    arch = architecture(Entry("models", name, path, fields))
    assert arch is not None  # preset_fields always gives the architecture
    counted = {"params": parameter_count(arch), "active_params": parameter_count(arch, active=True)}
    source = f"computed from the architecture in {path}"
    if family_of(config, where).text_config:  # a multimodal wrapper: built with a vision tower by default
        source += " (its text decoder: the vision tower and projector in vision_config are not counted)"
    return Entry("models", name, path, {**fields, **counted, "tokens": tokens, "source": source})
