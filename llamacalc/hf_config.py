"""Hugging Face `config.json` → llamacalc model-preset fields, for Llama-family architectures.

Supported: LlamaForCausalLM (dense, GQA), MixtralForCausalLM (every layer MoE, no shared expert),
and Llama4ForConditionalGeneration's `text_config` (dense and MoE layers interleaved every
`interleave_moe_layer_step`, one shared expert per MoE layer [S8]). Local files only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llamacalc.catalog import architecture
from llamacalc.errors import InputError
from llamacalc.flops import parameter_count
from llamacalc.specs import Entry

MAX_CONFIG_BYTES = 1_000_000  # config.json files are a few KB
SUPPORTED = ("LlamaForCausalLM", "MixtralForCausalLM", "Llama4ForConditionalGeneration", "Llama4ForCausalLM")


def preset_fields(config: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Model-preset fields (layers, d_model, ..., MoE fields) read from a parsed config.json."""
    architectures = config.get("architectures") or [config.get("model_type", "?")]
    kind = next((a for a in architectures if a in SUPPORTED), None)
    if kind is None:
        raise InputError(f"{where}: unsupported architectures {architectures}; expected one of {', '.join(SUPPORTED)}")
    text = config.get("text_config", config) if kind.startswith("Llama4") else config
    if not isinstance(text, Mapping):
        raise InputError(f"{where}: text_config must be an object")

    def get(key: str, default: int | None = None) -> int:
        value = text.get(key, default)
        if value is None:
            raise InputError(f"{where}: missing '{key}'")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{where}: '{key}' must be a positive integer, got {value!r}")
        return value

    heads = get("num_attention_heads")
    d_model = get("hidden_size")
    head_dim = text.get("head_dim")
    if head_dim is not None and head_dim * heads != d_model:
        raise InputError(f"{where}: head_dim × num_attention_heads ≠ hidden_size is not supported")
    fields: dict[str, Any] = {
        "layers": get("num_hidden_layers"),
        "d_model": d_model,
        "heads": heads,
        "kv_heads": get("num_key_value_heads", heads),
        "ffn": get("intermediate_size"),
        "vocab": get("vocab_size"),
        "tied_embeddings": bool(text.get("tie_word_embeddings", config.get("tie_word_embeddings", False))),
    }
    if kind == "MixtralForCausalLM":
        fields |= {"experts": get("num_local_experts"), "experts_per_token": get("num_experts_per_tok"),
                   "moe_ffn": fields["ffn"], "moe_every": 1}  # fmt: skip
    elif kind.startswith("Llama4"):
        fields |= {"experts": get("num_local_experts"), "experts_per_token": get("num_experts_per_tok"),
                   "moe_ffn": fields["ffn"], "ffn": get("intermediate_size_mlp"), "shared_experts": 1,
                   "moe_every": get("interleave_moe_layer_step", 1)}  # fmt: skip
    return fields


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
    return Entry("models", name, path, {**fields, **counted, "tokens": tokens, "source": source})
