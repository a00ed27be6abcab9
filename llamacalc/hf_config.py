"""Hugging Face `config.json` → a llamacalc model preset, its parameters counted from the architecture.

Each supported family is a row of FAMILIES: which config keys give the MoE, and the layout quirks
its modelling code has (q/k/v biases in Qwen2, per-head q/k norms in Qwen3 and Gemma 3, whole-width
ones in OLMo 2, four norms per layer and tied embeddings in Gemma 2 and 3, multi-head latent
attention and leading dense layers in DeepSeek-V2/V3, interleaved MoE layers in Llama 4 [S8],
LayerNorms and plain GELU MLPs with biases in GPT-NeoX, Falcon and StarCoder2). Counts agree exactly with `transformers`
building the model (tests/test_hf_config.py). A family not listed is refused, never guessed.

Multimodal wrappers (Gemma 3, Mistral 3, Qwen2.5-VL, Llama 3.2 Vision, Llama 4) are counted as their
text decoder, described under "text_config" (or, in older Qwen2.5-VL files, at the top level); the
vision tower and projector are left out, and the preset's source says so. Asked (`vision`), the towers
of Gemma 3, Mistral 3, Qwen2.5-VL and Llama 3.2 Vision are counted too, from "vision_config", into the
total parameters alone: the active parameters, and so the training FLOPs, stay the decoder's per text
token, since what an image costs in the vision tower depends on its size and tiling, which a
config.json does not fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llamacalc.catalog import Catalog, architecture
from llamacalc.errors import InputError, named
from llamacalc.flops import layer_stack_params, norm_params, parameter_count
from llamacalc.specs import Architecture, Entry

MAX_CONFIG_BYTES = 1_000_000  # config.json files are a few KB

Reader = Callable[..., int]  # (key, default=None) -> a positive integer field of one section of a config


@dataclass(frozen=True)
class Vision:
    """A multimodal family's vision tower and projector: its vision_config class and how to count them."""

    # (vision_config reader, vision_config with defaults, whole config, text width, where) -> parameters
    count: Callable[[Reader, Mapping[str, Any], Mapping[str, Any], int, str], int]
    defaults: Mapping[str, Any]  # the vision config class's values for keys a vision_config leaves out
    absent: Mapping[str, Any] = field(default_factory=dict)  # what the wrapper builds with no vision_config
    model_type: str = ""  # the vision_config model_type counted, where the wrapper's config accepts others


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
    # decoder parameters no preset field describes, from the decoder's config and the preset fields
    extra: Callable[[Mapping[str, Any], Mapping[str, Any], str], int] | None = None
    vision: Vision | None = None  # the vision tower and projector, counted when asked
    note: str = ""  # what the preset's source says of the count beyond that


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


def _encoder(layers: int, width: int, ffn: int, **layout: bool) -> Architecture:
    """A vision tower's stack of layers in a decoder's terms. Its attention maps the width to itself
    (q, k, v and o all width × width), so one head of that width counts as many: heads hold no weights."""
    return Architecture(layers, width, 1, 1, ffn, 0, **layout)


SIGLIP = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_channels": 3,
          "image_size": 224, "patch_size": 16, "vision_use_head": True}  # SiglipVisionConfig's defaults  # fmt: skip


def _siglip(get: Reader, vision: Mapping[str, Any], config: Mapping[str, Any], text: int, where: str) -> int:
    """Gemma 3's SigLIP tower (modeling_siglip SiglipVisionModel): a patch convolution with a bias, a
    learned position per patch, pre-norm layers of biased attention and a biased GELU MLP with
    LayerNorms, a final LayerNorm, and, with vision_use_head, an attention-pooling head (a probe
    vector, attention, a LayerNorm, an MLP); then Gemma3MultiModalProjector: an RMSNorm and a
    vision-to-text matrix without a bias."""
    d, patch = get("hidden_size"), get("patch_size")
    layout = {"qkv_bias": True, "o_bias": True, "mlp_bias": True, "norm_bias": True, "gated_ffn": False}
    encoder = _encoder(get("num_hidden_layers"), d, get("intermediate_size"), **layout)
    embeddings = get("num_channels") * patch * patch * d + d + (get("image_size") // patch) ** 2 * d
    pooling = d + layer_stack_params(encoder._replace(layers=1, layer_norms=1))
    head = pooling if _flag(vision, "vision_use_head", where) else 0
    return embeddings + layer_stack_params(encoder) + norm_params(encoder) + head + d + d * text


PIXTRAL = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_channels": 3,
           "patch_size": 16}  # PixtralVisionConfig's defaults  # fmt: skip
