"""config.json → presets: parameters counted exactly as `transformers` builds each family, and bad configs refused.

The real-world configs in tests/fixtures/hf-configs/ come with counts.json: each model's exact total
and active parameters from building it with `transformers` on the meta device (see its README.md).
"""

import json
from pathlib import Path

import pytest

from llamacalc.errors import InputError
from llamacalc.flops import model_flops
from llamacalc.hf_config import config_entry

FIXTURES = Path(__file__).parent / "fixtures"
REAL = FIXTURES / "hf-configs"
COUNTS = json.loads((REAL / "counts.json").read_text())
MULTIMODAL = FIXTURES / "hf-multimodal"  # transcribed configs, counted by transformers (its README.md)
MULTIMODAL_COUNTS = json.loads((MULTIMODAL / "counts.json").read_text())


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_real_configs_count_exactly(name):
    entry = config_entry(json.loads((REAL / f"{name}.json").read_text()), REAL / f"{name}.json", "1T")
    assert entry.fields["params"] == COUNTS[name]["total_params"]
    assert entry.fields["active_params"] == COUNTS[name]["active_params"]
    assert entry.fields["tied_embeddings"] == COUNTS[name]["tied_embeddings"]


@pytest.mark.parametrize("name", sorted(MULTIMODAL_COUNTS))
def test_multimodal_configs_count_their_text_decoder_exactly(name):
    """Gemma 3, Mistral 3 and Qwen2.5-VL wrappers: the decoder under text_config (or at the top level),
    Gemma 3's absent fields from its config class's defaults; the vision tower left out, and said so."""
    path = MULTIMODAL / f"{name}.json"
    entry = config_entry(json.loads(path.read_text()), path, "1T")
    expected = MULTIMODAL_COUNTS[name]
    assert entry.fields["params"] == entry.fields["active_params"] == expected["text_params"]
    assert entry.fields["tied_embeddings"] == expected["tied_embeddings"]
    assert expected["text_params"] < expected["total_params"]
    assert "vision tower and projector in vision_config are not counted" in entry.fields["source"]


@pytest.mark.parametrize("name", sorted(MULTIMODAL_COUNTS))
def test_multimodal_configs_count_their_vision_tower_when_asked(name):
    """With vision, the total is transformers' whole model (tower and projector too); the active
    parameters, and so 6·N·D, stay the decoder's, and the source says what the FLOPs leave out."""
    path = MULTIMODAL / f"{name}.json"
    entry = config_entry(json.loads(path.read_text()), path, "1T", vision=True)
    expected = MULTIMODAL_COUNTS[name]
    assert entry.fields["params"] == expected["total_params"]
    assert entry.fields["active_params"] == expected["text_params"]
    tower = expected["total_params"] - expected["text_params"]
    assert f"plus {tower:,} parameters of the vision tower and projector" in entry.fields["source"]
    assert "what images cost in the vision tower is not counted" in entry.fields["source"]


def test_a_counted_vision_tower_is_no_mixture_of_experts(catalog):
    """A total above the active parameters marks an MoE only where there is no architecture to ask."""
    path = MULTIMODAL / "gemma-3-27b-it.json"
    entry = config_entry(json.loads(path.read_text()), path, "14T", vision=True)
    model = catalog.including(entry).model(entry.name)
    assert model.params > model.active_params and not model.is_moe
    assert model_flops(model) == 6 * MULTIMODAL_COUNTS["gemma-3-27b-it"]["text_params"] * 14e12


