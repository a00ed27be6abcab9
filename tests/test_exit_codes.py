"""The exit-code contract, end to end: real processes for pipes, a forced bug for exit 3."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llamacalc.errors import ExitCode
from llamacalc.estimates import train as train_estimate


def test_exit_code_values_are_the_documented_contract():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]


def test_a_closed_pipe_is_not_an_error():
    """`llamacalc ... | head -1`: the reader leaves early; no traceback, exit 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamacalc", "presets", "show", "llama-3.1-405b"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.read(20)
    proc.stdout.close()
    assert proc.wait(timeout=30) == ExitCode.OK
    assert proc.stderr.read() == b""


def test_a_bug_is_exit_3_with_one_line_and_no_traceback(cli, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(train_estimate, "train", broken)
    run = cli("train", "llama-3-8b")
    assert run.code == ExitCode.INTERNAL
    assert run.stderr.startswith("llamacalc: error: internal error") and run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr


def test_debug_env_shows_the_traceback(cli, monkeypatch):
    monkeypatch.setattr(train_estimate, "train", lambda *a, **k: 1 / 0)
    run = cli("train", "llama-3-8b", env={"LLAMACALC_DEBUG": "1"})
    assert run.code == ExitCode.INTERNAL and "Traceback" in run.stderr


def test_real_process_bad_input_is_exit_2_on_stderr_only():
    run = subprocess.run(
        [sys.executable, "-m", "llamacalc", "train", "llama-3.1-405b", "--price", "5W", "--json"],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (ExitCode.BAD_INPUT, "")
    assert run.stderr == (
        "llamacalc: error: --price: expected money per GPU-hour (e.g. '2.5 USD/h'), got '5 W' (a power)\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[models.x]\nparams = 1e400\ntokens = "1T"\nsource = "s"\n', "models.x.params: expected a parameter count"),
        (
            '[models.x]\nparams = "1B"\ntokens = "1T"\nlayers = {a = {b = {c = 1}}}\n',
            "models.x.layers: expected an integer",
        ),
        ('[models.x]\nparams = "1B"\ntokens = "1T"\nlayers = "32"\n', "models.x.layers: expected an integer, got str"),
        ('[models.x]\nparams = "__import__(\'os\')"\ntokens = "1T"\n', "models.x.params: expected a parameter count"),
        ("[models]\nx = 5\n", "models.x: expected a table of fields"),
    ],
)
def test_hostile_presets_are_refused_cleanly(cli, tmp_path, text, message):
    (tmp_path / "hostile.toml").write_text(text)
    run = cli("train", "x", "--presets", str(tmp_path))
    assert run.code == ExitCode.BAD_INPUT and run.stdout == ""
    assert message in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["train", "llama-3.1-405b", "--json"], {"pint", "rich", "numpy", "pydantic"}),
        (["--help"], {"pint", "rich", "numpy", "pydantic"}),
        (["presets", "--json"], {"pint", "rich"}),
        (["presets"], {"pint"}),
    ],
)
def test_startup_stays_lean(args, absent):
    """Startup guard, instead of timed tests: these paths never import the heavy libraries."""
    code = (
        "import sys\nfrom llamacalc.cli import app\n"
        f"try:\n    app({args!r}, prog_name='llamacalc')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {sorted(absent)!r} if m in sys.modules), file=sys.stderr)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stderr.strip().splitlines()[-1] == "[]", run.stderr


@pytest.mark.parametrize(
    ("env", "styled"), [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), ({}, False)]
)
def test_tables_honour_no_color_and_pipes(env, styled):
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    run = subprocess.run(
        [sys.executable, "-m", "llamacalc", "train", "llama-3-8b"], capture_output=True, text=True, env={**clean, **env}
    )
    assert run.returncode == 0 and "GPU-hours" in run.stdout
    assert ("\x1b[" in run.stdout) == styled


def test_json_never_carries_ansi_even_when_forced():
    env = {**os.environ, "FORCE_COLOR": "1", "GITHUB_ACTIONS": "true"}
    run = subprocess.run(
        [sys.executable, "-m", "llamacalc", "train", "llama-3-8b", "--json"], capture_output=True, text=True, env=env
    )
    assert "\x1b[" not in run.stdout
    assert __import__("json").loads(run.stdout)["model"] == "llama-3-8b"


def test_output_file_is_written_whole(cli, tmp_path):
    target = tmp_path / "plan.json"
    run = cli("train", "llama-3-8b", "--json", "-o", str(target))
    assert (run.code, run.stdout) == (0, "")
    assert __import__("json").loads(target.read_text())["model"] == "llama-3-8b"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left behind


def test_a_failed_check_still_writes_its_complete_report(cli, tmp_path):
    target = tmp_path / "check.json"
    run = cli("check", "llama-3-8b", "--max-cost", "1 USD", "--json", "--output", str(target))
    assert run.code == 1
    assert __import__("json").loads(target.read_text())["passed"] is False


def test_an_error_leaves_no_file(cli, tmp_path):
    target = tmp_path / "out.json"
    target.write_text("previous")
    run = cli("train", "llama-3-8x", "--json", "-o", str(target))
    assert run.code == 2
    assert target.read_text() == "previous"  # untouched: complete or absent, never half-written
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_output_in_a_missing_folder_is_exit_2(cli, tmp_path):
    run = cli("backtest", "-o", str(tmp_path / "missing" / "x.txt"))
    assert run.code == 2
    assert (
        run.stderr == f"llamacalc: error: --output: folder '{tmp_path / 'missing'}' does not exist; create it first\n"
    )


def test_shell_completion_through_the_installed_command():
    """Typer's completion protocol, through the console script (it needs the installed name)."""
    script = Path(sys.executable).parent / "llamacalc"
    if not script.exists():
        pytest.skip("llamacalc is not installed as a console script in this environment")
    env = {
        **os.environ,
        "_LLAMACALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "llamacalc train --gp",
        "COMP_CWORD": "2",
    }
    run = subprocess.run([str(script)], capture_output=True, text=True, env=env)
    assert run.stdout.split() == ["--gpu", "--gpus"]
