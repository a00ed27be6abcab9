"""The defects the fourth attack round found, each held: run as a user would, exit code and one line."""

import os

import pytest


def _config(tmp_path, text):
    from llamacalc.cli.catalogs import house_defaults

    house_defaults.cache_clear()  # a new file's defaults, in this process
    path = tmp_path / "team.toml"
    path.write_text(text, encoding="utf-8")
    return {"LLAMACALC_CONFIG": str(path)}


@pytest.fixture(autouse=True)
def _fresh_house():
    from llamacalc.cli.catalogs import house_defaults

    house_defaults.cache_clear()
    yield
    house_defaults.cache_clear()


def test_a_house_deadline_gives_way_to_a_layout(cli, tmp_path):
    run = cli("train", "llama-3.1-70b", "--layout", "auto", "--json", env=_config(tmp_path, "[defaults]\ndays = 30\n"))
    assert run.code == 0 and "days" not in run.json()["assumptions"]


def test_an_output_is_never_a_file_read_however_it_is_named(cli, tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text('[runs.a]\nmodel = "llama-3-8b"\nmax_days = 1000\n', encoding="utf-8")
    os.link(plan, tmp_path / "q.toml")
    before = plan.read_bytes()
    run = cli("check", "--plan", str(plan), "-o", str(tmp_path / "q.toml"))
    assert run.code == 2 and "is the file --plan reads" in run.stderr and plan.read_bytes() == before
    mine = tmp_path / "mine.toml"
    mine.write_text('[models.mine]\nparams = "7B"\ntokens = "1T"\n', encoding="utf-8")
    run = cli("compare", "llama-3-8b", str(mine), "-o", str(mine))
    assert run.code == 2 and "a file this command reads" in run.stderr and "[models.mine]" in mine.read_text()


def test_an_output_never_replaces_the_config_file_or_a_preset(cli, tmp_path):
    env = _config(tmp_path, "[defaults]\npue = 1.2\n")
    run = cli("fleet", "meta-24k", "-o", env["LLAMACALC_CONFIG"], env=env)
    assert run.code == 2 and "the config file llamacalc reads" in run.stderr
    folder = tmp_path / "pre"
    folder.mkdir()
    (folder / "gpu.toml").write_text('[hardware.my-gpu]\npeak_bf16 = "989 TFLOP/s"\n', encoding="utf-8")
    run = cli("train", "llama-3-8b", "--presets", str(folder), "-o", str(folder / "gpu.toml"))
    assert run.code == 2 and "a preset in a folder llamacalc reads (--presets)" in run.stderr
    assert cli("train", "llama-3-8b", "--presets", str(folder), "-o", str(folder / "new.txt")).code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "llama-3.1-70b", "--max-tpot", "20"], "--max-tpot: give the unit, e.g. 20ms"),
        (["serve", "llama-3.1-70b", "--max-ttft", "2"], "--max-ttft: give the unit"),
        (["train", "llama-3.1-405b", "--goodput", "--checkpoint-every", "0", "--restart", "0"], "give the unit"),
        (["train", "llama-3.1-405b", "--goodput", "--checkpoint-every", "0s", "--restart", "1min"], "positive"),
        (["train", "llama-3.1-70b", "--checkpoint-every", "30min", "--restart", "10min"], "with --goodput or --layout"),
        (["train", "llama-3.1-70b", "--pricing", "owned", "--price", "1 USD/h", "--life", "4 years"], "conflict"),
        (["memory", "llama-3.1-70b", "--params", "7B"], "MODEL and --params conflict"),
        (["memory", "--params", "2.5"], "--params: expected 1M to 1e15 parameters, got 2.5"),
        (["layout", "--params", "999999", "--gpus", "8", "--global-batch", "8"], "1M to 1e15 parameters, got 999,999"),
        (
            ["layout", "llama-3.1-70b", "--cluster", "meta-24k", "--tp", "8", "--pp", "8", "--dp", "1000",
             "--global-batch", "2000"],
            "exceed cluster meta-24k's 24,576",
        ),
        (
            ["layout", "llama-3.1-70b", "--gpus", "64", "--global-batch", "64", "--micro-batch", "2e6"],
            "at most 1,000,000",
        ),
        (["serve", "llama-4-maverick", "--tp", "16"], "try 1, 2, 4, 5, 8, 10, 20, 40"),
        (["serve", "llama-3.1-8b", "--batch", "0"], "such as '64'"),
    ],
)  # fmt: skip
def test_refused_in_one_line(cli, args, message):
    run = cli(*args)
    assert run.code == 2 and message in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_the_api_refuses_what_the_cli_refuses():
    import llamacalc

    with pytest.raises(llamacalc.InputError, match="max_tpot: give the unit"):
        llamacalc.serve("llama-3.1-70b", max_tpot=0.02)
    with pytest.raises(llamacalc.InputError, match="global_batch goes with layout"):
        llamacalc.train("llama-3.1-70b", global_batch=128)


