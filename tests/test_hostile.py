"""Hostile input, round 2: one regression test per class of breakage, and a grammar-based fuzzer.

The fuzzer runs with a fixed seed; LLAMACALC_FUZZ_EXAMPLES raises its budget (a nightly-style run:
`LLAMACALC_FUZZ_EXAMPLES=5000 pytest tests/test_hostile.py -m fuzz`).
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamacalc.errors import ExitCode

LLAMACALC = [sys.executable, "-m", "llamacalc"]


def finite_json(text: str) -> None:
    """Every document parses, and no number in it is NaN or infinite."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-finite number {constant} in JSON output")

    for line in text.splitlines():
        if line.strip():
            json.loads(line, parse_constant=refuse)


def clean_failure(run, context: str) -> None:
    assert run.code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT), context
    assert "Traceback" not in run.stdout + run.stderr, context
    if run.code == ExitCode.BAD_INPUT:
        assert run.stdout == "" and run.stderr.startswith("llamacalc: error: "), context
        assert run.stderr.count("\n") == 1, context


# --- 1. -o writes through, never replaces what it should not ---------------------------------------


def test_output_writes_through_a_symlink_and_keeps_the_mode(cli, tmp_path):
    target = tmp_path / "target.json"
    target.write_text("old")
    target.chmod(0o640)
    (tmp_path / "link.json").symlink_to(target)
    assert cli("train", "llama-3-8b", "--json", "-o", str(tmp_path / "link.json")).code == 0
    assert (tmp_path / "link.json").is_symlink() and json.loads(target.read_text())["model"] == "llama-3-8b"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_output_new_file_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        subprocess.run([*LLAMACALC, "train", "llama-3-8b", "--json", "-o", str(tmp_path / "new.json")], check=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_output_to_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    subprocess.run([*LLAMACALC, "train", "llama-3-8b", "--json", "-o", str(fifo)], check=True, timeout=30)
    assert json.loads(reader.communicate(timeout=30)[0])["model"] == "llama-3-8b"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("name", [".", "folder"])
def test_output_to_a_folder_is_exit_2_and_leaves_nothing(cli, tmp_path, monkeypatch, name):
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    run = cli("train", "llama-3-8b", "--json", "-o", name)
    assert run.code == ExitCode.BAD_INPUT and "is a folder" in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_output_dash_is_stdout(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert json.loads(cli("train", "llama-3-8b", "--json", "-o", "-").stdout)["model"] == "llama-3-8b"
    assert not list(tmp_path.iterdir())


def test_sigterm_during_batch_output_leaves_no_temporary_file(tmp_path):
    lines = "".join(json.dumps({"model": "llama-3-8b", "gpus": 1024 + i % 7}) + "\n" for i in range(200_000))
    process = subprocess.Popen(
        [*LLAMACALC, "batch", "-o", str(tmp_path / "out.jsonl")], stdin=subprocess.PIPE, cwd=tmp_path
    )
    process.stdin.write(lines[: len(lines) // 2].encode())
    process.stdin.flush()
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    process.stdin.close()
    process.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []


# --- 2. one bad batch line never takes the others down ---------------------------------------------

BAD_LINES = [
    '{"model": "llama-3-8b", "gpus": [1]}',
    '{"model": "llama-3-8b", "gpus": {"a": 1}}',
    '{"model": "llama-3-8b", "price": 1e308}',
    '{"model": "llama-3-8b", "mfu": 1e-320}',
    "[" * 100_000 + "]" * 100_000,
    '{"model": "llama-3-8b", "tokens": "9**9**9"}',
]


@pytest.mark.parametrize("bad", BAD_LINES, ids=range(len(BAD_LINES)))
def test_a_bad_batch_line_is_its_own_error(cli, bad):
    good = '{"model": "llama-3-8b"}'
    run = cli("batch", input=f"{good}\n{bad}\n{good}\n")
    assert run.code == ExitCode.CHECK_FAILED
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d.get("line") for d in out] == [None, 2, None] and out[0]["gpus"] == out[2]["gpus"]
    finite_json(run.stdout)


# --- 3. unit strings cannot hang ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["optimal", "--compute", "9**9**9 FLOP"],
        ["train", "llama-3-8b", "--price", "9**9**8 USD/h"],
        ["optimal", "--compute", "2**2**2**2**2 FLOP"],
        ["optimal", "--compute", "(9**99)**99 FLOP"],
        ["train", "llama-3-8b", "--price", "1" * 5000 + " USD/h"],
    ],
)
def test_exponent_towers_are_refused_at_once(cli, args):
    start = time.perf_counter()
    run = cli(*args)
    assert time.perf_counter() - start < 2
    assert run.code == ExitCode.BAD_INPUT, run.stderr


# --- 4. absurd numbers are refused, never printed as inf or nan ---------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["train", "llama-3-8b", "--mfu", "1e-320"],
        ["train", "llama-3-8b", "--power", "1e308"],
        ["train", "llama-3-8b", "--pue", "1e308"],
        ["train", "llama-3-8b", "--carbon", "1e308"],
        ["train", "llama-3-8b", "--days", "1e-300"],
        ["train", "llama-3-8b", "--price", "1e308", "--json"],
        ["loss", "--params", "1e300", "--tokens", "1e300"],
        ["optimal", "--compute", "5e-324 FLOP"],
        ["optimal", "--budget", "1e308 USD"],
        ["memory", "--params", "1.5e307"],
        ["sweep", "llama-3-8b", "--mfu", "1e-320:0.5:x10"],
    ],
)
def test_absurd_numbers_are_exit_2(cli, args):
    run = cli(*args)
    assert run.code == ExitCode.BAD_INPUT and run.stdout == "", (run.code, run.stderr)
    assert run.stderr.count("\n") == 1


