"""serve: bytes per token by hand, the load model against published serving tables, latency targets,
and how throughput moves with the TP degree, HBM size and bandwidth, precision and experts."""

import json
import math
import statistics
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llamacalc.estimates.serve import backtest_serving, calibration, default_kv, replica
from llamacalc.serving import kv_bytes_per_token, max_concurrency, steady, weight_bytes

# TensorRT-LLM's published maximum-load throughputs (output tokens/s of the replica), every row of the
# shared table (../shared/performance/serving-throughput.json): [S40a] perf-overview.md @00f37686
# (v1.0-era) and, last two, [S40b] the same page's v0.17 table @258c7540.
TABLE = [
    ("trtllm-8b-h200-tp1-fp8-128-128", 27911),
    ("trtllm-8b-h100-tp1-fp8-128-128", 28312),
    ("trtllm-8b-h200-tp1-fp8-1000-1000", 17744),
    ("trtllm-8b-h100-tp1-fp8-1000-1000", 15220),
    ("trtllm-8b-h200-tp1-fp8-2048-2048", 12194),
    ("trtllm-8b-h100-tp1-fp8-2048-2048", 9305),
    ("trtllm-8b-h200-tp1-fp8-20000-2000", 1804),
    ("trtllm-8b-h100-tp1-fp8-20000-2000", 1351),
    ("trtllm-405b-b200-tp4-fp4-1000-1000", 5209),
    ("trtllm-405b-gb200-tp4-fp4-1000-1000", 5389),
    ("trtllm-405b-h200-tp8-fp8-1000-1000", 3330),
    ("trtllm-405b-h100-tp8-fp8-1000-1000", 2919),
    ("trtllm-405b-h100-tp8-fp8-128-128", 3627),
    ("trtllm-v0.17-8b-h100-tp1-fp8-1000-1000", 15244.78),
    ("trtllm-v0.17-405b-h200-tp8-fp8-1000-1000", 3399.69),
]


def test_kv_cache_and_weights_by_hand(catalog):
    """Llama 3 70B: 2 (K, V) × 80 layers × 8 KV heads × 128 × 2 B = 327,680 B per token in bf16; TP4
    splits the 8 KV heads, TP16 replicates them. FP8 weights keep the embedding and output layer in BF16."""
    arch = catalog.model("llama-3-70b").arch
    assert kv_bytes_per_token(arch, "bf16") == 327_680
    assert kv_bytes_per_token(arch, "fp8") == 163_840
    assert kv_bytes_per_token(arch, "fp8", 4) == 163_840 / 4
    assert kv_bytes_per_token(arch, "fp8", 16) == 163_840 / 8
    embeddings = 2 * 128_256 * 8192
    assert weight_bytes(arch, "fp8") == pytest.approx(70_553_706_496 + embeddings)
    assert weight_bytes(arch, "fp4") == pytest.approx((70_553_706_496 - embeddings) * 0.5625 + 2 * embeddings)


def test_every_row_of_the_published_table_within_30_percent_median_within_15(catalog):
    """The done-when of issue 25, on the 15 rows of the shared table; the presets carry them as published."""
    rows = {r.run.name: r for r in backtest_serving(catalog).rows}
    errors = []
    for name, measured in TABLE:
        row = rows[name]
        assert row.run.tokens_per_s == measured
        errors.append(row.error)
    assert statistics.median(abs(e) for e in errors) <= 0.15, errors
    assert all(abs(e) <= 0.30 for e in errors), errors


def test_held_out_errors_stay_near_the_fitted_ones(catalog):
    """Three constants fitted: each run left out of the fit in turn still lands within 40%, median 15%."""
    summary = backtest_serving(catalog).summary()
    assert summary["left_out_median_abs_error"] <= 0.15
    assert summary["left_out_max_abs_error"] <= 0.40
    assert summary["held_out_median_abs_error"] <= 0.15


def test_the_fit_is_physical(catalog):
    """No stack beats the measured GEMM ceiling or the HBM peak; the spread is finite."""
    c = calibration(catalog)
    assert c.compute >= 1 and c.memory >= 1 and c.kernel >= 0
    assert 0 < c.sigma < 0.5


def _serve(cli, *args):
    run = cli("serve", *args, "--json")
    assert run.code == 0, run.stderr
    return run.json()


