"""Tables for people (output/tables.py): one-line answers, ranges said in plain words, and a long plan's
check table that shows what failed instead of drawing every run."""

import pytest

from llamacalc.errors import ExitCode
from llamacalc.output.tables import SHOWN_CHECKS

PLAIN = "Ranges (P10–P90): where 8 in 10 runs like this land"


@pytest.mark.parametrize(
    "command",
    [
        ("train", "llama-3.1-405b", "--brief"),
        ("compare", "llama-3-8b", "llama-3.1-405b", "--brief"),
        ("optimal", "--budget", "$10M", "--law", "all", "--brief"),
    ],
    ids=" ".join,
)
def test_brief_is_one_line_with_the_answer(cli, command):
    run = cli(*command, env={"COLUMNS": "60"})
    assert run.code == 0, run.stderr
    assert run.stdout.count("\n") == 1 and "days" in run.stdout and "$" in run.stdout


def test_brief_train_reads_like_the_issue_example(cli):
    line = cli("train", "llama-3.1-405b", "--brief").stdout
    assert line.startswith("Llama 3.1 405B on 16,384 h100-sxm: 109 days (71.8–166 days), $129M ($71.9M–$214M), ")
    assert "32.7 GWh" in line and "8 in 10 runs" in line


@pytest.mark.parametrize(
    "command",
    [("train", "llama-3.1-405b", "--brief", "--json"), ("train", "llama-3.1-405b", "--flops", "all", "--brief")],
    ids=" ".join,
)
def test_brief_refuses_what_has_no_one_line_form(cli, command):
    run = cli(*command)
    assert run.code == ExitCode.BAD_INPUT and run.stdout == "" and "--brief" in run.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("train", "llama-3.1-405b"),
        ("compare", "llama-3-8b", "llama-3.1-405b"),
        ("optimal", "--budget", "$10M"),
        ("sweep", "llama-3.1-405b", "--gpus", "8192,16384"),
    ],
    ids=" ".join,
)
def test_every_range_is_said_once_in_plain_words(cli, command):
    shown = " ".join(cli(*command, env={"COLUMNS": "200"}).stdout.split())
    assert shown.count(PLAIN) == 1
    assert "MFU: the share of peak GPU speed a run uses" in shown


def test_a_fixed_mfu_and_price_leave_no_range_to_explain(cli):
    shown = cli("train", "llama-3.1-405b", "--mfu", "0.4", "--price", "2 USD/h", env={"COLUMNS": "200"}).stdout
    assert "P10" not in shown and "(" not in shown.split("\n")[8]  # the wall-clock row: one figure


def test_a_long_plan_shows_its_failing_checks_and_where_the_rest_are(cli, tmp_path):
    runs = "".join(f"[runs.r{i:03d}]\n" + ("max_days = 10\n" if i % 50 == 0 else "") for i in range(SHOWN_CHECKS + 50))
    (tmp_path / "plan.toml").write_text(f'[defaults]\nmodel = "llama-3-8b"\nmax_days = 600\n\n{runs}')
    run = cli("check", "--plan", str(tmp_path / "plan.toml"), env={"COLUMNS": "100"})
    assert run.code == ExitCode.CHECK_FAILED
    rows = [line for line in run.stdout.splitlines() if line.lstrip().startswith("r") and "FAIL" in line]
    assert [row.split()[0] for row in rows] == ["r000", "r050", "r100"] and "pass" not in run.stdout
    assert "150 runs, 150 checks: 3 runs fail 3 checks; shown: 3 failing. Every check: --json" in " ".join(
        run.stdout.split()
    )
    every = cli("check", "--plan", str(tmp_path / "plan.toml"), "--json").json()
    assert len(every["runs"]) == SHOWN_CHECKS + 50