# --- 5. preset, plan and config values are checked ----------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "args", "message"),
    [
        ("[hardware.z]\npeak_bf16 = 0\n", ["train", "llama-3-8b", "--gpu", "z"], "above zero"),
        ('[models.m]\nparams = "8B"\ntokens = "1T"\n[models.m.reported]\ngpu_hours = "1e-320"\n', ["train", "m"],
         "at least one GPU-hour"),
        ('[clusters.c]\ngpu = "h100-sxm"\ngpus = 9223372036854775807\n', ["train", "llama-3-8b", "--cluster", "c"],
         "at most"),
        ('[models.a]\nbased_on = "b"\ncompute_scale = 2\n[models.b]\nbased_on = "a"\ncompute_scale = 2\n',
         ["train", "a"], "must name a model with params and tokens"),
        ('[models.a]\nbased_on = "llama-3-8b"\ncompute_scale = -5\n', ["train", "a"], "compute_scale"),
        ('[laws.x]\nform = "parametric"\nE = 1\nA = 1\nB = 1\nalpha = 0\nbeta = 0.3\n',
         ["optimal", "--compute", "1e24", "--law", "x"], "laws.x.alpha"),
        ('[laws.x]\nform = "parametric"\nE = 1\nA = -1\nB = 1\nalpha = 0.3\nbeta = 0.3\n',
         ["optimal", "--compute", "1e24", "--law", "x"], "laws.x.A"),
        ('[laws.x]\nform = "parametric"\nE = 1\nA = 1e300\nB = 1\nalpha = 0.3\nbeta = 0.3\n',
         ["optimal", "--compute", "1e24", "--law", "x"], "the x law's constants split 1e24 FLOP into no finite model"),
        ('[laws.x]\nform = "parametric"\nE = 1\nA = 1e300\nB = 1\nalpha = 0.3\nbeta = 0.3\n',
         ["loss", "--params", "7B", "--tokens", "1T", "--law", "x"], "check them"),
        ('[models.m]\nparams = "8B"\ntokens = "1T"\n[models.m.reported]\ngpu = "h100-sxm"\nco2_t = nan\n',
         ["train", "m"], "models.m.reported.co2_t: expected tonnes of CO2"),
    ],
)  # fmt: skip
def test_preset_values_are_checked(cli, tmp_path, preset, args, message):
    (tmp_path / "p.toml").write_text(preset)
    run = cli(*args, "--presets", str(tmp_path / "p.toml"))
    assert run.code == ExitCode.BAD_INPUT and message in run.stderr, run.stderr