# Counted by transformers 5.25.0 (torch 2.14.1) as tests/fixtures/hf-multimodal/README.md says: the fixture,
# with these top-level keys replaced (None: removed), built on the meta device; its text decoder, and the
# rest (vision tower and projector). Mistral's decoder is left out: transformers 5.25 ties it (counts.json).
VISION_VARIANTS = [
    ("gemma-3-4b-it", {"vision_config": None}, 3_880_263_168, 94_851_072),  # SiglipVisionConfig(), its head too
    ("gemma-3-4b-it", {"vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152,
      "num_hidden_layers": 3, "intermediate_size": 4304, "num_attention_heads": 16, "vision_use_head": True}},
     3_880_263_168, 65_021_120),
    ("Mistral-Small-3.1-24B-Instruct-2503", {"vision_config": None}, None, 438_958_080),  # Mistral3Config's own
    ("Mistral-Small-3.1-24B-Instruct-2503", {"vision_config": {"model_type": "pixtral"}, "spatial_merge_size": 3,
      "vision_feature_layer": [-1, -2], "multimodal_projector_bias": True}, None, 449_638_400),  # 16-pixel patches
    ("Qwen2.5-VL-7B-Instruct", {"vision_config": None}, 7_615_616_512, 3_083_025_152),  # its class's 3584 width
    ("Qwen2.5-VL-7B-Instruct", {"vision_config": {"depth": 4, "hidden_size": 64, "intermediate_size": 100,
      "num_heads": 4, "in_channels": 4, "out_hidden_size": 96, "spatial_merge_size": 3, "temporal_patch_size": 3,
      "patch_size": 7}}, 7_615_616_512, 570_368),
    ("Llama-3.2-11B-Vision-Instruct", {"vision_config": None}, 9_775_192_080, 867_749_395),  # 448-pixel tiles
    ("Llama-3.2-11B-Vision-Instruct", {"vision_config": {"model_type": "mllama_vision_model", "hidden_size": 64,
      "attention_heads": 4, "intermediate_size": 100, "num_hidden_layers": 3, "num_global_layers": 2,
      "image_size": 56, "patch_size": 7, "max_num_tiles": 2, "supported_aspect_ratios": [[1, 1], [1, 2], [2, 1]],
      "vision_output_dim": 192, "num_channels": 4}}, 9_775_192_080, 989_883),
    ("Llama-3.2-11B-Vision-Instruct", {"text_config": {"num_hidden_layers": 5, "hidden_size": 256,
      "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512, "vocab_size": 1000,
      "pad_token_id": 0, "cross_attention_layers": [1, 3, 3, 9], "tie_word_embeddings": True}},
     3_466_244, 865_533_715),  # two cross-attention layers (3 twice, 9 past the last), never tied
]  # fmt: skip


@pytest.mark.parametrize(("name", "changes", "text", "tower"), VISION_VARIANTS)
def test_vision_configs_count_as_transformers_builds_them(name, changes, text, tower):
    """Each family's vision_config defaults (the class's, or the wrapper's when it has none) and switches."""
    config = json.loads((MULTIMODAL / f"{name}.json").read_text())
    config = {key: value for key, value in {**config, **changes}.items() if value is not None}
    decoder, whole = count(config)[0], config_entry(config, Path("/x/config.json"), "1T", vision=True)
    assert (decoder if text is not None else None, whole.fields["params"] - decoder) == (text, tower)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"architectures": ["LlamaForCausalLM"]}, "no vision tower is counted for this architecture; it is for "
         "Gemma3ForConditionalGeneration, Mistral3ForConditionalGeneration"),
        ({"architectures": ["Gemma3ForConditionalGeneration"], "vision_config": {"model_type": "clip_vision_model"}},
         "vision_config model_type 'clip_vision_model' is not counted, only 'siglip_vision_model'"),
        ({"architectures": ["Gemma3ForConditionalGeneration"], "vision_config": [1]},
         "vision_config must be an object"),
        ({"architectures": ["Qwen2_5_VLForConditionalGeneration"], "vision_config": {"depth": 0}}, "'depth' must be"),
        ({"architectures": ["MllamaForConditionalGeneration"], "vision_config": {"supported_aspect_ratios": []}},
         "'supported_aspect_ratios' must be a list of [w, h] pairs"),
        ({"architectures": ["Mistral3ForConditionalGeneration"], "multimodal_projector_bias": "yes",
          "text_config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8, "intermediate_size": 128,
                          "vocab_size": 10}}, "'multimodal_projector_bias' must be true or false"),
    ],
)  # fmt: skip
def test_vision_towers_not_counted_are_refused(config, message):
    llama = json.loads((FIXTURES / "llama-3.1-8b-config.json").read_text())
    with pytest.raises(InputError, match="^--config /x/config.json") as raised:
        config_entry({**llama, **config}, Path("/x/config.json"), "1T", vision=True)
    assert message in str(raised.value)
    config_entry({**llama, **config}, Path("/x/config.json"), "1T")  # each counts as its text model without


