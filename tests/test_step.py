"""The step model: its formulas against their sources, and how throughput moves when one thing changes."""

import math

import pytest

from llamacalc import step
from llamacalc.catalog import load_catalog, shipped_presets_dir
from llamacalc.errors import InputError
from llamacalc.flops import parameter_count
from llamacalc.specs import Architecture

CATALOG = load_catalog([shipped_presets_dir()])
H100 = step.fabric(CATALOG.hardware("h100-sxm"), precision="fp8")
MODEL = CATALOG.step_model()
LLAMA_70B = CATALOG.model("llama-3.1-70b").arch
LLAMA_8B = CATALOG.model("llama-3.1-8b").arch
assert LLAMA_70B is not None and LLAMA_8B is not None


def run(arch: Architecture, layout: step.Layout, batch: int = 128, seq: int = 8192, fabric=H100) -> step.Step:
    return step.step_time(arch, parameter_count(arch), 0, seq, batch, layout, fabric, MODEL)


def test_ring_collectives_follow_nccl_tests():
    """All-gather (n−1)/n·S/B, all-reduce twice that [S33b]; plus (n−1) hops of latency."""
    assert step.all_gather_time(8e9, 8, 1e9, 0.0) == pytest.approx(7.0)
    assert step.all_reduce_time(8e9, 8, 1e9, 1e-6) == pytest.approx(2 * (7.0 + 7e-6))
    assert step.all_gather_time(8e9, 1, 1e9, 1e-6) == 0


def test_parts_sum_to_the_step_and_throughput_follows():
    s = run(LLAMA_70B, step.Layout(tp=4, pp=4, dp=4, vp=5, precision="bf16"))
    assert s.time == pytest.approx(sum(s.parts.values()))
    assert s.tokens_per_s_per_gpu == pytest.approx(128 * 8192 / s.time / 64)
    assert 0.3 < s.mfu < 0.7 and s.hfu == pytest.approx(s.mfu)  # no recomputation: executed = model FLOPs


def test_the_bubble_is_p_minus_1_over_v_m_of_the_ideal():
    """Narayanan et al. 2021 §2.2.1: (p−1)/(v·m) of the m micro-batches' time [S14]."""
    for pp, vp in ((4, 1), (4, 5), (8, 2)):
        s = run(LLAMA_70B, step.Layout(tp=4, pp=pp, dp=2, vp=vp, precision="bf16"))
        m = 128 // 2
        busy = s.parts["compute"] + s.parts["tp"] + s.parts["cp"] + s.parts["ep"] + s.parts["pp"]
        assert s.parts["bubble"] == pytest.approx((pp - 1) / (vp * m) * busy)


def test_fp8_is_faster_but_less_than_twice():
    """FP8 doubles the GEMM peak; attention, element-wise work and communication stay."""
    layout = step.Layout(tp=4, pp=4, dp=2, cp=2, vp=5)
    bf16 = run(LLAMA_70B, layout._replace(precision="bf16"))
    fp8 = run(LLAMA_70B, layout._replace(precision="fp8"))
    assert 1.2 < bf16.time / fp8.time < 1.7
    assert fp8.mfu_of_precision == pytest.approx(fp8.mfu / 2, rel=1e-3)


def test_fewer_micro_batches_per_pipeline_cost_throughput():
    """More DP replicas of one model at one global batch: fewer micro-batches each, a larger bubble."""
    narrow = run(LLAMA_70B, step.Layout(tp=8, pp=8, dp=8), batch=256)
    wide = run(LLAMA_70B, step.Layout(tp=8, pp=8, dp=32), batch=256)
    assert wide.tokens_per_s_per_gpu < narrow.tokens_per_s_per_gpu
    assert wide.parts["bubble"] / wide.time > narrow.parts["bubble"] / narrow.time


def test_a_tp_group_leaving_the_nvlink_domain_slows_the_step():
    inside = run(LLAMA_70B, step.Layout(tp=8, pp=2, dp=4), batch=64)
    outside = run(LLAMA_70B, step.Layout(tp=16, pp=1, dp=4), batch=64)
    assert outside.parts["tp"] > 5 * inside.parts["tp"]
    assert outside.tokens_per_s_per_gpu < inside.tokens_per_s_per_gpu


def test_a_small_model_loses_less_to_communication_than_a_large_one_on_one_node():
    small = run(LLAMA_8B, step.Layout(dp=8), batch=128)
    large = run(LLAMA_70B, step.Layout(tp=8), batch=128)
    assert small.parts["compute"] / small.time > large.parts["compute"] / large.time


def test_full_recomputation_adds_a_forward_pass():
    layout = step.Layout(tp=8, pp=8, dp=1, vp=3, precision="bf16", sequence_parallel=True)
    gpt = Architecture(layers=96, d_model=12288, heads=96, kv_heads=96, ffn=49152, vocab=51200, gated_ffn=False)
    none = run(gpt, layout, batch=64, seq=2048)
    full = run(gpt, layout._replace(recompute="full"), batch=64, seq=2048)
    assert 1.2 < full.time / none.time < 1.45  # 8 of 6 FLOP units, and the forward's TP collectives again
    assert full.hfu < none.hfu * 1.4 and full.hfu > full.mfu


def test_a_gpu_without_fabric_figures_is_refused_by_name():
    with pytest.raises(InputError, match="h100-pcie lacks what the step model needs .*scale_up_domain"):
        step.fabric(CATALOG.hardware("h100-pcie"))
    with pytest.raises(InputError, match="gemm_fp8"):
        step.fabric(CATALOG.hardware("a100"), precision="fp8")


def test_a_cluster_overrides_the_network():
    meta = step.fabric(CATALOG.hardware("h100-sxm"), CATALOG.cluster("llama3-16k"))
    assert meta.pod == 3072 and meta.oversubscription == 7
    plain = step.fabric(CATALOG.hardware("h100-sxm"))
    assert plain.pod is None and math.isclose(meta.scale_out, plain.scale_out)