@pytest.mark.parametrize("plan", ["[runs.a]\nmodel = 'llama-3-8b'\ngpus = [1]\nmax_days = 9\n",
                                  "[runs.a]\nmodel = 'llama-3-8b'\ngpus = 1979-05-27\nmax_days = 9\n"])  # fmt: skip
def test_wrong_types_in_plans_are_exit_2(cli, tmp_path, plan):
    (tmp_path / "plan.toml").write_text(plan)
    run = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert run.code == ExitCode.BAD_INPUT and "--gpus" in run.stderr, run.stderr


# --- 6. text from files reaches the terminal inert ------------------------------------------------------


def test_markup_and_escapes_in_presets_are_shown_not_acted_on(cli, tmp_path):
    (tmp_path / "p.toml").write_text(
        '[models."[/nope]"]\ntitle = "[link=http://x]evil[/link] \\u001b[2J"\nparams = "8B"\ntokens = "1T"\n'
    )
    run = cli("train", "[/nope]", "--presets", str(tmp_path / "p.toml"), env={"COLUMNS": "100"})
    assert run.code == 0 and "\x1b" not in run.stdout
    assert "[link=http://x]evil[/link] \\x1b[2J" in run.stdout
    run = cli("train", "\x1b[2J")
    assert run.code == ExitCode.BAD_INPUT and "\x1b" not in run.stderr and "\\x1b" in run.stderr


# --- 7. files that are not files -------------------------------------------------------------------------


def test_special_files_are_refused_not_read(cli, tmp_path):
    os.mkfifo(tmp_path / "hang.toml")
    run = cli("train", "llama-3-8b", "--presets", str(tmp_path))
    assert run.code == ExitCode.BAD_INPUT and "not a regular file" in run.stderr
    (tmp_path / "hang.toml").unlink()
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    run = cli("train", "llama-3-8b", "--presets", str(tmp_path))
    assert run.code == ExitCode.BAD_INPUT and "not a regular file" in run.stderr
    for option, extra in (("--plan", []), ("--config", ["--tokens", "1T"])):
        command = ["check"] if option == "--plan" else ["train"]
        run = cli(*command, option, str(tmp_path / "zero.toml"), *extra)
        assert run.code == ExitCode.BAD_INPUT and "not a regular file" in run.stderr, run.stderr


def test_a_plan_of_too_many_runs_is_refused(cli, tmp_path):
    (tmp_path / "plan.toml").write_text("".join(f"[runs.r{i}]\nmodel = 'llama-3-8b'\n" for i in range(10_001)))
    run = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert run.code == ExitCode.BAD_INPUT and "at most 10,000" in run.stderr


# --- 8. edges of the environment --------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}])
def test_tables_on_a_terminal_that_is_not_utf8(env):
    run = subprocess.run(
        [*LLAMACALC, "train", "llama-3-8b"], capture_output=True, env={**os.environ, **env}, timeout=30
    )
    assert run.returncode == 0 and b"GPU-hours" in run.stdout


def test_columns_zero_still_prints_a_table(cli):
    run = cli("train", "llama-3-8b", env={"COLUMNS": "0"})
    assert run.code == 0 and "GPU-hours" in run.stdout


def test_an_over_long_path_is_exit_2(cli):
    run = cli("train", "llama-3-8b", "--presets", "a" * 5000)
    assert run.code == ExitCode.BAD_INPUT and run.stderr.count("\n") == 1


# --- 9. zero limits and tiny values ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["--max-cost", "--max-days"])
def test_a_zero_limit_is_exit_2(cli, limit):
    run = cli("check", "llama-3-8b", limit, "0")
    assert run.code == ExitCode.BAD_INPUT and "above zero" in run.stderr


# --- 10. quiet misreadings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--params", "1,5T", "--tokens", "1T"], "write a decimal point"),
        (["--days", "1,5"], "write a decimal point"),
        (["--price", "-0"], "negative"),
        (["--tokens", "15.6"], "did you mean '15.6B' or '15.6T'"),
    ],
)
def test_quiet_misreadings_are_errors(cli, args, message):
    run = cli("train", *(["llama-3-8b"] if "--params" not in args else []), *args)
    assert run.code == ExitCode.BAD_INPUT and message in run.stderr, run.stderr


def test_thousands_separators_still_read(cli):
    doc = cli("train", "llama-3-8b", "--gpus", "16,384", "--json").json()
    assert doc["gpus"] == 16384