def test_a_house_price_setting_aside_the_house_life_is_not_claimed(cli, tmp_path):
    env = _config(tmp_path, '[defaults]\npricing = "owned"\nlife = "4 years"\n')
    run = cli("train", "llama-3.1-70b", "--price", "2", env=env)
    assert run.code == 0 and "from " not in run.stdout.split("more: --sources")[-1]


def test_a_house_recompute_without_its_convention_is_refused_at_load(cli, tmp_path):
    run = cli("train", "llama-3-8b", env=_config(tmp_path, '[defaults]\nrecompute = "full"\n'))
    assert run.code == 2 and 'recompute counts executed FLOPs: set flops = "hardware" too' in run.stderr
    both = cli("train", "llama-3-8b", env=_config(tmp_path, '[defaults]\nrecompute = "full"\nflops = "hardware"\n'))
    assert both.code == 0


def test_a_layout_says_a_house_count_came_from_the_config_file(cli, tmp_path):
    run = cli(
        "layout", "llama-3-70b", "--global-batch", "1024", "--json", env=_config(tmp_path, "[defaults]\ngpus = 1024\n")
    )
    assert run.json()["gpus_from"] == "the config file's count"


def test_serve_says_when_tp_spans_the_network(cli):
    run = cli("serve", "llama-4-maverick")
    said = " ".join(run.stdout.split())
    assert run.code == 0 and "over the network (TP 10 spans more than h100-sxm's 8-GPU scale-up domain)" in said


def test_an_error_about_a_house_value_names_the_file_and_key(cli, tmp_path):
    env = _config(tmp_path, "[defaults]\ngpus = 64\n")
    run = cli("layout", "llama-3.1-70b", "--global-batch", "128", "--tp", "3", env=env)
    assert run.code == 2 and f"do not divide {env['LLAMACALC_CONFIG']} [defaults] gpus 64" in run.stderr
    typed = cli("layout", "llama-3.1-70b", "--global-batch", "128", "--tp", "3", "--gpus=64", env=env)
    assert typed.code == 2 and "do not divide --gpus 64" in typed.stderr
    env = _config(tmp_path, "[defaults]\ngpus = 64.5\n")
    run = cli("layout", "llama-3.1-70b", "--global-batch", "128", env=env)
    assert run.code == 2 and "[defaults] gpus: expected a whole number" in run.stderr


def test_a_degree_past_its_bound_says_the_bound(cli):
    run = cli("layout", "llama-3.1-70b", "--global-batch", "128", "--gpus", "64", "--tp", "1e16")
    assert run.code == 2 and "--tp: at most 10,000,000, got 1e16" in run.stderr


# --- the review of this round -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["optimal", "--params", "1e300", "--loss", "2.0"], "--params: expected 1,000 to 1e15"),
        (["optimal", "--loss", "1e300", "--inference-tokens", "1T"], "--loss: at most 100 nats per token"),
        (["optimal", "--compute", "1e24", "--serve-price", "2"], "--serve-price prices serving"),
        (["optimal", "--loss", "2", "--inference-tokens", "1T", "--output-share", "0.5"], "use it with --serve-gpu"),
        (
            ["optimal", "--loss", "2", "--inference-tokens", "1T", "--serve-gpu", "a100-sxm-80gb",
             "--serve-precision", "fp8"],
            "--serve-precision: a100-sxm-80gb has no published fp8 peak",
        ),
        (["memory", "--params", "70B", "--seq-len", "4096"], "--seq-len sizes activations"),
        (["layout", "llama-3.1-70b", "--global-batch", "128", "--layout-typo"], "No such option"),
    ],
)  # fmt: skip
def test_refused_after_review(cli, args, message):
    run = cli(*args)
    assert run.code == 2 and message in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_an_error_blames_only_house_values_the_run_took(cli, tmp_path):
    env = _config(tmp_path, "[defaults]\ngpus = 64\n")
    run = cli("train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128", "--cluster", "meta-24k", env=env)
    assert run.code == 2 and "[defaults]" not in run.stderr and "--gpus" in run.stderr


def test_a_house_cluster_gives_way_to_the_degrees(cli, tmp_path):
    env = _config(tmp_path, '[defaults]\ncluster = "llama3-16k"\n')
    args = ("layout", "llama-3.1-405b", "--global-batch", "2048", "--tp", "8", "--pp", "16", "--dp", "256", "--json")
    document = cli(*args, env=env).json()
    assert document["gpus"] == 32768 and "cluster" not in document["assumptions"]


@pytest.mark.parametrize(
    "args",
    [
        ("optimal", "--days", "30"),
        ("compare", "llama-3-8b", "llama-3-70b"),
        ("check", "llama-3-8b", "--max-days", "1000"),
    ],
)
def test_the_planning_tables_say_what_the_config_file_gave(cli, tmp_path, args):
    env = {**_config(tmp_path, "[defaults]\ngpus = 64\n"), "COLUMNS": "200"}
    assert f"from {env['LLAMACALC_CONFIG']}: gpus 64" in cli(*args, env=env).stdout
