"""The command line: outputs, JSON keys, exit codes and one-line errors, run in-process."""

import pytest

from llamacalc import __version__

TRAIN_KEYS = {
    "schema", "model", "gpu", "params", "active_params", "tokens", "flops", "peak_flops_per_gpu",
    "mfu", "gpus", "days", "gpu_hours", "price_usd_per_gpu_hour", "cost_usd", "energy_mwh", "co2_t",
    "assumptions", "reported",
}  # fmt: skip


def test_train_405b_table_shows_estimate_and_reported(cli):
    run = cli("train", "llama-3.1-405b")
    assert run.code == 0, run.stderr
    assert "3.80e25 FLOP" in run.stdout
    assert "30.8M" in run.stdout  # the model card's GPU-hours
    assert "34.6% implied" in run.stdout
    assert "assumed: MFU 24.9%, $3.00/GPU-h, PUE 1.09" in " ".join(run.stdout.split())  # the answer's assumptions
    assert "Inputs" not in run.stdout and len(run.stdout.splitlines()) <= 25
    assert run.stderr == ""
    sources = cli("train", "llama-3.1-405b", "--sources").stdout
    assert "Inputs" in sources and "assumption" in sources  # every input with its origin and source


def test_train_json_has_every_documented_key(cli):
    doc = cli("train", "llama-3.1-405b", "--json").json()
    assert doc.keys() >= TRAIN_KEYS
    assert doc["schema"] == "llamacalc.train/1"
    assert doc["flops"] == pytest.approx(3.80e25, rel=1e-3)
    assert doc["gpus"] == 16384
    assert doc["gpu_hours"] == pytest.approx(doc["gpus"] * doc["days"] * 24)
    assert doc["reported"]["gpu_hours"] == 30.84e6
    assert doc["reported"]["implied_mfu"] == pytest.approx(0.346, abs=0.001)
    assert doc["assumptions"]["mfu"]["origin"] == "assumption"
    assert doc["assumptions"]["mfu"]["assumption"] is True


def test_projected_llama4_is_ten_times_the_compute(cli):
    base = cli("train", "llama-3.1-405b", "--json").json()
    projected = cli("train", "llama-4-projected", "--json").json()
    assert projected["flops"] / base["flops"] == pytest.approx(10.0)
    assert projected["gpus"] == 160000
    assert projected["assumptions"]["gpus"]["assumption"] is True


def test_days_give_gpus_and_user_inputs_are_marked(cli):
    doc = cli("train", "--params", "70B", "--tokens", "1.4T", "--days", "3 weeks", "--mfu", "45%", "--json").json()
    assert doc["model"] is None
    assert doc["days"] <= 21
    assert doc["assumptions"]["mfu"] == {"value": 0.45, "unit": "", "origin": "user", "assumption": False, "source": ""}


def test_cluster_sets_gpu_type_and_count(cli):
    doc = cli("train", "llama-3.1-405b", "--cluster", "meta-24k", "--json").json()
    assert (doc["gpu"], doc["gpus"]) == ("h100-sxm", 24576)


def test_fp8_uses_the_fp8_peak_and_its_own_default_mfu(cli):
    doc = cli("train", "llama-4-behemoth", "--json").json()
    assert doc["precision"] == "fp8"
    assert doc["peak_flops_per_gpu"] == 1978.9e12
    assert doc["mfu"] == 0.197
    assert doc["gpus"] == 32768


