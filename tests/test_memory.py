"""Training memory against hand-computed values, and the memory command."""

import pytest

from llamacalc import memory
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


def test_activations_per_layer_korthikanti():
    """s·b·h·(34 + 5·a·s/h)/t, 34·s·b·h/t selective, 2·s·b·h/t full (Korthikanti 2022 §4)."""
    arch = Architecture(layers=1, d_model=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256)
    s, h = 8192, 4096
    assert memory.activations_per_layer(arch, s, memory.Layout(tp=8)) == s * h * (34 + 5 * 32 * s / h) / 8
    assert memory.activations_per_layer(arch, s, memory.Layout(tp=8, recompute="selective")) == s * h * 34 / 8
    assert memory.activations_per_layer(arch, s, memory.Layout(recompute="full", tp=4)) == 2 * s * h / 4


def test_min_data_parallel_is_the_fewest_that_fit():
    layout = memory.Layout(zero=3, recompute="full")
    dp = memory.min_data_parallel(405.85e9, None, None, layout, 80e9)
    assert dp == 82  # ceil(16 × 405.85e9 / 80e9) = ceil(81.17)
    assert memory.min_data_parallel(405.85e9, None, None, memory.Layout(zero=0), 80e9) is None


def test_memory_cli(cli):
    doc = cli("memory", "llama-3.1-405b", "--gpu", "h100-sxm", "--zero", "0", "--json").json()
    assert doc["bytes_per_gpu"]["weights"] + doc["bytes_per_gpu"]["gradients"] + doc["bytes_per_gpu"][
        "optimizer"
    ] == pytest.approx(16 * 405_853_388_800)
    assert doc["fits"] is False
    # TP 8, ZeRO-3, full recompute: 16 × 405.85e9 / 8 B of state over DP ranks, plus 2·s·h·L/8 =
    # 2 × 8192 × 16384 × 126 / 8 = 4.23e9 B of activations; DP ≥ 8.12e11 / (80e9 − 4.23e9) = 10.7 → 11
    assert doc["fewest_gpus"] == 88 and doc["fewest_layout"]["tp"] == 8 and doc["fewest_layout"]["dp"] == 11
    small = cli("memory", "llama-3-8b", "--gpu", "b200", "--tp", "1", "--dp", "8", "--json").json()
    assert small["fits"] is True
    run = cli("memory", "llama-3-8b", "--zero", "4")
    assert run.code == 2 and "--zero: expected a ZeRO stage 0-3" in run.stderr


def test_train_warns_when_the_state_cannot_fit(cli):
    run = cli("train", "llama-3.1-405b", "--gpus", "8")
    assert run.code == 0 and "cannot hold it even fully sharded" in run.stderr
    assert "warning" not in cli("train", "llama-3.1-405b").stderr