def test_a_memory_starved_replica_is_not_a_bandwidth_ratio(cli):
    """70B FP8 on one H100 (80 GiB) leaves ~8 GB for KV cache, on one H200 (141 GB) ~56 GB: the H200
    serves far more than its 1.43× bandwidth; with the cache ample (8B) the ratio falls back toward it."""
    args = ["--precision", "fp8", "--tp", "1"]
    h100, h200 = (_serve(cli, "llama-3.1-70b", "--gpu", g, *args) for g in ("h100-sxm", "h200-sxm"))
    assert h200["max_concurrency"] > 5 * h100["max_concurrency"]
    assert h200["output_tokens_per_s"] / h100["output_tokens_per_s"] > 2.5
    small = [_serve(cli, "llama-3.1-8b", "--gpu", g, *args, "--input-tokens", "20000", "--output-tokens", "2000")
             for g in ("h100-sxm", "h200-sxm")]  # fmt: skip
    assert 1.1 < small[1]["output_tokens_per_s"] / small[0]["output_tokens_per_s"] < 2.2


def test_tensor_parallelism_adds_throughput_at_a_cost_per_gpu(cli):
    """More GPUs per replica: more KV cache and more throughput for the replica, less per GPU (the
    weights are read by every GPU's share and the all-reduces grow)."""
    runs = [_serve(cli, "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", str(t)) for t in (2, 4, 8)]
    replica_rates = [r["output_tokens_per_s"] for r in runs]
    per_gpu = [r["output_tokens_per_s_per_gpu"] for r in runs]
    assert replica_rates == sorted(replica_rates) and per_gpu == sorted(per_gpu, reverse=True)
    assert [r["tpot_parts_s"]["tp"] > 0 for r in runs] == [True] * 3