def test_gpu_without_power_or_price_gives_nulls_not_guesses(cli):
    doc = cli("train", "llama-3-8b", "--gpu", "tpu-v5p", "--json").json()
    assert doc["energy_mwh"] is None and doc["cost_usd"] is None
    assert cli("train", "llama-3-8b", "--gpu", "tpu-v5p", "--power", "500 W", "--json").json()["energy_mwh"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--price", "5W"], "--price: expected money per GPU-hour (e.g. '2.5 USD/h'), got '5 W' (a power)"),
        (["--gpu", "h100-sxn"], "--gpu: unknown GPU 'h100-sxn' (did you mean 'h100-sxm'?)"),
        (["--mfu", "1.5"], "--mfu: expected a fraction in (0, 1]"),
        (["--mfu", "0"], "--mfu: expected a fraction in (0, 1]"),
        (["--pue", "0.9"], "--pue: expected a number from 1 to 10"),
        (["--price", "-2 USD/h"], "--price: expected money per GPU-hour (e.g. '2.5 USD/h'), got '-2 USD/h' (negative)"),
        (["--gpus", "1.5"], "--gpus: expected a whole number of GPUs"),
        (["--gpus", "nan"], "--gpus: expected a GPU count"),
        (["--tokens", "1e400"], "--tokens: expected a token count"),
        (["--gpus", "8", "--days", "3"], "--gpus and --days conflict"),
        (["--cluster", "meta-24k", "--gpus", "8"], "--cluster and --gpus conflict"),
        (["--precision", "fp8", "--gpu", "a100"], "--precision: a100-sxm-80gb has no published fp8 peak"),
        (["--precision", "fp4"], "--precision: expected one of bf16, fp8"),
        (["--days", "5 W"], "--days: expected a duration"),
        (["--gpuz", "8"], "No such option: --gpuz"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(cli, args, message):
    run = cli("train", "llama-3.1-405b", *args)
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("llamacalc: error: ")
    assert message in run.stderr
    assert run.stderr.count("\n") == 1


def test_unknown_model_suggests_the_closest(cli):
    run = cli("train", "llama-3.1-450b", "--json")
    assert (run.code, run.stdout) == (2, "")
    assert "did you mean 'llama-3.1-405b'" in run.stderr


def test_no_model_and_no_params(cli):
    run = cli("train")
    assert run.code == 2 and "give a MODEL preset, or --params and --tokens" in run.stderr


def test_presets_list_and_show(cli):
    listing = cli("presets", "--json").json()
    assert "llama-3.1-405b" in listing["models"] and "h100-sxm" in listing["hardware"]
    shown = cli("presets", "show", "h100-sxm", "--json").json()
    assert shown["fields"]["peak_bf16"] == "989.4 TFLOP/s"
    assert "price" in shown["assumptions"]
    assert all(shown["sources"].values())
    assert "meta-24k" in cli("presets").stdout
    assert "[S17]" in cli("presets", "show", "h100-sxm").stdout


def test_user_presets_from_option_and_env(cli, tmp_path):
    (tmp_path / "mine.toml").write_text('[models.tiny]\nparams = "1B"\ntokens = "20B"\nsource = "mine"\n')
    assert cli("train", "tiny", "--presets", str(tmp_path), "--json").json()["flops"] == pytest.approx(1.2e20)
    env = {"LLAMACALC_PRESETS": str(tmp_path)}
    assert cli("train", "tiny", "--json", env=env).json()["params"] == 1e9


def test_bad_user_preset_is_exit_2_naming_the_file(cli, tmp_path):
    (tmp_path / "bad.toml").write_text('[models.tiny]\nparams = "1B"\ntokenz = "20B"\n')
    run = cli("train", "tiny", "--presets", str(tmp_path))
    assert run.code == 2
    assert "bad.toml: models.tiny.tokenz: unknown field (did you mean 'tokens'?)" in run.stderr


def test_version(cli):
    assert cli("--version").stdout.strip() == f"llamacalc {__version__}"


def test_command_typos_suggest_the_command(cli):
    run = cli("tran", "llama-3-8b")
    assert run.code == 2
    assert run.stderr == "llamacalc: error: No such command 'tran' (did you mean 'train'?); see 'llamacalc --help'\n"


def test_root_help_lists_every_command_in_order(cli):
    help_text = cli("--help").stdout
    names = ["train", "optimal", "loss", "check", "batch", "compare", "sweep", "backtest", "memory", "presets"]
    positions = [help_text.index(f"\n  {name} ") for name in names]
    assert positions == sorted(positions)


def test_quiet_silences_warnings_not_errors(cli):
    assert "warning" in cli("train", "llama-3.1-405b", "--gpus", "8").stderr
    assert cli("-q", "train", "llama-3.1-405b", "--gpus", "8").stderr == ""
    assert cli("--quiet", "train", "nope").stderr.startswith("llamacalc: error:")


def test_root_help_states_the_exit_codes(cli):
    assert "Exit codes: 0 ok, 1 a budget check or batch line failed, 2 bad input, 3 internal error" in " ".join(
        cli("--help").stdout.split()
    )


def test_global_flags_anywhere_and_short_version(cli):
    assert cli("-V").stdout.startswith("llamacalc ")
    loud = cli("train", "llama-3.1-405b", "--gpus", "8")
    quiet = cli("train", "llama-3.1-405b", "--gpus", "8", "-q")
    assert "warning" in loud.stderr and quiet.stderr == "" and quiet.code == 0


def test_user_preset_folder_and_paths(cli, tmp_path):
    folder = tmp_path / "llamacalc" / "presets"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('[models.mine]\nparams = "7B"\ntokens = "2T"\nsource = "ours"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert cli("train", "mine", "--json", env=env).json()["params"] == 7e9
    assert f"user folder\t{folder}" in cli("presets", "--paths", env=env).stdout


def test_one_name_in_two_user_files_is_an_error_naming_both(cli, tmp_path):
    for name in ("a.toml", "b.toml"):
        (tmp_path / name).write_text('[models.twin]\nparams = "7B"\ntokens = "2T"\n')
    run = cli("train", "twin", "--presets", str(tmp_path))
    assert run.code == 2 and "a.toml" in run.stderr and "b.toml" in run.stderr and "keep one" in run.stderr


def test_presets_env_errors_name_the_variable(cli):
    run = cli("train", "llama-3-8b", env={"LLAMACALC_PRESETS": "/nonexistent"})
    assert run.code == 2 and run.stderr.startswith("llamacalc: error: LLAMACALC_PRESETS:")


def test_completion_offers_preset_names_and_choices():
    import os
    import subprocess
    import sys

    def complete(words: str, index: int) -> list[str]:
        env = {**os.environ, "_LLAMACALC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(index)}
        code = "from llamacalc.cli import main; main()"
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
        return run.stdout.split()

    assert "llama-3.1-405b" in complete("llamacalc train llama-3.1", 2)
    assert "h100-sxm" in complete("llamacalc train x --gpu h1", 4)
    assert complete("llamacalc train x --flops me", 4) == ["megatron"]


def test_the_run_options_are_the_inputs_table():
    from llamacalc.cli.options import RUN_OPTIONS
    from llamacalc.inputs import INPUTS

    assert sorted(RUN_OPTIONS) == sorted(INPUTS)


def test_the_answer_fits_twenty_lines_at_80_columns(cli):
    lines = cli("train", "llama-3.1-405b", env={"COLUMNS": "80"}).stdout.splitlines()
    assert len(lines) <= 20 and all(len(line.rstrip()) <= 80 for line in lines)
    assert lines[0].startswith("Llama 3.1 405B (llama-3.1-405b): 406B parameters, 15.6T tokens")
    assert lines[4].split()[:2] == ["training", "compute"]  # the answer first: no inputs before it
    with_sources = cli("train", "llama-3.1-405b", "--sources", env={"COLUMNS": "80"}).stdout
    assert "Inputs" in with_sources and "llamacalc sources S7" in with_sources


def test_sources_gives_a_tags_full_reference(cli):
    run = cli("sources", "S7", env={"COLUMNS": "80"})
    assert run.code == 0 and "The Llama 3 Herd of Models" in run.stdout and "arxiv.org/abs/2407.21783" in run.stdout
    assert cli("sources", "[S7]", "--json").json()["sources"]["S7"].startswith("Llama Team")
    every = cli("sources", "--json").json()["sources"]
    assert {"S1", "S7", "S29"} <= set(every)
    unknown = cli("sources", "S77")
    assert unknown.code == 2 and "did you mean 'S7'" in unknown.stderr and "'llamacalc sources'" in unknown.stderr


def test_one_origin_vocabulary_in_json_and_table(cli):
    """JSON's "origin" is the word the --sources table prints; a law's proposal is the law's, not the user's."""
    doc = cli("train", "llama-3.1-405b", "--gpus", "8192", "--json").json()
    table = cli("train", "llama-3.1-405b", "--gpus", "8192", "--sources", env={"COLUMNS": "200"}).stdout
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("  ") and line.strip()}
    for name, a in doc["assumptions"].items():
        assert a["origin"] in {"user", "preset", "assumption", "derived", "law"}
        assert a["origin"] in rows[name], name
    assert doc["assumptions"]["gpus"]["origin"] == "user" and doc["assumptions"]["price"]["origin"] == "assumption"
    proposal = cli("optimal", "--compute", "3.8e25", "--json").json()["laws"][0]["train"]["assumptions"]
    assert proposal["params"]["origin"] == proposal["tokens"]["origin"] == "law"
    assert proposal["gpus"]["origin"] != "user"
