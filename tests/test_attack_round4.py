"""Attack round 4: the input path of layout, memory, serve and fleet (setups.py), house defaults in
them, --vision, the output-is-not-an-input check and the API, held where they already behave.

Each test pins behaviour a hostile user probed and found right: bounds refused in one line with exit
2, conflicts refused, house values labelled and shown, documents valid against their schemas, the
API equal to the CLI and naming keywords, an output never replacing the file the command reads."""

import json
from pathlib import Path

import pytest

import llamacalc

jsonschema = pytest.importorskip("jsonschema")

FIXTURES = Path(__file__).parent / "fixtures" / "hf-multimodal"


def _refused(run, message):
    """Exit 2 with one line on stderr that says `message`, no traceback."""
    lines = run.stderr.strip().splitlines()
    assert run.code == 2, (run.code, run.stderr)
    assert len(lines) == 1 and message in lines[0], lines
    assert "Traceback" not in run.stderr


@pytest.fixture
def house(tmp_path):
    """A config file written with the given [defaults] lines, and the environment that reads it."""
    from llamacalc.cli.catalogs import house_defaults

    def write(text: str) -> dict[str, str]:
        path = tmp_path / "team.toml"
        path.write_text("[defaults]\n" + text, encoding="utf-8")
        house_defaults.cache_clear()
        return {"LLAMACALC_CONFIG": str(path), "COLUMNS": "200"}

    yield write
    house_defaults.cache_clear()


# --- bounds: one line, exit 2, the flag and what was expected ------------------------------------

LAYOUT = ("layout", "llama-3.1-70b", "--gpus", "64", "--global-batch", "128")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((*LAYOUT, "--gpus", "0"), "--gpus: expected a GPU count"),
        ((*LAYOUT, "--gpus", "10000001"), "--gpus: at most 10,000,000, got 10,000,001"),
        ((*LAYOUT, "--gpus", "nan"), "--gpus: expected a GPU count"),
        ((*LAYOUT, "--global-batch", "100000001"), "--global-batch: at most 100,000,000 sequences"),
        ((*LAYOUT, "--global-batch", "inf tokens"), "--global-batch: expected a token count"),
        ((*LAYOUT, "--seq-len", "100000001"), "--seq-len: at most 100,000,000"),
        ((*LAYOUT, "--tp", "0"), "--tp: expected a parallel degree"),
        ((*LAYOUT, "--zero", "4"), "--zero: expected a ZeRO stage 0-3"),
        ((*LAYOUT, "--precision", "fp4"), "--precision: expected one of bf16, fp8"),
        (("layout", "--params", "1e16", "--gpus", "8", "--global-batch", "8"), "--params: expected 1M to 1e15"),
        (("layout", "llama-3.1-70b", "--params", "7B", "--gpus", "8", "--global-batch", "8"), "conflict"),
        (("memory", "llama-3.1-70b", "--micro-batch", "1000001"), "--micro-batch: at most 1,000,000"),
        (("memory", "--params", "1e16"), "--params: at most 1e15"),
        (("serve", "llama-3.1-70b", "--tp", "3"), "--tp: 3 does not divide llama-3.1-70b's 64 attention heads"),
        (("serve", "llama-3.1-70b", "--max-tpot", "0ms"), "--max-tpot: expected a positive duration"),
        (("serve", "llama-3.1-70b", "--tokens-per-day", "1e21"), "--tokens-per-day: at most 1e20"),
        (("serve", "llama-3.1-70b", "--input-tokens", "10000001"), "--input-tokens: at most 10,000,000"),
        (("serve", "llama-3.1-70b", "--kv-cache", "fp4"), "--kv-cache: expected one of bf16, fp8, int8"),
        (("serve", "llama-3.1-70b", "--batch", "8", "--max-tpot", "20ms"), "not both"),
        (("fleet", "meta-24k", "--capex", "1e16"), "--capex: at most 1e15 USD"),
        (("fleet", "meta-24k", "--capex", "-1"), "--capex: expected money"),
        (("fleet", "meta-24k", "--pue", "0.99"), "--pue: expected a number from 1 to 10"),
        (("fleet", "meta-24k", "--life", "1000 years"), "--life: expected 0.1 to 100 years"),
        (("train", "llama-3.1-70b", "--layout", "tp8,tp8"), "--layout: tp given twice"),
        (("train", "llama-3.1-70b", "--inference-tokens", "1e21"), "--inference-tokens: at most 1e20"),
        (("train", "llama-3.1-70b", "--global-batch", "128"), "--global-batch goes with --layout"),
        (("train", "llama-3.1-70b", "--goodput", "--checkpoint-every", "30min"), "go together"),
    ],
)
def test_a_bad_input_is_one_line_and_exit_2(cli, args, message):
    _refused(cli(*args, env={"LLAMACALC_CONFIG": "/dev/null"}), message)


