"""serve: bytes and FLOPs per token by hand, and the derated roofline against published serving runs."""

import math
import statistics

import pytest

from llamacalc.estimates.serve import Setting, bound_tokens_per_s
from llamacalc.flops import matmul_params
from llamacalc.serving import forward_flops, kv_bytes_per_token, max_batch, weight_bytes


def test_kv_cache_and_weights_by_hand(catalog):
    """Llama 3 70B, bf16: 2 (K, V) × 80 layers × 8 KV heads × 128 × 2 B = 327,680 B per token."""
    arch = catalog.model("llama-3-70b").arch
    assert kv_bytes_per_token(arch, "bf16") == 327_680
    assert kv_bytes_per_token(arch, "fp8") == 163_840
    assert weight_bytes(arch, "fp8") == 70_553_706_496


def test_forward_flops_per_token_kaplan(catalog):
    """2·N_matmul + 2·L·ctx·d_attn (Kaplan et al. 2020 Table 1)."""
    arch = catalog.model("llama-3.1-70b").arch
    n = sum(matmul_params(arch).values())
    assert forward_flops(arch, 4096) == 2 * n + 2 * 80 * 4096 * 8192


def test_batch_one_lands_near_the_published_latency_run(cli):
    """NIM: Llama 3.3 70B on 2×H100 FP8, concurrency 1: 51.67 tok/s. Within ±25%, default request too."""
    args = ["serve", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "2", "--batch", "1"]
    assert cli(*args, "--json").json()["decode_tokens_per_s"] == pytest.approx(51.67, rel=0.25)
    nim = cli(*args, "--input-tokens", "5000", "--output-tokens", "500", "--json").json()
    assert nim["decode_tokens_per_s"] == pytest.approx(51.67, rel=0.25)
    assert nim["ranges"]["decode_tokens_per_s"]["p10"] < 51.67 < nim["ranges"]["decode_tokens_per_s"]["p90"]


def test_max_throughput_lands_near_the_published_table_row(cli):
    """TensorRT-LLM: Llama 3.3 70B, H100 TP2 FP8, 1000/1000: 4,205 output tok/s. Within ±35%."""
    doc = cli("serve", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "2", "--json").json()
    assert doc["decode_tokens_per_s"] == pytest.approx(4205, rel=0.35)
    assert doc["batch"] == doc["max_batch"] and doc["decode_tokens_per_s"] < doc["bound_tokens_per_s"]


def test_the_derating_generalises_to_runs_it_did_not_see(catalog):
    """Leave one maximum-load run out, derate with the others: most land within ±35%."""
    ratios = []
    for name in catalog.names("serving"):
        f = catalog.entry("serving", name, "test").fields
        if f["concurrency"] == 1:
            continue
        model, hardware = catalog.model(f["model"]), catalog.hardware(f["accelerator"])
        context = f["input"] + f["output"]
        batch = max_batch(model.arch, f["precision"], hardware.memory * f["tp"], context)
        setting = Setting(model.arch, hardware, f["precision"], f["tp"], f["input"], f["output"], batch)
        ratios.append(f["tokens_per_s"] / bound_tokens_per_s(setting))
    errors = []
    for i, ratio in enumerate(ratios):
        others = math.exp(statistics.fmean(math.log(r) for j, r in enumerate(ratios) if j != i))
        errors.append(others / ratio - 1)
    assert sum(abs(e) <= 0.35 for e in errors) >= 0.75 * len(errors), errors


def test_gpus_and_price_follow_the_throughput(cli):
    doc = cli("serve", "llama-3.1-8b", "--gpu", "h100-sxm", "--tokens-per-day", "1B", "--json").json()
    per_day = doc["decode_tokens_per_s"] * 86400
    assert doc["gpus"] == doc["tp"] * math.ceil(1e9 / per_day)
    assert doc["usd_per_million_tokens"] == pytest.approx(3.0 * doc["tp"] / 3600 / doc["decode_tokens_per_s"] * 1e6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llama-4-behemoth"], "has no architecture"),
        (["llama-3.1-70b", "--gpu", "h100-sxm", "--tp", "1"], "cannot hold"),
        (["llama-3.1-8b", "--batch", "100000"], "--batch: at most"),
        (["llama-3.1-8b", "--precision", "fp4"], "--precision: expected one of bf16, fp8"),
        (["llama-3.1-8b", "--gpu", "a100-sxm-40gb"], "no memory or bandwidth"),
    ],
)
def test_serve_errors(cli, args, message):
    run = cli("serve", *args)
    assert run.code == 2 and message in run.stderr, run.stderr


def test_train_adds_the_serving_bill(cli):
    """train --inference-tokens: serving FLOPs 2·N·T, GPU-hours at serve's throughput, at the training price."""
    doc = cli("train", "llama-3-8b", "--inference-tokens", "100T", "--json").json()
    serving = doc["serving"]
    assert serving["flops"] == pytest.approx(2 * 8_030_261_248 * 100e12)
    per_gpu = cli("serve", "llama-3-8b", "--gpu", "h100-sxm", "--json").json()["decode_tokens_per_s_per_gpu"]
    assert serving["tokens_per_s_per_gpu"] == pytest.approx(per_gpu)
    assert serving["gpu_hours"] == pytest.approx(100e12 / per_gpu / 3600)
    assert serving["cost_usd"] == pytest.approx(serving["gpu_hours"] * 3.0)
    table = cli("train", "llama-3-8b", "--inference-tokens", "100T", env={"COLUMNS": "100"}).stdout
    assert "Lifetime: training, then serving 100T tokens" in " ".join(table.split())
    bad = cli("train", "llama-4-behemoth", "--inference-tokens", "1T")
    assert bad.code == 2 and "needs a model preset with an architecture" in bad.stderr


def test_int8_weights_serve_where_the_accelerator_publishes_an_int8_peak(cli):
    """INT8 halves the bytes of BF16 like FP8; its prefill runs at the INT8 peak (A100: 624 TOPS [S31])."""
    int8 = cli("serve", "llama-3.1-70b", "--gpu", "a100-sxm-80gb", "--precision", "int8", "--tp", "2", "--json").json()
    bf16 = cli("serve", "llama-3.1-70b", "--gpu", "a100-sxm-80gb", "--tp", "2", "--json").json()
    assert int8["weight_bytes"] * 2 == bf16["weight_bytes"]
    assert int8["kv_cache_bytes_per_token"] * 2 == bf16["kv_cache_bytes_per_token"]
    assert int8["prefill_tokens_per_s_per_gpu"] == pytest.approx(2 * bf16["prefill_tokens_per_s_per_gpu"])
    refused = cli("serve", "llama-3.1-70b", "--precision", "int8")
    assert refused.code == 2 and "h100-sxm has no published int8 peak" in refused.stderr
    assert cli("train", "llama-3-8b", "--precision", "int8").code == 2  # INT8 serves, never trains