def test_llama_3_2_vision_decoder_is_llama_plus_its_cross_attention_extras():
    """Mllama 11B: Llama 3.1 8B's layers, 40 of them, 8 attending to the image with q/k norms of head size
    (128) and two gates each; 8 more embedding rows; untied."""
    mllama = json.loads((MULTIMODAL / "Llama-3.2-11B-Vision-Instruct.json").read_text())
    llama = {**mllama["text_config"], "architectures": ["LlamaForCausalLM"]}
    assert count(mllama)[0] - count(llama)[0] == 8 * (2 * 128 + 2) + 8 * 4096
    source = config_entry(mllama, Path("/x/config.json"), "1T").fields["source"]
    assert "cross-attention layers per text token as the others" in source
    with pytest.raises(InputError, match="'cross_attention_layers' must be a list of layer indices"):
        count({**mllama, "text_config": {**mllama["text_config"], "cross_attention_layers": "3"}})


def test_a_text_config_counts_as_its_text_model():
    """Qwen2.5-VL's decoder nested under text_config (as newer saves write it) or at the top level
    counts the same, and as Qwen2 itself: the same weights as Qwen2.5-7B's."""
    flat = json.loads((MULTIMODAL / "Qwen2.5-VL-7B-Instruct.json").read_text())
    text = {key: value for key, value in flat.items() if key not in ("architectures", "vision_config")}
    nested = {"architectures": flat["architectures"], "text_config": text, "vision_config": flat["vision_config"]}
    assert count(nested) == count(flat) == (COUNTS["Qwen2.5-7B"]["total_params"],) * 2
    # a Gemma 3 text_config that names a default field explicitly counts as one that leaves it out
    gemma = json.loads((MULTIMODAL / "gemma-3-4b-it.json").read_text())
    explicit = {**gemma, "text_config": {**gemma["text_config"], "num_attention_heads": 8, "vocab_size": 262_208}}
    assert count(explicit) == count(gemma)
    text_only = {**gemma["text_config"], "architectures": ["Gemma3ForCausalLM"]}
    assert count(text_only) == count(gemma)
    assert "not counted" not in config_entry(text_only, Path("/x/config.json"), "1T").fields["source"]


def test_the_gemma_3_multimodal_config_trains(cli):
    path = str(MULTIMODAL / "gemma-3-27b-it.json")
    doc = cli("train", "--config", path, "--tokens", "14T", "--json").json()
    assert doc["params"] == MULTIMODAL_COUNTS["gemma-3-27b-it"]["text_params"]
    assert "not counted" in doc["assumptions"]["params"]["source"]


def test_a_real_config_trains_end_to_end(cli):
    doc = cli("train", "--config", str(REAL / "Qwen3-30B-A3B.json"), "--tokens", "36T", "--json").json()
    assert doc["active_params"] == 3_353_032_704 and doc["flops"] == pytest.approx(6 * 3_353_032_704 * 36e12)


def test_a_sliding_window_bounds_the_attention_flops(cli):
    """Mistral 7B attends to at most 4,096 keys: at T = 8,192 its score FLOPs are half the full square's."""
    path = str(REAL / "Mistral-7B-v0.1.json")
    doc = cli("train", "--config", path, "--tokens", "1T", "--flops", "palm", "--seq-len", "8192", "--json").json()
    scores = 12 * 32 * 4096 * 4096  # 12 · L · d_attn · min(T, window)
    assert doc["flops_per_token"] == 6 * (7_241_732_096 - 32000 * 4096 - 65 * 4096) + scores


def test_hf_configs_give_the_published_shapes(cli):
    scout = cli("train", "--config", str(FIXTURES / "llama4-scout-config.json"), "--tokens", "40T", "--json").json()
    assert scout["params"] == pytest.approx(107.77e9, rel=1e-3) and scout["active_params"] == pytest.approx(
        17.17e9, rel=1e-3
    )
    dense = cli("train", "--config", str(FIXTURES / "llama-3.1-8b-config.json"), "--tokens", "15T", "--json").json()
    assert dense["params"] == 8_030_261_248
    mixtral = cli("train", "--config", str(FIXTURES / "mixtral-8x7b-config.json"), "--tokens", "1T", "--json").json()
    # Mixtral 8x7B: 46.7B total, 12.9B active (Mistral's announcement; counted here from the config)
    assert mixtral["params"] == pytest.approx(46.7e9, rel=0.01) and mixtral["active_params"] == pytest.approx(
        12.9e9, rel=0.01
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"architectures": ["GPT2LMHeadModel"]}', "unsupported architectures ['GPT2LMHeadModel']"),
        ('{"architectures": ["Llama4ForConditionalGeneration"], "text_config": []}', "text_config must be an object"),
        ('{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}', "missing 'num_attention_heads'"),
        ("[1, 2]", "must hold a JSON object"),
        ("{nope", "is not JSON"),
    ],
)
def test_bad_configs(cli, tmp_path, config, message):
    (tmp_path / "config.json").write_text(config)
    run = cli("train", "--config", str(tmp_path / "config.json"), "--tokens", "1T")
    assert run.code == 2 and message in run.stderr, run.stderr


