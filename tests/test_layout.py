"""The layout command, the search, `train --layout`, and the backtest against published steps."""

import statistics

import pytest

from llamacalc.catalog import load_catalog, shipped_presets_dir
from llamacalc.errors import InputError
from llamacalc.estimates import steps
from llamacalc.estimates.layout import estimate_layout
from llamacalc.resolve import Resolver
from llamacalc.setups import layout_setup, parse_layout, read_global_batch

CATALOG = load_catalog([shipped_presets_dir()])
TABLE_4 = ["--gpu", "h100-sxm", "--gpus", "16384", "--global-batch", "2048", "--seq-len", "8192"]


def test_table_4_layout_fits_at_its_published_mfu(cli):
    """Llama 3 Table 4: 405B on TP 8 × PP 16 × DP 128 at 41% BF16 MFU [S7]; within ±10% of it."""
    doc = cli("layout", "llama-3.1-405b", *TABLE_4, "--tp", "8", "--pp", "16", "--dp", "128", "--json").json()
    best = doc["layouts"][0]
    assert (best["tp"], best["pp"], best["dp"]) == (8, 16, 128) and best["fits"]
    assert 0.41 * 0.9 <= best["mfu"] <= 0.41 * 1.1
    assert best["memory_gib_per_gpu"] <= doc["gpu_memory_gib"] - doc["allowance_gib"]
    assert set(best) >= {
        "tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "zero", "recompute", "precision", "step_time_s",
        "tokens_per_s_per_gpu", "mfu", "hfu", "memory_gib_per_gpu", "fits", "breakdown",
    }  # fmt: skip
    assert sum(best["breakdown"].values()) == pytest.approx(best["step_time_s"])


def test_the_search_returns_fitting_layouts_of_every_gpu_best_first():
    setup = layout_setup(Resolver(CATALOG), {"model": "llama-3.1-405b", "gpus": "16384", "global_batch": "2048"})
    found = estimate_layout(CATALOG, setup, keep=10).layouts
    times = [c.step.time for c in found]
    assert times == sorted(times) and all(c.fits for c in found)
    assert all(c.step.layout.gpus == 16384 for c in found)


def test_global_batch_in_sequences_or_tokens():
    assert read_global_batch("2048").sequences(8192) == (2048, None)
    sequences, note = read_global_batch("16M tokens").sequences(8192)  # binary, as Llama 3 writes it: 2,048 × 8,192
    assert sequences == 2048 and note is not None and "binary" in note
    sequences, note = read_global_batch("1e7 tokens").sequences(8192)
    assert sequences == 1221 and note is not None and "1,221 sequences" in note
    assert read_global_batch("4194304 tokens").sequences(8192) == (512, None)
    with pytest.raises(InputError, match="--global-batch"):
        read_global_batch("lots")


def test_layout_text_parses_and_refuses_typos():
    assert parse_layout("tp8,pp16,dp128,cp2,vp4") == {"tp": 8, "pp": 16, "dp": 128, "cp": 2, "vp": 4}
    for bad in ("tp8,pp", "tq8", "tp8,tp4", "tp0"):
        with pytest.raises(InputError, match="--layout"):
            parse_layout(bad)


def test_nothing_fits_names_what_would(cli):
    run = cli("layout", "llama-3.1-405b", "--gpus", "8", "--global-batch", "16")
    assert run.code == 2 and run.stdout == ""
    assert "no layout of 8 GPUs fits" in run.stderr and "GPUs would fit" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpus", "48", "--global-batch", "48", "--tp", "3"], "--tp: 3 does not divide"),
        (["--gpus", "1000", "--global-batch", "2048", "--tp", "8", "--pp", "16", "--dp", "128"], "do not divide"),
        (["--gpus", "64"], "--global-batch"),
        (["--gpus", "64", "--global-batch", "64", "--zero", "5"], "--zero"),
        (["--gpus", "64", "--global-batch", "64", "--gpu", "h100-pcie"], "lacks what the step model needs"),
    ],
)
def test_bad_layout_input_is_one_line_exit_2(cli, args, message):
    run = cli("layout", "llama-3.1-70b", *args)
    assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_train_with_table_4_layout_lands_near_the_model_card(cli):
    """The card's 30.84M GPU-hours [S1]: Table 4's steady state times goodput, within ±20%."""
    doc = cli("train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--json").json()
    assert abs(doc["gpu_hours"] / 30.84e6 - 1) <= 0.2
    assert doc["layout"]["tp"] == 8 and doc["gpus"] == 16384
    assert 0.85 < doc["goodput"]["goodput"] < 0.95
    assert doc["mfu"] == pytest.approx(doc["steady_state_mfu"] * doc["goodput"]["goodput"])
    band = doc["empirical_mfu"]
    assert band["p10"] < band["p50"] < band["p90"]
    assert doc["layout_disagrees_with_empirical"] is not (band["p10"] <= doc["mfu"] <= band["p90"])


def test_train_layout_auto_without_a_count_says_how_it_chose_one(cli):
    """Never a silent GPU count: a replica per sequence of the global batch, and the output says so."""
    doc = cli("train", "llama-3.1-8b", "--layout", "auto", "--json").json()
    assert doc["gpus"] == 512 and "per sequence" in doc["layout"]["gpus_from"]
    assert "per sequence" in doc["assumptions"]["gpus"]["source"]


