"""Training memory against hand-computed values, and the memory command."""

import pytest

from llamacalc import footprint as memory
from llamacalc.specs import Architecture

GIB = 2**30


def test_sixteen_bytes_per_parameter_unsharded():
    """bf16 weights 2 B + bf16 grads 2 B + fp32 master 4 B + Adam m 4 B + v 4 B = 16 B/param (ZeRO §3)."""
    weights, grads, optimizer = memory.model_states(405.85e9, 0, memory.Layout(zero=0))
    assert (weights, grads, optimizer) == (2 * 405.85e9, 2 * 405.85e9, 12 * 405.85e9)
    assert memory.state_bytes(405.85e9) == 16 * 405.85e9


def test_sharding_divides_the_right_states():
    n = 8e9
    z1 = memory.model_states(n, 0, memory.Layout(dp=64, zero=1))
    assert z1 == (2 * n, 2 * n, 12 * n / 64)
    z3 = memory.model_states(n, 0, memory.Layout(dp=64, zero=3, tp=2, pp=4))
    assert z3 == pytest.approx((2 * n / 512, 2 * n / 512, 12 * n / 512))
    # expert parallelism splits only the routed experts
    experts = 6e9
    ep = memory.model_states(n, experts, memory.Layout(ep=8, zero=0))
    assert ep[0] == pytest.approx(2 * (n - experts + experts / 8))


def test_activations_per_token_reproduce_korthikanti_for_a_gpt_layer():
    """A GPT layer (4h GELU MLP, multi-head attention), less its two 1-byte dropout masks, which modern
    decoders do not keep: 10 + 24/t bytes per token and h with TP alone (the 10 less the masks: 8),
    34/t with sequence parallelism (32/t), + 5·a·s/t with the score matrices (Korthikanti 2022 §4.1)."""
    h, a, s, t = 6144, 64, 2048, 8
    gpt = Architecture(layers=48, d_model=h, heads=a, kv_heads=a, ffn=4 * h, vocab=51200, gated_ffn=False)
    no_sp = memory.Layout(tp=t, sequence_parallel=False)
    assert memory.activations_per_token(gpt, no_sp, s) == pytest.approx(h * (8 + 24 / t))
    assert memory.activations_per_token(gpt, memory.Layout(tp=t), s) == pytest.approx(h * 32 / t)
    unfused = memory.Layout(tp=t, attention="unfused")
    assert memory.activations_per_token(gpt, unfused, s) == pytest.approx(h * 32 / t + 5 * a * s / t)
    assert memory.activations_per_token(gpt, memory.Layout(tp=t, recompute="full"), s) == 2 * h / t


def test_gqa_and_gated_mlp_change_the_count():
    """Llama's layer: Q and O of width h, K and V of 1/16 of it (8 of 128 heads), three MLP tensors of
    width f = 3.25h: 4h norms + 2h + 2h GEMM inputs + 2h + 0.25h + 2h attention + 19.5h MLP = 31.75h."""
    llama = Architecture(layers=126, d_model=16384, heads=128, kv_heads=8, ffn=53248, vocab=128256)
    assert memory.activations_per_token(llama, memory.Layout(), 8192) == pytest.approx(16384 * 31.75)


def test_the_first_stage_holds_p_micro_batches_more_when_interleaved():
    llama = Architecture(layers=128, d_model=4096, heads=32, kv_heads=8, ffn=14336, vocab=32000)
    per_layer = memory.activations_per_token(llama, memory.Layout(pp=8), 4096) * 4096
    plain = memory.activation_bytes(llama, 4096, memory.Layout(pp=8))
    assert plain == pytest.approx(16 * 8 * per_layer)  # 128/8 layers × 8 micro-batches
    interleaved = memory.activation_bytes(llama, 4096, memory.Layout(pp=8, vp=2))
    assert interleaved == pytest.approx(plain * (1 + 7 / 16))  # × (1 + (p−1)/(p·v)) [§4.2.3]
    assert memory.activation_bytes(llama, 4096, memory.Layout(pp=8), micro_batches=2) == pytest.approx(plain / 4)


