"""What a fresh-eyes attack on today's new surfaces found (--format, config.toml, the Python API),
each held: malformed figures refused, bad API values an InputError, one output file per option."""

import csv
import io
import json

import pytest

import llamacalc


@pytest.mark.parametrize(
    ("option", "value"), [("--mfu", "{'x':0.5}"), ("--mfu", "[0.4]"), ("--days", "{5}"), ("--price", "{'a': 1}")]
)
def test_a_figure_in_brackets_or_quotes_is_refused_not_read(cli, option, value):
    run = cli("train", "llama-3-8b", option, value)
    assert run.code == 2 and run.stderr.startswith(f"llamacalc: error: {option}: expected")


def test_a_sequence_length_no_float_holds_is_bad_input_not_a_bug(cli):
    assert cli("train", "llama-3-8b", "--flops", "palm", "--seq-len", "1e308").code == 2
    line = json.dumps({"model": "llama-3-8b", "flops": "palm", "seq_len": "1e308"}) + "\n"
    assert "--seq-len: expected 1 to" in json.loads(cli("batch", input=line).stdout)["error"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: llamacalc.layout("llama-3-8b", gpus=64, global_batch=512, top=0),
        lambda: llamacalc.loss(mfuu=1),
        lambda: llamacalc.serve(["x"]),
        lambda: llamacalc.train("llama-3-8b", flops=["6nd"]),
        lambda: llamacalc.train("llama-3-8b", pue=10**400),
        lambda: llamacalc.check("llama-3-8b", confidence=10**400, max_days=3),
        lambda: llamacalc.train("llama-3-8b", presets=5),
        lambda: list(llamacalc.batch(5)),
    ],
)
def test_a_bad_api_value_is_an_input_error(call):
    with pytest.raises(llamacalc.InputError):
        call()


def test_api_batch_errors_name_inputs_and_bad_requests_are_lines():
    found = list(llamacalc.batch([{"model": "llama-3-8b", "mfu": 2}, "x"]))
    assert found[0]["error"].startswith("mfu: ") and found[1] == {
        "line": 2,
        "error": "expected a dict of train inputs, got str",
    }


def test_a_document_is_read_only():
    run = llamacalc.train("llama-3-8b")
    with pytest.raises(AttributeError, match="read-only"):
        run.days = 5


def test_csv_writes_booleans_as_json_does_and_quotes_formulas(cli, tmp_path):
    plan = tmp_path / "p.toml"
    plan.write_text('[runs."=HYPERLINK(1)"]\nmodel = "llama-3-8b"\nmax_days = 1000\n', encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(cli("check", "--plan", str(plan), "--format", "csv").stdout)))
    assert rows[0]["run"] == "'=HYPERLINK(1)" and rows[0]["passed"] == "true"


def test_format_names_are_read_whatever_their_case(cli):
    assert cli("train", "llama-3-8b", "--format", "JSON").json()["model"] == "llama-3-8b"
    assert "(did you mean 'md'?)" in cli("train", "llama-3-8b", "--format", "markdown").stderr


def test_format_github_writes_each_annotation_once(cli):
    run = cli("check", "llama-3-8b", "--max-cost", "1 USD", "--format", "github", env={"GITHUB_ACTIONS": "true"})
    assert run.stdout.count("::error") == 1 and "::error" not in run.stderr


@pytest.fixture
def config(tmp_path, monkeypatch):
    from llamacalc.cli.catalogs import house_defaults

    path = tmp_path / "config.toml"
    monkeypatch.setenv("LLAMACALC_CONFIG", str(path))
    house_defaults.cache_clear()
    yield path
    house_defaults.cache_clear()


def test_a_pricing_the_user_gives_decides_the_price_over_the_house_one(cli, config):
    config.write_text('[defaults]\nprice = "2.1 USD/h"\n', encoding="utf-8")
    owned = cli("train", "llama-3-8b", "--pricing", "owned", "--json").json()["assumptions"]["price"]
    assert owned["origin"] != "config"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[defaults]\nprice = 2\npresets = ["x"]\n', "presets goes above [defaults]"),
        ("[defaults]\ntokens = 1000000000000\n", "unknown input 'tokens'"),
    ],
)
def test_config_mistakes_are_named(cli, config, text, message):
    config.write_text(text, encoding="utf-8")
    run = cli("train", "llama-3-8b")
    assert run.code == 2 and message in run.stderr


def test_a_config_reads_its_presets_beside_it_and_may_start_with_a_bom(cli, config, tmp_path):
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "m.toml").write_text(
        '[models."team-7b"]\ntitle = "Team 7B"\nparams = "7e9"\ntokens = "1e12"\nsource = "a test"\n', encoding="utf-8"
    )
    config.write_text('\ufeffpresets = ["team"]\n[defaults]\npue = 1.3\n', encoding="utf-8")
    assert cli("train", "team-7b", "--json").json()["pue"] == 1.3


def test_dev_null_runs_without_the_config(cli, monkeypatch):
    from llamacalc.cli.catalogs import house_defaults

    monkeypatch.setenv("LLAMACALC_CONFIG", "/dev/null")
    house_defaults.cache_clear()
    assert cli("train", "llama-3-8b").code == 0
    house_defaults.cache_clear()


def test_an_output_never_replaces_a_file_the_command_reads(cli, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[runs.a]\nmodel = "llama-3-8b"\nmax_days = 100\n', encoding="utf-8")
    before = plan.read_bytes()
    for args in (("-o", str(plan)), ("--html", str(plan)), ("-o", str(tmp_path / "." / "plan.toml"))):
        run = cli("check", "--plan", str(plan), *args)
        assert run.code == 2 and "is the file --plan reads" in run.stderr, args
        assert plan.read_bytes() == before
    assert cli("check", "--plan", str(plan), "-o", str(tmp_path / "report.txt")).code == 0


def test_a_refused_command_says_one_line_even_after_a_warning(cli):
    refused = cli("memory", "--params", "70B", "--format", "junit")
    assert refused.code == 2 and refused.stderr.count("\n") == 1 and "--format" in refused.stderr
    answered = cli("memory", "--params", "70B")
    assert answered.code == 0 and answered.stderr.startswith("llamacalc: warning: activations need")