def test_train_layout_table_shows_the_join(cli):
    out = cli("train", "llama-3.1-405b", "--layout", "auto").stdout
    for shown in ("steady-state MFU", "goodput", "empirical band", "layout"):
        assert shown in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--mfu", "0.4"], "conflict"),
        (["llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--gpus", "64"], "sets the GPU count"),
        (["llama-3.1-405b", "--global-batch", "2048"], "--global-batch goes with --layout"),
        (["--params", "7B", "--tokens", "1T", "--layout", "auto", "--gpus", "64"], "architecture"),
    ],
)
def test_train_layout_refuses_what_it_cannot_join(cli, args, message):
    run = cli("train", *args)
    assert run.code == 2 and message in run.stderr


def test_backtest_against_published_steps():
    """The done-when on the shipped measurements: median ≤ 10%, every row within ±25%."""
    found = steps.backtest_steps(CATALOG)
    errors = [abs(p.error) for p in found.rows]
    assert len(errors) == len(CATALOG.names("steps")) >= 20
    assert statistics.median(errors) <= 0.10
    assert max(errors) <= 0.25


def test_paired_ratios_follow_the_measurements():
    """One thing changed: FP8 against BF16, more GPUs, recomputation. Within ±10%, except the NeMo
    24.07 Llama 3 8B FP8 row against BF16, which the model over-predicts by 15-25% (its CP 2 on a small
    model; the 25.11 FP8 8B row lands within 10%): held here at its measured size, so a change shows."""
    found = steps.backtest_steps(CATALOG)
    assert {p.what for p in found.pairs} == {"precision", "gpus", "recompute"}
    for pair in found.pairs:
        limit = 0.30 if "nemo-llama3-8b" in pair.first + pair.second else 0.10
        assert abs(pair.error) <= limit, pair


def test_held_out_errors_stay_small():
    found = steps.backtest_steps(CATALOG, held_out=True)
    held = [abs(e) for p in found.rows if (e := p.held_out_error) is not None]
    assert len(held) == len(found.rows) and statistics.median(held) <= 0.10 and max(held) <= 0.30


def test_the_shipped_constants_are_the_fit():
    """`calibrate --steps` reproduces the preset: the fit is deterministic, and it is what ships."""
    shipped = CATALOG.step_model()
    refit = steps.fit(CATALOG, steps.measured(CATALOG), shipped)
    for key in steps.FITTED:
        assert getattr(refit, key) == pytest.approx(getattr(shipped, key), rel=1e-3, abs=1e-9)


def test_backtest_steps_cli(cli):
    doc = cli("backtest", "--steps", "--json").json()
    assert doc["summary"]["median_abs_error"] <= 0.10
    assert all(row["held_out_error"] is not None for row in doc["steps"])
    assert "Backtest: the step model" in cli("backtest", "--steps").stdout


def test_params_alone_get_a_stated_llama_shape(cli):
    doc = cli("layout", "--params", "30B", "--gpus", "256", "--global-batch", "1024", "--json").json()
    assert doc["model"] == "30B (shaped)" and any("shaped as llama-" in note for note in doc["notes"])
    assert doc["layouts"][0]["fits"]
    run = cli("layout", "llama-3-8b", "--params", "30B", "--gpus", "8", "--global-batch", "8")
    assert run.code == 2 and "conflict" in run.stderr


def test_train_layout_takes_checkpoint_and_restart_times(cli):
    """Faster restarts and checkpoints: more goodput, fewer GPU-hours than the Llama 3 calibration."""
    base = cli("train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--json").json()
    quick = cli(
        "train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--checkpoint-every", "10 min", "--restart", "3 min",
        "--json",
    ).json()  # fmt: skip
    assert quick["goodput"]["lost_per_interruption_minutes"] == pytest.approx(8.0)
    assert quick["goodput"]["goodput"] > base["goodput"]["goodput"] and quick["gpu_hours"] < base["gpu_hours"]


def test_backtest_serving_is_a_backtest_too(cli):
    assert cli("backtest", "--serving", "--json").json() == cli("serve", "--backtest", "--json").json()
    run = cli("backtest", "--steps", "--serving")
    assert run.code == 2 and "one backtest at a time" in run.stderr


def test_a_replica_inside_its_domain_needs_no_network_figures(cli):
    """MI300X's references give no scale-out figure: it serves on one node, and a layout says why not."""
    assert cli("serve", "llama-3.1-8b", "--gpu", "mi300x", "--json").code == 0
    run = cli("layout", "llama-3.1-70b", "--gpu", "mi300x", "--gpus", "64", "--global-batch", "128")
    assert run.code == 2 and "scale_out_bandwidth" in run.stderr


def test_the_derived_gpu_count_and_the_assumed_batch_agree(cli):
    """One default batch for both: at 5,000-token sequences 4M tokens are 838 sequences, not 839."""
    doc = cli("train", "llama-3.1-8b", "--layout", "auto", "--seq-len", "5000", "--json").json()
    assert doc["gpus"] == doc["layout"]["global_batch"] == 838