MISTRAL3 = {"spatial_merge_size": 2, "vision_feature_layer": -1, "multimodal_projector_bias": False}  # Mistral3Config's


def _pixtral(get: Reader, vision: Mapping[str, Any], config: Mapping[str, Any], text: int, where: str) -> int:
    """Mistral 3's Pixtral encoder (modeling_pixtral PixtralVisionModel): a patch convolution without a
    bias, an RMSNorm before the layers, layers of bias-free attention and gated MLP with RMSNorms
    (rotary positions: no weights); then Mistral3MultiModalProjector: an RMSNorm, the patch merger's
    matrix over spatial_merge_size² patches, and two layers to the text width over the features of each
    vision_feature_layer, with biases when multimodal_projector_bias."""
    d, patch = get("hidden_size"), get("patch_size")
    wrapper = {**MISTRAL3, **config}
    merge = _integers(wrapper, where)("spatial_merge_size")
    fed = wrapper["vision_feature_layer"]
    stacked = len(fed) if isinstance(fed, list) else 1  # the layers whose features are concatenated
    bias = 2 * text if _flag(wrapper, "multimodal_projector_bias", where) else 0
    projector = d + merge * merge * d * d + stacked * d * text + text * text + bias
    encoder = _encoder(get("num_hidden_layers"), d, get("intermediate_size"))
    return get("num_channels") * patch * patch * d + d + layer_stack_params(encoder) + projector


# Qwen2_5_VLVisionConfig's defaults; it reads in_channels, so the in_chans of published files goes unread
QWEN_VL = {"depth": 32, "hidden_size": 3584, "intermediate_size": 3420, "in_channels": 3, "patch_size": 14,
           "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 3584}  # fmt: skip


def _qwen_vl(get: Reader, vision: Mapping[str, Any], config: Mapping[str, Any], text: int, where: str) -> int:
    """Qwen2.5-VL's vision transformer (modeling_qwen2_5_vl): a bias-free 3-D convolution over
    temporal_patch_size frames of patch_size² pixels, blocks of RMSNorms, biased attention (fused qkv,
    proj) and a biased gated MLP; then the merger: an RMSNorm and a two-layer biased MLP from
    spatial_merge_size² patches to out_hidden_size."""
    d, patch = get("hidden_size"), get("patch_size")
    layout = {"qkv_bias": True, "o_bias": True, "mlp_bias": True}
    encoder = _encoder(get("depth"), d, get("intermediate_size"), **layout)
    merged, out = d * get("spatial_merge_size") ** 2, get("out_hidden_size")
    merger = d + merged * merged + merged + merged * out + out
    return get("in_channels") * get("temporal_patch_size") * patch * patch * d + layer_stack_params(encoder) + merger


ASPECT_RATIOS = [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]]
MLLAMA_VISION = {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32, "num_global_layers": 8,
                 "num_channels": 3, "image_size": 448, "patch_size": 14, "max_num_tiles": 4,
                 "supported_aspect_ratios": ASPECT_RATIOS, "vision_output_dim": 7680}  # MllamaVisionConfig  # fmt: skip