# --- the fuzzer -----------------------------------------------------------------------------------------------------

COMMANDS = [
    ["train"], ["optimal"], ["loss"], ["check"], ["compare"], ["sweep"], ["memory"], ["presets", "show"], ["serve"],
    ["fleet"],
]  # fmt: skip
OPTIONS = [
    "--params", "--tokens", "--gpu", "--gpus", "--days", "--mfu", "--price", "--power", "--pue", "--carbon",
    "--compute", "--budget", "--loss", "--law", "--max-cost", "--max-days", "--max-gpus", "--confidence",
    "--flops", "--seq-len", "--tp", "--dp", "--zero", "--pricing", "--life", "--inference-tokens", "--tokens-per-day",
    "--capex", "--batch", "--serve-gpu", "--max-power",
]  # fmt: skip
HOSTILE = [
    "9**9**9 FLOP", "2**2**2**2**2", "1,5T", "16,384", "-0", "1e-320", "1e308", "5e-324", "nan", "inf", "0",
    "\x1b[2J", "[link=x]y[/link]", "[/nope]", "1" * 300, "15.6", "0.5", "405B", "15.6T", "llama-3-8b", "h100",
    "2.5 USD/h", "1:5:0.5", "1e-320:0.5:x10", "palm", "epoch", "0.9", "3 weeks", "$1,000,000", "owned", "spot",
    "meta-350k", "5.5 years", "1e300", "150 MW",
]  # fmt: skip
EXAMPLES = int(os.environ.get("LLAMACALC_FUZZ_EXAMPLES", "150"))

argv = st.tuples(
    st.sampled_from(COMMANDS),
    st.lists(st.sampled_from(HOSTILE), max_size=1),
    st.lists(st.tuples(st.sampled_from(OPTIONS), st.sampled_from(HOSTILE)), max_size=4),
    st.booleans(),
)


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv)
def test_fuzzed_command_lines_fail_cleanly(cli, generated):
    command, positional, options, as_json = generated
    args = [*command, *positional, *(part for pair in options for part in pair), *(["--json"] if as_json else [])]
    start = time.perf_counter()
    run = cli(*args)
    assert time.perf_counter() - start < 5, args
    clean_failure(run, f"llamacalc {args!r}: exit {run.code}, stderr {run.stderr!r}")
    if as_json and run.code in (ExitCode.OK, ExitCode.CHECK_FAILED):
        finite_json(run.stdout)


line_value = st.one_of(
    st.sampled_from(HOSTILE), st.floats(allow_nan=False), st.integers(), st.none(), st.booleans(),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
batch_line = st.dictionaries(
    st.sampled_from(["model", "params", "tokens", "gpu", "gpus", "days", "mfu", "price", "power", "pue", "carbon"]),
    line_value,
    max_size=5,
)


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(batch_line, min_size=1, max_size=4))
def test_fuzzed_batch_lines_each_get_a_line(cli, lines):
    text = "".join(json.dumps({"model": "llama-3-8b", **line}) + "\n" for line in lines)
    run = cli("batch", input=text)
    assert run.code in (ExitCode.OK, ExitCode.CHECK_FAILED), run.stderr
    assert len(run.stdout.splitlines()) == len(lines)
    finite_json(run.stdout)


preset_value = st.one_of(
    st.sampled_from(["0", "-1", "nan", "1e-320", "1e308", "9**9**9 FLOP/s", "989 TFLOP/s", "80 GB", "700 W"]),
    st.floats(allow_nan=False), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(),
)  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(["peak_bf16", "memory", "power", "price", "bandwidth"]), preset_value,
                       min_size=1))  # fmt: skip