def test_config_needs_tokens(cli):
    run = cli("train", "--config", str(FIXTURES / "llama-3.1-8b-config.json"))
    assert run.code == 2 and "--config needs --tokens" in run.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"architectures": 5}', "'architectures' must be a list"),
        ('{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 8, '
         '"num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 10, "tie_word_embeddings": "false"}',
         "'tie_word_embeddings' must be true or false"),
        ('{"architectures": ["MixtralForCausalLM"], "hidden_size": 64, "num_attention_heads": 8, '
         '"num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 10, "num_local_experts": 8, '
         '"num_experts_per_tok": 80}', "num_experts_per_tok 80 exceeds the 8 experts"),
    ],
)  # fmt: skip
def test_configs_checked_for_value(cli, tmp_path, config, message):
    (tmp_path / "config.json").write_text(config)
    run = cli("train", "--config", str(tmp_path / "config.json"), "--tokens", "1T")
    assert run.code == 2 and message in run.stderr, run.stderr


def count(config: dict) -> tuple[int, int]:
    entry = config_entry(config, Path("/x/config.json"), "1T")
    return entry.fields["params"], entry.fields["active_params"]


PYTHIA = {"architectures": ["GPTNeoXForCausalLM"], "vocab_size": 50304, "use_parallel_residual": True}