def test_a_gpu_of_another_cluster_conflicts(cli):
    run = cli("layout", "llama-3.1-70b", "--global-batch", "128", "--cluster", "meta-24k", "--gpu", "b200")
    _refused(run, "--gpu b200 and --cluster meta-24k (h100-sxm) conflict")


def test_degrees_that_do_not_divide_the_count_are_refused(cli):
    _refused(cli(*LAYOUT, "--tp", "8", "--pp", "8", "--dp", "2"), "(tp 8 × pp 8 × dp 2 = 128) do not divide --gpus 64")


# --- house defaults: checked at load, labelled, shown ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('life = "5 years"\n', 'life is the depreciation life of owned hardware: set pricing = "owned"'),
        ('cluster = "meta-24k"\ngpu = "b200"\n', "sets both the GPU count (or type) and what decides it"),
        ("gpus = true\n", "[defaults] gpus: expected a number or a string, got bool"),
        ("gpus = [64]\n", "[defaults] gpus: expected a number or a string, got list"),
        ("tp = 8\n", "[defaults] unknown input 'tp'"),
        ("pue = 0.5\n", "[defaults] pue: expected 1 to 10"),
        ('precision = "fp4"\n', "[defaults] precision: expected one of bf16, fp8"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_file(cli, house, text, message):
    env = house(text)
    for args in (LAYOUT, ("fleet", "meta-24k")):
        run = cli(*args, env=env)
        _refused(run, message)
        assert "team.toml" in run.stderr


def test_a_house_count_gives_way_to_the_degrees_and_a_house_gpu_to_the_cluster(cli, house):
    env = house('gpus = 64\ngpu = "b200"\n')
    document = cli(
        "layout", "llama-3.1-70b", "--global-batch", "128", "--tp", "8", "--pp", "2", "--dp", "16", "--json", env=env
    ).json()
    assert document["gpus"] == 256 and document["assumptions"]["gpus"]["origin"] == "derived"
    on_cluster = cli("layout", "llama-3.1-70b", "--global-batch", "128", "--cluster", "meta-24k", "--json", env=env)
    assert on_cluster.json()["gpu"] == "h100-sxm" and on_cluster.json()["assumptions"]["gpu"]["origin"] != "config"


def test_a_pricing_given_sets_a_house_life_aside_in_fleet_and_train(cli, house):
    env = house('pricing = "owned"\nlife = "4 years"\n')
    fleet = cli("fleet", "meta-24k", "--json", env=env).json()
    assert fleet["assumptions"]["life"]["origin"] == "config"
    spot = cli("train", "llama-3.1-70b", "--pricing", "spot", "--json", env=env)
    assert spot.code == 0 and "life" not in spot.json()["assumptions"]


SCHEMA_CASES = [
    (*LAYOUT, "--zero", "3"),
    ("layout", "--params", "7B", "--gpus", "8", "--global-batch", "16M tokens"),
    ("layout", "llama-3.1-70b", "--global-batch", "128"),
    ("memory", "llama-3.1-70b", "--pp", "4", "--global-batch", "8"),
    ("memory", "llama-4-maverick", "--ep", "8"),
    ("memory", "--params", "7B"),
    ("serve", "llama-4-maverick"),
    ("serve", "llama-3.1-70b", "--tokens-per-day", "10B", "--price", "2"),
    ("fleet", "meta-24k", "--capex", "1B", "--life", "5"),
    ("fleet", "meta-24k"),
    ("train", "llama-3.1-70b", "--layout", "tp8,pp2,dp4", "--inference-tokens", "2T"),
]


@pytest.mark.parametrize("args", SCHEMA_CASES, ids=[" ".join(a[:3]) for a in SCHEMA_CASES])
def test_documents_with_house_values_validate_against_their_schema(cli, house, args):
    env = house('gpu = "h100-sxm"\ngpus = 64\nseq_len = 4096\npue = 1.2\npricing = "owned"\nlife = "4 years"\n')
    document = cli(*args, "--json", env=env).json()
    name = document["schema"].split(".")[1].split("/")[0]
    schema = json.loads(cli("schema", name).stdout)
    jsonschema.Draft202012Validator(schema).validate(document)
    housed = [key for key, a in document.get("assumptions", {}).items() if a["origin"] == "config"]
    assert housed, "a house value reaches every one of these commands"
    assert all(document["assumptions"][key]["source"].endswith("team.toml [defaults]") for key in housed)


def test_every_house_value_a_table_used_is_named_under_it(cli, house):
    env = house('gpu = "h200-sxm"\ngpus = 64\nprecision = "fp8"\nseq_len = 4096\n')
    table = cli("layout", "llama-3.1-70b", "--global-batch", "128", env=env).stdout
    assert "team.toml: gpu h200-sxm, precision fp8, seq_len 4,096 tokens, gpus 64" in " ".join(table.split())


# --- serve's default TP --------------------------------------------------------------------------


def test_serves_default_tp_divides_the_heads(cli):
    document = cli("serve", "llama-4-maverick", "--json").json()
    assert document["tp"] == 10 and 40 % document["tp"] == 0


# --- --vision ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gemma-3-4b-it", "Qwen2.5-VL-7B-Instruct", "Llama-3.2-11B-Vision-Instruct"])
def test_vision_adds_the_tower_to_the_total_alone(cli, name):
    counts = json.loads((FIXTURES / "counts.json").read_text(encoding="utf-8"))[name]
    config = str(FIXTURES / f"{name}.json")
    text = cli("train", "--config", config, "--tokens", "1T", "--json").json()
    both = cli("train", "--config", config, "--tokens", "1T", "--vision", "--json").json()
    assert (text["params"], both["params"]) == (counts["text_params"], counts["total_params"])
    assert both["active_params"] == text["active_params"] and both["flops"] == text["flops"]


def test_vision_without_a_multimodal_config_is_refused(cli):
    _refused(cli("train", "llama-3-8b", "--vision"), "--vision counts a multimodal --config's vision tower")
    plain = str(Path(__file__).parent / "fixtures" / "llama-3.1-8b-config.json")
    _refused(cli("train", "--config", plain, "--tokens", "1T", "--vision"), "no vision tower is counted")


# --- an output is never the file the command reads ----------------------------------------------


@pytest.mark.parametrize("spelled", ["p.toml", "./p.toml", "../here/p.toml", "link.toml"])
def test_an_output_naming_the_plan_however_spelled_is_refused(cli, tmp_path, monkeypatch, spelled):
    here = tmp_path / "here"
    here.mkdir()
    plan = here / "p.toml"
    text = '[runs.a]\nmodel = "llama-3-8b"\nmax_days = 1000\n'
    plan.write_text(text, encoding="utf-8")
    (here / "link.toml").symlink_to("p.toml")
    monkeypatch.chdir(here)
    for option in ("-o", "--html"):
        _refused(cli("check", "--plan", "p.toml", option, spelled), "is the file --plan reads")
    assert plan.read_text(encoding="utf-8") == text


def test_an_output_naming_the_config_json_is_refused(cli, tmp_path):
    config = tmp_path / "config.json"
    text = (FIXTURES / "gemma-3-4b-it.json").read_text(encoding="utf-8")
    config.write_text(text, encoding="utf-8")
    _refused(cli("train", "--config", str(config), "--tokens", "1T", "-o", str(config)), "is the file --config reads")
    assert config.read_text(encoding="utf-8") == text


def test_two_outputs_may_share_dev_null_and_dash_is_stdout(cli):
    assert cli(*LAYOUT, "-o", "/dev/null", "--html", "/dev/null", "--svg", "/dev/null").code == 0
    assert "layout" in cli(*LAYOUT, "-o", "-").stdout


# --- the API: keywords, types, parity ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=[64], global_batch=128), "gpus: expected a number or text"),
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=True, global_batch=128), "got bool True"),
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=10**400, global_batch=128), "401 digits"),
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=float("nan"), global_batch=128), "gpus: expected a GPU count"),
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=64, global_batch=128, top=0), "top: expected a whole number"),
        (lambda: llamacalc.layout("llama-3.1-70b", gpus=64, global_batch=128, layout="tp8"), "unknown input 'layout'"),
        (lambda: llamacalc.memory("llama-3.1-70b", tp={"a": 1}), "tp: expected a number or text"),
        (lambda: llamacalc.memory(5), "memory: expected a preset name, got int 5"),
        (lambda: llamacalc.serve("llama-3.1-70b", batch=8, max_tpot="20ms"), "batch: give a concurrency"),
        (lambda: llamacalc.serve("llama-3.1-70b", price=float("inf")), "price: expected money per GPU-hour"),
        (lambda: llamacalc.fleet("meta-24k", pue=True), "pue: expected a number or text"),
        (lambda: llamacalc.fleet("meta-24k", pricing="owned"), "fleet: unknown input 'pricing'"),
        (lambda: llamacalc.train("llama-3.1-70b", layout="tp8,pp16,dp128", gpus=64), "drop gpus and cluster"),
        (lambda: llamacalc.train("llama-3.1-70b", life="4 years"), "use it with pricing owned"),
    ],
)
def test_api_errors_name_keywords_never_flags(call, message):
    with pytest.raises(llamacalc.InputError) as raised:
        call()
    assert message in str(raised.value) and "--" not in str(raised.value)