def test_the_highest_load_meeting_a_tpot(cli):
    """The done-when: 70B FP8 on 4 H100 under a 20 ms TPOT meets it, at the highest such load."""
    doc = _serve(cli, "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "4", "--max-tpot", "20ms")
    assert doc["tpot_s"] <= 0.020 and doc["max_tpot_s"] == 0.020
    assert doc["tokens_per_s_per_user"] == pytest.approx(1 / doc["tpot_s"])
    assert doc["output_tokens_per_s"] == pytest.approx(doc["concurrency"] / doc["tpot_s"])
    one_more = _serve(cli, "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "4", "--batch",
                      str(doc["concurrency"] + 1))  # fmt: skip
    assert one_more["tpot_s"] > 0.020
    table = cli("serve", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "4", "--max-tpot", "20ms",
                env={"COLUMNS": "120"}).stdout  # fmt: skip
    rows = [
        line.split("  ")[1].strip()
        for line in table.splitlines()
        if line.startswith("  ") and line.split("  ")[1].strip()
    ]
    assert rows[:2] == ["cost per million output tokens", "tokens/s per user"], rows


def test_a_ttft_target_and_an_impossible_one(cli):
    doc = _serve(cli, "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8", "--input-tokens", "20000",
                 "--max-ttft", "2s")  # fmt: skip
    assert doc["ttft_s"] <= 2
    run = cli("serve", "llama-3.1-405b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "8", "--max-tpot", "1ms")
    assert run.code == 2
    assert "--max-tpot 1 ms: no load meets it; the best possible is a TPOT of" in run.stderr, run.stderr


def test_fp4_on_blackwell_with_its_peak_cited(cli, catalog):
    """B200 dense FP4: 9,000 TFLOP/s [S18c]; GB200 10,000 [S24c]. FP4 weights take less memory than FP8."""
    b200 = catalog.hardware("b200")
    assert b200.peak("fp4") == 9e15 and catalog.hardware("gb200").peak("fp4") == 1e16
    assert "[S18c]" in b200.entry.source_of("peak_fp4")
    fp4 = _serve(cli, "llama-3.1-8b", "--gpu", "b200", "--precision", "fp4")
    fp8 = _serve(cli, "llama-3.1-8b", "--gpu", "b200", "--precision", "fp8")
    assert fp4["kv_cache"] == "fp8" and fp4["weight_bytes"] < fp8["weight_bytes"]
    assert fp4["output_tokens_per_s"] > fp8["output_tokens_per_s"]
    refused = cli("serve", "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp4")
    assert refused.code == 2 and "h100-sxm has no published fp4 peak" in refused.stderr


def test_fp8_kv_cache_holds_twice_the_tokens(cli):
    fp8 = _serve(cli, "llama-3.1-70b", "--gpu", "h200-sxm", "--precision", "fp8", "--kv-cache", "fp8")
    bf16 = _serve(cli, "llama-3.1-70b", "--gpu", "h200-sxm", "--precision", "fp8", "--kv-cache", "bf16")
    assert fp8["kv_cache_tokens"] == pytest.approx(2 * bf16["kv_cache_tokens"])
    assert fp8["output_tokens_per_s"] > bf16["output_tokens_per_s"]


def test_experts_active_drive_compute_total_drive_memory(catalog):
    """Llama 4 Maverick: 400B total, 17B active. Its weights are the total's; one iteration's compute
    seconds are close to a dense model's of the active size, far from the total's."""
    cal = catalog.step_model()
    h200 = catalog.hardware("h200-sxm")
    maverick = catalog.model("llama-4-maverick").arch
    assert weight_bytes(maverick, "fp8") > 390e9
    moe = steady(replica(h200, maverick, cal, "fp8", "fp8", 8, 8), 1024, 1000, 1000)
    dense = steady(replica(h200, catalog.model("llama-3.1-405b").arch, cal, "fp8", "fp8", 8), 1024, 1000, 1000)
    assert moe.compute < dense.compute / 5


def test_ranges_and_gpus_for_a_demand(cli):
    doc = _serve(cli, "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8", "--tokens-per-day", "100B")
    r = doc["ranges"]
    assert r["output_tokens_per_s"]["p10"] < doc["output_tokens_per_s"] < r["output_tokens_per_s"]["p90"]
    assert r["usd_per_million_tokens"]["p10"] < doc["usd_per_million_tokens"] < r["usd_per_million_tokens"]["p90"]
    assert r["gpus"]["p10"] <= doc["gpus"] <= r["gpus"]["p90"]
    assert doc["gpus"] == doc["tp"] * math.ceil(100e9 / (doc["output_tokens_per_s"] * 86400))
    assert doc["usd_per_million_tokens"] == pytest.approx(3.0 * doc["tp"] / 3600 / doc["output_tokens_per_s"] * 1e6)


def test_the_calibration_is_the_presets_and_a_user_extends_it(cli, tmp_path):
    """A run of one's own (a slow stack) joins the fit and lowers every estimate."""
    base = _serve(cli, "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8")
    (tmp_path / "mine.toml").write_text(
        '[serving."mine"]\nmodel = "llama-3.1-8b"\naccelerator = "h100-sxm"\nprecision = "fp8"\ntp = 1\n'
        'input = 1000\noutput = 1000\nconcurrency = "max"\ntokens_per_s = 3000\nsource = "our own stack"\n'
    )
    mine = _serve(cli, "llama-3.1-8b", "--gpu", "h100-sxm", "--precision", "fp8", "--presets", str(tmp_path))
    assert mine["calibration"]["runs"] == base["calibration"]["runs"] + 1
    assert mine["output_tokens_per_s"] < base["output_tokens_per_s"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llama-4-behemoth"], "has no architecture"),
        (["llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "1"], "cannot hold"),
        (["llama-3.1-8b", "--batch", "100000"], "--batch: at most"),
        (["llama-3.1-8b", "--precision", "fp16"], "--precision: expected one of bf16, fp8, int8, fp4"),
        (["llama-3.1-8b", "--kv-cache", "fp4"], "--kv-cache: expected one of bf16, fp8, int8"),
        (["llama-3.1-8b", "--gpu", "a100-sxm-40gb"], "no memory or bandwidth"),
        (["llama-3.1-8b", "--ep", "2"], "--ep:"),
        (["llama-3.1-8b", "--batch", "4", "--max-tpot", "20ms"], "not both"),
        (["llama-3.1-8b", "--max-tpot", "fast"], "--max-tpot"),
        (["llama-3.1-8b", "--tp", "3"], "does not divide llama-3.1-8b's 32 attention heads"),
        (["llama-3.1-8b", "--input-tokens", "1e12"], "--input-tokens: at most 10,000,000"),
        (["llama-3.1-8b", "--input-tokens", "1e7"], "no tensor-parallel degree holds the model"),
    ],
)
def test_serve_errors(cli, args, message):
    run = cli("serve", *args)
    assert run.code == 2 and message in run.stderr, run.stderr


def test_train_adds_the_serving_bill_from_the_same_model(cli):
    """train --inference-tokens: serving FLOPs 2·N·T, GPU-hours at serve's throughput, at the training price."""
    doc = cli("train", "llama-3-8b", "--inference-tokens", "100T", "--json").json()
    serving = doc["serving"]
    assert serving["flops"] == pytest.approx(2 * 8_030_261_248 * 100e12)
    per_gpu = _serve(cli, "llama-3-8b", "--gpu", "h100-sxm")["output_tokens_per_s_per_gpu"]
    assert serving["tokens_per_s_per_gpu"] == pytest.approx(per_gpu)
    assert serving["gpu_hours"] == pytest.approx(100e12 / per_gpu / 3600)
    assert serving["cost_usd"] == pytest.approx(serving["gpu_hours"] * 3.0)
    bad = cli("train", "llama-4-behemoth", "--inference-tokens", "1T")
    assert bad.code == 2 and "needs a model preset with an architecture" in bad.stderr


def test_int8_weights_serve_where_the_accelerator_publishes_an_int8_peak(cli):
    """INT8 halves the bytes of BF16 like FP8, its KV cache too (A100: 624 TOPS [S31])."""
    int8 = _serve(cli, "llama-3.1-70b", "--gpu", "a100-sxm-80gb", "--precision", "int8", "--tp", "2")
    bf16 = _serve(cli, "llama-3.1-70b", "--gpu", "a100-sxm-80gb", "--tp", "2")
    assert int8["kv_cache_bytes_per_token"] * 2 == bf16["kv_cache_bytes_per_token"]
    assert int8["output_tokens_per_s"] > bf16["output_tokens_per_s"]
    refused = cli("serve", "llama-3.1-70b", "--precision", "int8")
    assert refused.code == 2 and "h100-sxm has no published int8 peak" in refused.stderr
    assert default_kv("fp4") == "fp8" and default_kv("bf16") == "bf16"


def test_the_backtest_prints_every_run_and_validates(cli):
    jsonschema = pytest.importorskip("jsonschema")
    run = cli("serve", "--backtest", env={"COLUMNS": "160"})
    assert run.code == 0
    for name, _ in TABLE:
        assert name in run.stdout
    doc = cli("serve", "--backtest", "--json").json()
    schema = json.loads((Path(__file__).parent.parent / "llamacalc" / "schemas" / "serving-backtest.json").read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["runs"]) >= len(TABLE)


def test_max_concurrency_is_capped_by_the_scheduler(catalog):
    """Short requests: the KV cache would hold thousands, TensorRT-LLM's max_batch_size caps at 2,048."""
    r = replica(catalog.hardware("h200-sxm"), catalog.model("llama-3.1-8b").arch, catalog.step_model(), "fp8", "fp8", 1)
    assert max_concurrency(r, 128, 128) == 2048


def test_nim_latencies_it_was_not_fitted_to(cli):
    """NVIDIA NIM, Llama 3.3 70B on 2×H100 FP8, 5000 in / 500 out [S41]: TTFT 406.77 ms at concurrency 1
    (no TTFT is fitted), and 814 tokens/s at concurrency 50 (not a preset: the fit sees only 1 and max)."""
    args = ["llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "2", "--input-tokens", "5000",
            "--output-tokens", "500"]  # fmt: skip
    assert _serve(cli, *args, "--batch", "1")["ttft_s"] == pytest.approx(0.40677, rel=0.20)
    assert _serve(cli, *args, "--batch", "50")["output_tokens_per_s"] == pytest.approx(814, rel=0.15)


def test_the_fp4_peak_and_its_source_travel_with_the_answer(cli):
    doc = _serve(cli, "llama-3.1-8b", "--gpu", "b200", "--precision", "fp4")
    assert doc["peak_flops_per_s"] == 9e15 and "[S18c]" in doc["peak_source"]
    table = " ".join(cli("serve", "llama-3.1-8b", "--gpu", "b200", "--precision", "fp4").stdout.split())
    assert "FP4 peak 9,000 TFLOP/s dense per GPU: [S18c]" in table


@settings(max_examples=40, deadline=None)
@given(
    model=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "llama-4-maverick"]),
    gpu=st.sampled_from(["h100-sxm", "h200-sxm", "b200"]),
    inp=st.integers(1, 30_000),
    out=st.integers(1, 4_000),
    share=st.floats(0.0, 1.0),
)
def test_latency_and_throughput_grow_with_the_load(catalog, model, gpu, inp, out, share):
    """What the latency-target search relies on: TPOT and TTFT never fall as requests are added, and the
    replica's throughput never falls either."""
    from llamacalc.estimates.serve import load

    r = replica(catalog.hardware(gpu), catalog.model(model).arch, catalog.step_model(), "fp8", "fp8", 8)
    largest = max_concurrency(r, inp, out)
    if largest < 2:
        return
    cal = calibration(catalog)
    low = 1 + int(share * (largest - 2))
    a, b = load(r, cal, low, inp, out), load(r, cal, low + 1, inp, out)
    assert b.tpot >= a.tpot and b.ttft >= a.ttft * (1 - 1e-9)
    assert b.tokens_per_s >= a.tokens_per_s * (1 - 1e-9)