def _mllama_vision(get: Reader, vision: Mapping[str, Any], config: Mapping[str, Any], text: int, where: str) -> int:
    """Llama 3.2 Vision's tower (modeling_mllama MllamaVisionModel): a bias-free patch convolution, a
    class token, gated position embeddings (one per patch and class token, and one per tile, patch and
    aspect ratio), gated tile embeddings before and after the local layers, LayerNorms before and after,
    local layers and gated global ones (bias-free attention, a biased GELU MLP, LayerNorms; two gates
    each global layer); then the projector: one biased layer from vision_output_dim to the text width."""
    d, patch, tiles = get("hidden_size"), get("patch_size"), get("max_num_tiles")
    ratios = vision["supported_aspect_ratios"]
    if not isinstance(ratios, list) or not ratios:
        raise InputError(f"{where}: 'supported_aspect_ratios' must be a list of [w, h] pairs, got {ratios!r:.40}")
    ids = len(ratios) + 1  # aspect-ratio ids 1..n, and 0 for padding
    patches = (get("image_size") // patch) ** 2 + 1  # and the class token
    positions = 1 + patches * d + ids * tiles * patches * d
    tile_embeddings = 2 * (ids * tiles * d + 1)
    local, global_ = get("num_hidden_layers"), get("num_global_layers")
    layout = {"mlp_bias": True, "norm_bias": True, "gated_ffn": False}
    encoder = _encoder(local + global_, d, get("intermediate_size"), **layout)
    embeddings = get("num_channels") * patch * patch * d + d + positions + tile_embeddings + 2 * norm_params(encoder)
    return embeddings + layer_stack_params(encoder) + 2 * global_ + get("vision_output_dim") * text + text


MLLAMA_TEXT = {"vocab_size": 128_256, "hidden_size": 4096, "num_hidden_layers": 40, "num_attention_heads": 32,
               "num_key_value_heads": 8, "intermediate_size": 14_336,
               "cross_attention_layers": [3, 8, 13, 18, 23, 28, 33, 38]}  # MllamaTextConfig's defaults  # fmt: skip


def _mllama_text(text: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> int:
    """Llama 3.2 Vision's decoder beyond Llama's layers (modeling_mllama MllamaTextModel): a layer whose
    index is in cross_attention_layers attends to the image instead of the text, with Llama's
    projections plus q and k RMSNorms of head size and two tanh gates (attention, MLP); the input
    embedding has 8 rows more than the vocabulary, the output layer none."""
    indices = text["cross_attention_layers"]
    if not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        raise InputError(f"{where}: 'cross_attention_layers' must be a list of layer indices, got {indices!r:.40}")
    cross = len(set(indices) & set(range(fields["layers"])))
    head = fields["d_model"] // fields["heads"]
    return cross * (2 * head + 2) + 8 * fields["d_model"]


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
        fixed=GEMMA3,
        tied=True,
        windowed=False,
        defaults=GEMMA3_TEXT,
        text_config=True,
        vision=Vision(_siglip, SIGLIP, model_type="siglip_vision_model"),
    ),
    # Mistral Small 3.1: a Mistral decoder, untied as its text_config reads (transformers 5.25 ties it,
    # reading Mistral3Config's own default instead, against the 24B checkpoint: tests/fixtures/hf-multimodal);
    # with no vision_config, Mistral3Config builds Pixtral with Mistral Small 3.1's 14-pixel patches
    "Mistral3ForConditionalGeneration": Family(
        text_config=True, vision=Vision(_pixtral, PIXTRAL, absent={"patch_size": 14}, model_type="pixtral")
    ),
    "Qwen2_5_VLForConditionalGeneration": Family(  # a Qwen2 decoder
        fixed={"qkv_bias": True}, text_config=True, vision=Vision(_qwen_vl, QWEN_VL)
    ),
    "DeepseekV2ForCausalLM": Family(moe="deepseek"),
    "DeepseekV3ForCausalLM": Family(moe="deepseek", fixed={"router_bias": True}),
    "MllamaForConditionalGeneration": Family(
        fixed={"tied_embeddings": False},  # never tied: the input embedding is 8 rows longer
        defaults=MLLAMA_TEXT,
        text_config=True,
        extra=_mllama_text,
        vision=Vision(_mllama_vision, MLLAMA_VISION),
        note="; the FLOPs count its cross-attention layers per text token as the others, their keys and values, "
        "which project image tokens, as if they projected text",
    ),
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


def family_of(config: Mapping[str, Any], where: str) -> Family:
    """The family of the first supported name in a config's `architectures`; refused if none is."""
    architectures = config.get("architectures") or [config.get("model_type", "?")]
    if not isinstance(architectures, list):
        raise InputError(f"{where}: 'architectures' must be a list of names, got {architectures!r:.40}")
    kind = next((a for a in architectures if isinstance(a, str) and a in FAMILIES), None)
    if kind is None:
        raise InputError(
            f"{where}: unsupported architectures {architectures!r:.80}; expected one of {', '.join(FAMILIES)}; "
            "or give the size by hand (--params 7B --tokens 2T), or a model preset with layers, d_model, "
            "heads, kv_heads, ffn and vocab"
        )
    return FAMILIES[kind]


def _integers(section: Mapping[str, Any], where: str) -> Reader:
    """A reader of one section's positive integer fields, whose errors name the key."""

    def get(key: str, default: int | None = None) -> int:
        value = section.get(key, default)
        if value is None:
            raise InputError(f"{where}: missing '{key}'")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{where}: '{key}' must be a positive integer, got {value!r:.40}")
        return value

    return get


def _flag(section: Mapping[str, Any], key: str, where: str) -> bool:
    """A true-or-false field of a section that holds its defaults."""
    value = section[key]
    if not isinstance(value, bool):
        raise InputError(f"{where}: '{key}' must be true or false, got {value!r:.40}")
    return value


def _decoder(config: Mapping[str, Any], family: Family, where: str) -> Mapping[str, Any]:
    """The decoder's section of a config (text_config in a wrapper), the config class's defaults beneath."""
    text = config.get("text_config", config) if family.text_config else config
    if not isinstance(text, Mapping):
        raise InputError(f"{where}: text_config must be an object")
    return {**family.defaults, **text}


def preset_fields(config: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Model-preset fields (layers, d_model, ..., MoE and layout fields) read from a parsed config.json."""
    text = _decoder(config, family := family_of(config, where), where)
    implied: dict[str, Any] = {}
    if family.translate is not None:
        text, implied = family.translate(text)
    get = _integers(text, where)

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


def vision_params(config: Mapping[str, Any], family: Family, text: int, where: str) -> int:
    """Parameters of a multimodal config's vision tower and projector, from its vision_config (the
    class's defaults beneath; the wrapper's own when it has none) and the decoder's width `text`."""
    if family.vision is None:
        wrappers = ", ".join(name for name, f in FAMILIES.items() if f.vision)
        raise InputError(f"{where}: no vision tower is counted for this architecture; it is for {wrappers}")
    vision, given = family.vision, config.get("vision_config")
    if given is not None and not isinstance(given, Mapping):
        raise InputError(f"{where}: vision_config must be an object")
    kind = (given or {}).get("model_type", vision.model_type)
    if vision.model_type and kind != vision.model_type:  # a wrapper that takes any vision model: ours alone
        raise InputError(f"{where}: vision_config model_type {kind!r:.40} is not counted, only {vision.model_type!r}")
    section = {**vision.defaults, **(vision.absent if given is None else given)}
    return vision.count(_integers(section, f"{where} vision_config"), section, config, text, where)


def with_config(
    catalog: Catalog, path: Path | None, model: str | None, tokens: Any, vision: bool = False
) -> tuple[Catalog, str | None]:
    """The catalog plus the model of a Hugging Face config.json file (its vision tower counted in the
    total with `vision`), and that model's name; without a file, both as they are. The one way the
    command line and the API take a config.json."""
    if path is None:
        if vision:
            raise InputError(
                f"{named('vision')} counts a multimodal {named('config')}'s vision tower: give {named('config')}"
            )
        return catalog, model
    from llamacalc.files import read_json

    entry = config_model(read_json(path, MAX_CONFIG_BYTES, named("config")), path, model, tokens, vision)
    return catalog.including(entry), entry.name


def config_model(config: Any, path: Path, model: str | None, tokens: Any, vision: bool = False) -> Entry:
    """The model preset of a parsed config.json given as a run's model: it is the model (no MODEL
    beside it), and it needs the training tokens, which a config.json does not hold."""
    if model is not None:
        raise InputError(f"{named('config')} and MODEL conflict: the config.json is the model")
    if tokens is None:
        raise InputError(
            f"{named('config')} needs {named('tokens')}: a config.json gives the architecture, not the training data"
        )
    return config_entry(config, path, str(tokens), vision=vision)


def config_entry(config: Any, path: Path, tokens: str, vision: bool = False) -> Entry:
    """A model preset from a parsed config.json: its architecture, parameters counted from it, `tokens`.

    A multimodal wrapper is its text decoder. With `vision`, its vision tower and projector join
    `params`; `active_params`, which the training FLOPs count, stay the decoder's, per text token."""
    where = f"--config {path}"
    if not isinstance(config, Mapping):
        raise InputError(f"{where}: must hold a JSON object")
    family = family_of(config, where)
    fields = preset_fields(config, where)
    name = f"config:{path.parent.name or path.stem}"
    arch = architecture(Entry("models", name, path, fields))
    assert arch is not None  # preset_fields always gives the architecture
    extra = family.extra(_decoder(config, family, where), fields, where) if family.extra else 0
    counted = {"params": parameter_count(arch) + extra, "active_params": parameter_count(arch, active=True) + extra}
    source = f"computed from the architecture in {path}"
    if vision:
        towers = vision_params(config, family, arch.d_model, where)
        counted["params"] += towers
        source += (
            f" (its text decoder, plus {towers:,} parameters of the vision tower and projector in vision_config: in "
            "the total alone; the active parameters and training FLOPs are the decoder's per text token, what "
            "images cost in the vision tower is not counted)"
        )
    elif family.text_config:  # a multimodal wrapper: built with a vision tower by default
        source += " (its text decoder: the vision tower and projector in vision_config are not counted)"
    source += family.note
    return Entry("models", name, path, {**fields, **counted, "tokens": tokens, "source": source})