PARITY = [
    (lambda: llamacalc.layout(params="7B", gpus=8, global_batch=128),
     ["layout", "--params", "7B", "--gpus", "8", "--global-batch", "128"]),
    (lambda: llamacalc.layout("llama-3.1-70b", cluster="meta-24k", global_batch="16M tokens", top=2),
     ["layout", "llama-3.1-70b", "--cluster", "meta-24k", "--global-batch", "16M tokens", "--top", "2"]),
    (lambda: llamacalc.memory("llama-3.1-70b", seq_len=4096, pp=4, vp=2, micro_batch=2),
     ["memory", "llama-3.1-70b", "--seq-len", "4096", "--pp", "4", "--vp", "2", "--micro-batch", "2"]),
    (lambda: llamacalc.serve("llama-4-maverick"), ["serve", "llama-4-maverick"]),
    (lambda: llamacalc.serve("llama-3.1-70b", tokens_per_day="10B", price="2 USD/h", batch=8),
     ["serve", "llama-3.1-70b", "--tokens-per-day", "10B", "--price", "2 USD/h", "--batch", "8"]),
    (lambda: llamacalc.fleet("meta-24k", life="5 years", pue=1.3),
     ["fleet", "meta-24k", "--life", "5 years", "--pue", "1.3"]),
    (lambda: llamacalc.train("llama-3.1-70b", layout="auto", global_batch="16M tokens"),
     ["train", "llama-3.1-70b", "--layout", "auto", "--global-batch", "16M tokens"]),
]  # fmt: skip


@pytest.mark.parametrize(("call", "args"), PARITY, ids=[" ".join(args[:3]) for _, args in PARITY])
def test_api_and_cli_agree_on_the_setups_inputs(cli, call, args):
    assert call().to_dict() == cli(*args, "--json", env={"LLAMACALC_CONFIG": "/dev/null"}).json()