def test_fuzzed_hardware_presets_fail_cleanly(cli, tmp_path_factory, fields):
    folder = tmp_path_factory.mktemp("presets")
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in fields.items())
    (folder / "p.toml").write_text("[hardware.z]\n" + body)
    run = cli("train", "llama-3-8b", "--gpu", "z", "--json", "--presets", str(folder))
    clean_failure(run, f"{fields!r}: exit {run.code}, stderr {run.stderr!r}")
    if run.code == 0:
        finite_json(run.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "llama-3-8b", "--price", "1e300"], "--price: expected 0 to 10,000 USD/GPU-hour"),
        (["train", "llama-3-8b", "--days", "1e300"], "--days: expected 1e-6 to 100,000 days"),
        (["train", "llama-3-8b", "--pue", "50"], "--pue: expected a number from 1 to 10"),
        (["train", "llama-3-8b", "--pricing", "owned", "--life", "1e-300yr"], "--life: expected 0.1 to 100 years"),
        (["train", "llama-3-8b", "--inference-tokens", "1e300"], "--inference-tokens: at most 1e20"),
        (["serve", "llama-3-8b", "--tokens-per-day", "1e300"], "--tokens-per-day: at most 1e20"),
        (["serve", "llama-3-8b", "--price", "1e308"], "--price: expected 0 to 10,000"),
        (["fleet", "meta-350k", "--capex", "1e308 USD"], "--capex: at most 1e15 USD"),
        (["fleet", "meta-350k", "--pue", "1e308"], "--pue: expected a number from 1 to 10"),
        (["optimal", "--compute", "1e3 FLOP"], "too little for the epoch law to split into a model"),
    ],
)
def test_inputs_beyond_their_bounds_are_exit_2(cli, args, message):
    """Finite but absurd inputs (a $1e300 GPU-hour) are typos, refused before they print $5.69e+306."""
    run = cli(*args)
    assert run.code == ExitCode.BAD_INPUT and message in run.stderr, run.stderr


plan_value = st.one_of(
    st.sampled_from(HOSTILE), st.floats(allow_nan=False), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(), st.lists(st.integers(), max_size=2),
)  # fmt: skip
plan_run = st.dictionaries(
    st.sampled_from(
        ["model", "gpus", "days", "mfu", "price", "max_cost", "max_days", "max_power", "confidence", "oops"]
    ),
    plan_value,
    max_size=4,
)


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(plan_run, min_size=1, max_size=3))
def test_fuzzed_plan_files_fail_cleanly(cli, tmp_path_factory, runs):
    folder = tmp_path_factory.mktemp("plans")
    text = "".join(
        f"[runs.r{i}]\nmodel = 'llama-3-8b'\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in run.items() if k != "model")
        for i, run in enumerate(runs)
    )
    (folder / "plan.toml").write_text(text)
    run = cli("check", "--plan", str(folder / "plan.toml"), "--json")
    clean_failure(run, f"{text!r}: exit {run.code}, stderr {run.stderr!r}")
    if run.code in (ExitCode.OK, ExitCode.CHECK_FAILED):
        finite_json(run.stdout)


config_value = st.one_of(
    st.integers(min_value=-5, max_value=70000), st.sampled_from([True, False, None, "false", 5.5, [], {}]),
)  # fmt: skip
config_keys = [
    "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size", "vocab_size",
    "head_dim", "tie_word_embeddings", "num_local_experts", "num_experts_per_tok", "sliding_window", "attention_bias",
]  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["LlamaForCausalLM", "MixtralForCausalLM", "Qwen2ForCausalLM", "Gemma2ForCausalLM", 5]),
       st.dictionaries(st.sampled_from(config_keys), config_value, max_size=10))  # fmt: skip
def test_fuzzed_config_files_fail_cleanly(cli, tmp_path_factory, architecture, fields):
    folder = tmp_path_factory.mktemp("configs")
    config = {"architectures": [architecture], **fields}
    (folder / "config.json").write_text(json.dumps(config))
    run = cli("train", "--config", str(folder / "config.json"), "--tokens", "1T", "--json")
    clean_failure(run, f"{config!r}: exit {run.code}, stderr {run.stderr!r}")
    if run.code == ExitCode.OK:
        finite_json(run.stdout)


OUR_RUN = """[runs."ours"]
title = "Our 7B"
organisation = "Us"
params = "7B"
tokens = "2T"
architecture = "dense"
accelerator = "h100-sxm"
count = 256
accelerator_hours = 150000
hours_type = "end-to-end"
confidence = "primary"
source = "our logs"
"""
toml_value = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1e308", "-1e308", "1e-320", '"x"', '""', "[]", "[1]", "{}",
                     "true", '"10B"', '"-5 TFLOP/s"', '"1e400"', '["1 TFLOP/s", "1 TFLOP/s"]']),
    st.floats(allow_nan=False).map(lambda x: repr(x).replace("inf", "1e400")),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
)  # fmt: skip