def test_zero3_counts_the_gather_buffers():
    """DeepSpeed's estimator: 4 B of the largest layer (here the embedding) per GPU [S37]."""
    llama = Architecture(layers=126, d_model=16384, heads=128, kv_heads=8, ffn=53248, vocab=128256)
    n = 405.85e9
    assert memory.gather_buffers(llama, n, memory.Layout(zero=1)) == 0
    assert memory.gather_buffers(llama, n, memory.Layout(zero=3)) == pytest.approx(4 * n / 126)


def test_min_data_parallel_is_the_fewest_that_fit():
    layout = memory.Layout(zero=3, recompute="full")
    hbm = 80e9
    dp = memory.min_data_parallel(405.85e9, None, None, layout, hbm)
    usable = hbm - memory.allowance(hbm)
    assert dp == -(-16 * 405.85e9 // usable)  # every state sharded: ceil(16 N / usable)
    assert memory.min_data_parallel(405.85e9, None, None, memory.Layout(zero=0), 80e9) is None


def test_meta_table_4_layout_fits_an_h100(cli):
    """Llama 3 405B on TP 8 × PP 16 × DP 128 (Table 4) trained in 80 GB: the lowest ZeRO stage that
    fits is 2, Meta's FSDP without resharding (§3.3.2)."""
    doc = cli("memory", "llama-3.1-405b", "--gpu", "h100-sxm", "--tp", "8", "--pp", "16", "--dp", "128", "--json")
    assert doc.json()["fits"] is True and doc.json()["layout"]["zero"] == 2


def test_memory_cli(cli):
    doc = cli("memory", "llama-3.1-405b", "--gpu", "h100-sxm", "--zero", "0", "--json").json()
    assert doc["bytes_per_gpu"]["weights"] + doc["bytes_per_gpu"]["gradients"] + doc["bytes_per_gpu"][
        "optimizer"
    ] == pytest.approx(16 * 405_853_388_800)
    assert doc["fits"] is False
    # TP 8, ZeRO-3, full recompute: 16 × 405.85e9 / 8 B of state over the DP ranks, beside the layer
    # inputs (2·s·h·L), the logits and the gather buffers, within 80 GiB less the allowance
    assert doc["fewest_layout"]["tp"] == 8 and doc["fewest_gpus"] == 8 * doc["fewest_layout"]["dp"]
    assert 80 <= doc["fewest_gpus"] <= 120
    small = cli("memory", "llama-3-8b", "--gpu", "b200", "--tp", "1", "--dp", "8", "--json").json()
    assert small["fits"] is True
    run = cli("memory", "llama-3-8b", "--zero", "4")
    assert run.code == 2 and "--zero: expected a ZeRO stage 0-3" in run.stderr


def test_train_warns_when_the_state_cannot_fit(cli):
    run = cli("train", "llama-3.1-405b", "--gpus", "8")
    assert run.code == 0 and "cannot hold it even fully sharded" in run.stderr
    assert "warning" not in cli("train", "llama-3.1-405b").stderr


def test_a_preset_without_a_sequence_length_is_counted_at_the_stated_assumption(cli):
    """Llama 4 Maverick's preset gives no training sequence length: its activations are counted at the
    8,192 tokens the derived GPU count assumes too, said in the JSON notes and as a warning; a given
    --seq-len (or the preset's own) stands, with no note."""
    doc = cli("memory", "llama-4-maverick", "--json").json()
    given = cli("memory", "llama-4-maverick", "--seq-len", "8192", "--json").json()
    assert doc["seq_len"] == 8192 and "assumed" in doc["notes"][0] and "give one" in doc["notes"][0]
    assert given["notes"] == [] and given["bytes_per_gpu"] == doc["bytes_per_gpu"]
    longer = cli("memory", "llama-4-maverick", "--seq-len", "16384", "--json").json()
    assert longer["bytes_per_gpu"]["activations"] > doc["bytes_per_gpu"]["activations"]
    run = cli("memory", "llama-4-maverick")
    assert run.code == 0 and "warning: activations at sequences of 8,192 tokens, assumed" in run.stderr
    preset = cli("memory", "llama-3-8b", "--json").json()
    assert preset["seq_len"] == 8192 and preset["notes"] == []
    assert cli("memory", "--params", "7B", "--json").json()["seq_len"] is None