@pytest.mark.parametrize(
    ("shape", "run"),
    [
        ({"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
         "pythia-410m"),
        ({"hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 8, "intermediate_size": 8192},
         "pythia-1b"),
    ],
)  # fmt: skip
def test_gpt_neox_counts_pythias_published_parameters(catalog, shape, run):
    """GPT-NeoX: LayerNorms with biases, fused QKV and dense with biases, a plain 4·d GELU MLP with
    biases, untied input and output embeddings; Pythia's table gives the exact totals (runs presets)."""
    assert count({**PYTHIA, **shape}) == (catalog.run(run).params, catalog.run(run).params)


def test_falcon_layouts():
    """Falcon-7B: multi-query (one K and one V head), one LayerNorm before the parallel attention and
    MLP, a 4·d GELU MLP, no biases, tied embeddings: 6,921,720,704 parameters. The 40B/180B layout
    (new_decoder_architecture) has grouped KV heads and two LayerNorms; old RW keys read the same."""
    falcon_7b = {"architectures": ["FalconForCausalLM"], "hidden_size": 4544, "num_hidden_layers": 32,
                 "num_attention_heads": 71, "vocab_size": 65024, "multi_query": True, "parallel_attn": True,
                 "new_decoder_architecture": False, "bias": False}  # fmt: skip
    assert count(falcon_7b) == (6_921_720_704, 6_921_720_704)
    rw = {"architectures": ["FalconForCausalLM"], "n_embed": 4544, "n_layer": 32, "n_head": 71, "vocab_size": 65024}
    assert count(rw) == count(falcon_7b)
    d, layers, heads, kv, vocab = 8192, 60, 128, 8, 65024
    falcon_40b = {"architectures": ["FalconForCausalLM"], "hidden_size": d, "num_hidden_layers": layers,
                  "num_attention_heads": heads, "num_kv_heads": kv, "vocab_size": vocab,
                  "new_decoder_architecture": True}  # fmt: skip
    head = d // heads
    per_layer = d * (heads + 2 * kv) * head + d * d + 2 * d * 4 * d + 2 * (2 * d)
    assert count(falcon_40b)[0] == layers * per_layer + vocab * d + 2 * d


def test_olmo2_norms_span_the_projections():
    """OLMo 2: Llama's weights plus RMSNorms over the whole q and k projections (not per head)."""
    shape = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
             "intermediate_size": 11008, "vocab_size": 100352}  # fmt: skip
    olmo2 = count({"architectures": ["Olmo2ForCausalLM"], **shape})[0]
    llama = count({"architectures": ["LlamaForCausalLM"], **shape})[0]
    assert olmo2 - llama == 32 * (4096 + 4096)  # q_norm and k_norm, every layer


def test_qwen2_moe_counts_its_gated_shared_expert_once():
    """Qwen2-MoE: 60 routed experts (4 a token) and one always-on shared expert of its own width with a
    sigmoid gate; Qwen1.5-MoE-A2.7B's card says 14.3B total, 2.7B activated."""
    d, layers, experts, routed, width = 2048, 24, 60, 4, 1408
    config = {"architectures": ["Qwen2MoeForCausalLM"], "hidden_size": d, "num_hidden_layers": layers,
              "num_attention_heads": 16, "num_key_value_heads": 16, "intermediate_size": 5632,
              "moe_intermediate_size": width, "shared_expert_intermediate_size": 5632, "num_experts": experts,
              "num_experts_per_tok": routed, "vocab_size": 151936, "tie_word_embeddings": False}  # fmt: skip
    total, active = count(config)
    assert total == pytest.approx(14.3e9, rel=5e-3) and active == pytest.approx(2.7e9, rel=5e-3)
    assert total - active == layers * (experts - routed) * 3 * d * width  # only routed experts sit idle


def test_stablelm_phi_and_command_r(catalog):
    """StableLM-3B-4E1T gives its run preset's exact count; Phi-2 and Command R their cards' sizes."""
    stablelm = {"architectures": ["StableLmForCausalLM"], "hidden_size": 2560, "num_hidden_layers": 32,
                "num_attention_heads": 32, "num_key_value_heads": 32, "intermediate_size": 6912,
                "vocab_size": 50304, "use_qkv_bias": False, "tie_word_embeddings": False}  # fmt: skip
    assert count(stablelm)[0] == catalog.run("stablelm-3b-4e1t").params
    phi2 = {"architectures": ["PhiForCausalLM"], "hidden_size": 2560, "num_hidden_layers": 32,
            "num_attention_heads": 32, "intermediate_size": 10240, "vocab_size": 51200}  # fmt: skip
    assert count(phi2)[0] == pytest.approx(2.7e9, rel=0.03)  # "2.7B"; biases everywhere, lm_head too
    command_r = {"architectures": ["CohereForCausalLM"], "hidden_size": 8192, "num_hidden_layers": 40,
                 "num_attention_heads": 64, "intermediate_size": 22528, "vocab_size": 256000}  # fmt: skip
    assert count(command_r)[0] == pytest.approx(35e9, rel=5e-3)
    with pytest.raises(Exception, match="qk_layernorm"):
        count({**stablelm, "qk_layernorm": True})


def test_granite_moe_gives_its_run_presets_sizes(catalog):
    """Granite 3.0 MoE: every layer's experts gated (input_linear holds gate and up), no shared one."""
    base = {"architectures": ["GraniteMoeForCausalLM"], "num_key_value_heads": 8, "intermediate_size": 512,
            "num_experts_per_tok": 8, "vocab_size": 49155, "tie_word_embeddings": True}  # fmt: skip
    small = {**base, "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "num_local_experts": 32}
    large = {**base, "hidden_size": 1536, "num_hidden_layers": 32, "num_attention_heads": 24, "num_local_experts": 40}
    assert count(large)[0] == pytest.approx(catalog.run("granite-3.0-3b-a800m").params, rel=5e-3)  # 3.3B
    assert count(small)[0] == pytest.approx(catalog.run("granite-3.0-1b-a400m").params, rel=0.03)  # "1.3B"


def test_the_cli_counts_the_vision_tower_when_asked(cli):
    config = str(Path(__file__).parent / "fixtures" / "hf-multimodal" / "gemma-3-27b-it.json")
    text = cli("train", "--config", config, "--tokens", "14T", "--json").json()
    both = cli("train", "--config", config, "--tokens", "14T", "--vision", "--json").json()
    assert (text["params"], both["params"]) == (27_009_346_304, 27_432_406_640)
    assert both["active_params"] == text["active_params"] and both["flops"] == text["flops"]
    assert "vision tower" in both["assumptions"]["params"]["source"]
    alone = cli("train", "llama-3-8b", "--vision")
    assert alone.code == 2 and "--vision counts a multimodal --config's vision tower" in alone.stderr