def _keyed_lines(text: str) -> list[tuple[int, str, str]]:
    """(line, kind, name) of every `key = value` line inside a [kind.name] table of a preset file."""
    found, table = [], None
    for number, line in enumerate(text.splitlines()):
        if line.startswith("["):
            parts = line.strip("[]").split(".", 1)
            table = (parts[0], parts[1].split(".")[0].strip('"')) if len(parts) == 2 else None
        elif table and " = " in line and not line.startswith((" ", "#")):
            found.append((number, *table))
    return found


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES // 3, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.booleans(), st.integers(min_value=0), toml_value)  # a third: each example refits (backtest)
def test_fuzzed_efficiency_models_and_runs_fail_cleanly(cli, tmp_path_factory, efficiency, line, value):
    """One field of the shipped efficiency model, or of a team's own run, set to a hostile value: train
    and backtest (which refits on every run) exit 0 or 2, never trace back, never print a NaN."""
    from llamacalc.catalog import shipped_presets_dir

    text = (shipped_presets_dir() / "efficiency" / "default.toml").read_text() if efficiency else OUR_RUN
    lines = text.splitlines()
    keyed = _keyed_lines(text)
    chosen = keyed[line % len(keyed)][0]
    lines[chosen] = f"{lines[chosen].split(' = ')[0]} = {value}"
    folder = tmp_path_factory.mktemp("presets")
    (folder / "p.toml").write_text("\n".join(lines) + "\n")
    for args in (["train", "llama-3-8b", "--json"], ["backtest", "--json"]):
        run = cli(*args, "--presets", str(folder))
        clean_failure(run, f"{lines[chosen]!r}: {args}: exit {run.code}, stderr {run.stderr!r}")
        if run.code == 0:
            finite_json(run.stdout)


COMMANDS_BY_KIND = {
    "models": lambda name: [["train", name, "--json"], ["memory", name, "--json"], ["serve", name, "--json"]],
    "hardware": lambda name: [["train", "llama-3-8b", "--gpu", name, "--json"],
                              ["train", "llama-3-8b", "--gpu", name, "--pricing", "owned", "--json"]],
    "clusters": lambda name: [["train", "llama-3-8b", "--cluster", name, "--json"], ["fleet", name, "--json"]],
    "laws": lambda name: [["optimal", "--compute", "1e24FLOP", "--law", name, "--json"],
                          ["loss", "--params", "7B", "--tokens", "1T", "--law", name, "--json"]],
    "ownership": lambda name: [["train", "llama-3-8b", "--pricing", "owned", "--json"]],
    "pricing": lambda name: [["train", "llama-3-8b", "--pricing", name, "--json"]],
    "serving": lambda name: [["serve", "llama-3-8b", "--json"]],
}  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES // 2, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0), st.integers(min_value=0), toml_value)
def test_fuzzed_shipped_presets_fail_cleanly(cli, tmp_path_factory, file, line, value):
    """One field of a shipped preset (a model, GPU, cluster, law, price tier...) set to a hostile value,
    as a user's copy of the file: the commands that read it exit 0 or 2, never trace back or print NaN."""
    from llamacalc.catalog import shipped_presets_dir

    files = sorted(p for p in shipped_presets_dir().rglob("*.toml") if p.parent.name in COMMANDS_BY_KIND)
    path = files[file % len(files)]
    text = path.read_text()
    lines = text.splitlines()
    keyed = _keyed_lines(text)
    chosen, kind, name = keyed[line % len(keyed)]
    lines[chosen] = f"{lines[chosen].split(' = ')[0]} = {value}"
    folder = tmp_path_factory.mktemp("presets")
    (folder / path.name).write_text("\n".join(lines) + "\n")
    for args in [["presets", "show", name, "--json"], *COMMANDS_BY_KIND[kind](name)]:
        run = cli(*args, "--presets", str(folder))
        clean_failure(run, f"{path.name}: {lines[chosen]!r}: {args}: exit {run.code}, stderr {run.stderr!r}")
        if run.code == 0:
            finite_json(run.stdout)
