"""Budget checks: limits, confidence, plan files, and the README's CI step."""

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc.check_setups import parse_confidence
from llamacalc.errors import ExitCode, InputError
from llamacalc.estimates.checks import quantile
from llamacalc.estimates.train import Range

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_check_fails_over_budget_and_passes_under(cli):
    assert cli("check", "llama-3.1-405b", "--max-cost", "1 USD").code == ExitCode.CHECK_FAILED
    assert cli("check", "llama-3.1-405b", "--max-cost", "1e12 USD").code == ExitCode.OK


def test_check_json_reports_every_limit(cli):
    limits = ["--max-days", "60", "--max-gpu-hours", "30M", "--max-co2", "9000 t"]
    run = cli("check", "llama-3.1-405b", "--mfu", "0.4", *limits, "--json")
    assert run.code == ExitCode.CHECK_FAILED  # 67.8 days > 60
    doc = run.json()
    assert doc["schema"] == "llamacalc.check/1" and doc["passed"] is False
    checks = {c["limit"]: c for c in doc["runs"][0]["checks"]}
    assert checks["max_days"]["passed"] is False and checks["max_days"]["value"] == pytest.approx(67.8, abs=0.1)
    assert checks["max_gpu_hours"] == {
        "limit": "max_gpu_hours", "unit": "GPU-hours", "maximum": 30e6, "value": pytest.approx(26.66e6, rel=1e-3),
        "confidence": 0.5, "estimate": pytest.approx(26.66e6, rel=1e-3),
        "margin": pytest.approx(1 - 26.66 / 30, abs=1e-3), "passed": True,
    }  # fmt: skip
    assert checks["max_co2"]["maximum"] == 9000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no limits: give at least one of --max-cost"),
        (["--max-cost", "5 W"], "--max-cost: expected money"),
        (["--max-days", "5 GWh"], "--max-days: expected a duration"),
        (["--gpu", "tpu-v5p", "--max-energy", "1 GWh"], "the run's energy is unknown for tpu-v5p"),
        (["--max-flops", "1e25", "--plan", "x.toml"], "--plan holds the runs' inputs"),
    ],
)
def test_check_bad_input_is_exit_2(cli, args, message):
    run = cli("check", "llama-3.1-405b", *args)
    assert run.code == ExitCode.BAD_INPUT and run.stdout == ""
    assert message in run.stderr


PASSING_PLAN = (Path(__file__).parent / "fixtures" / "budget-plan.toml").read_text(encoding="utf-8")


def readme_ci_command() -> str:
    return re.search(r"^\s+run: (llamacalc check --plan \S+)$", README, re.M)[1]


@pytest.mark.parametrize(("plan", "code"), [(PASSING_PLAN, 0), (PASSING_PLAN.replace("200 MUSD", "50 MUSD"), 1)])
def test_readme_github_actions_step_verbatim(cli, tmp_path, monkeypatch, plan, code):
    command = readme_ci_command().split()
    path = tmp_path / command[-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan)
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    run = cli(*command[1:], env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "COLUMNS": "60"})
    assert run.code == code, run.stderr
    assert ("FAIL" in run.stdout) == bool(code)
    assert not [line for line in run.stdout.splitlines() if line.lstrip().startswith("::")]  # the table alone
    annotations = [line for line in run.stderr.splitlines() if line.startswith("::")]  # Actions reads stderr too
    written = summary.read_text()
    assert written.startswith("earlier step\n")  # appended, not replaced
    if code:
        assert annotations == [
            "::error title=Budget check failed%3A flagship::"
            "flagship: cost $129M against a limit of $50.0M (2.57× the limit)"
        ]
        assert "### llamacalc budget check **failed**" in written and "| flagship | cost | $129M | $50.0M |" in written
    else:
        assert annotations == ["::notice title=Budget check passed::2 run(s), every limit met"]
        assert "### llamacalc budget check passed" in written


def test_run_names_are_never_cut(cli, tmp_path):
    (tmp_path / "plan.toml").write_text(
        "[runs.flagship-70b-long-context-variant]\nmodel = 'llama-3-8b'\nmax_days = 9\n"
    )
    run = cli("check", "--plan", str(tmp_path / "plan.toml"), env={"COLUMNS": "60"})
    names = "".join(line.split()[0] for line in run.stdout.splitlines()[4:] if line.strip())
    assert "flagship-70b-long-context-variant" in names


def test_a_plan_without_limits_is_exit_2(cli, tmp_path):
    (tmp_path / "plan.toml").write_text("[runs.a]\nmodel = 'llama-3-8b'\n")
    run = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert run.code == ExitCode.BAD_INPUT and "sets no limits" in run.stderr


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("[runs.a]\nmodel = 'llama-3-8b'\nmax_cots = 5\n", "runs.a.max_cots: unknown field (did you mean 'max_cost'?)"),
        ("[defaults]\nmax_cost = 5\n", "no runs"),
        ("[runz.a]\n", "unknown table [runz] (did you mean 'runs'?)"),
        ("[runs.a]\nmodel = 'llama-3-8b'\nmax_cost = '5 W'\n", "runs.a: --max-cost: expected money"),
        ("[runs.a\n", "not valid TOML"),
        ("[runs.a]\nmodel = 'llama-3-8x'\nmax_cost = 5\n", "run a: MODEL: unknown model 'llama-3-8x'"),
    ],
)
def test_bad_plans_are_exit_2(cli, tmp_path, plan, message):
    (tmp_path / "plan.toml").write_text(plan)
    run = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert run.code == ExitCode.BAD_INPUT and message in run.stderr, run.stderr


# --- confidence -------------------------------------------------------------------------------

BAND = Range(73.0, 111.8, 171.0)


def test_quantile_passes_through_the_band():
    assert quantile(BAND, 0.5) == BAND.p50
    assert quantile(BAND, 0.9) == pytest.approx(BAND.p90)
    assert quantile(BAND, 0.1) == pytest.approx(BAND.p10)


@given(st.floats(0.01, 0.98), st.floats(0.001, 0.01))
def test_quantile_rises_with_confidence(confidence, step):
    assert quantile(BAND, confidence) < quantile(BAND, confidence + step)


@pytest.mark.parametrize("text", ["0", "1", "1.5", "-0.1", "nan", "ninety", True, "1e-320", "0.999999999"])
def test_confidence_is_a_probability_whose_quantile_the_runs_support(text):
    with pytest.raises(InputError, match="expected a probability from 0.01 to 0.99"):
        parse_confidence(text)
    assert parse_confidence("0.01") == 0.01 and parse_confidence("0.99") == 0.99


def test_confidence_checks_the_p90(cli):
    """A limit between the estimate and its P90 passes at 0.5 and fails at 0.9."""
    doc = cli("check", "llama-3.1-405b", "--max-days", "1000", "--json").json()
    ranged = doc["runs"][0]["result"]["ranges"]["days"]
    between = f"{(ranged['p50'] + ranged['p90']) / 2} days"
    assert cli("check", "llama-3.1-405b", "--max-days", between).code == ExitCode.OK
    run = cli("check", "llama-3.1-405b", "--max-days", between, "--confidence", "0.9", "--json")
    assert run.code == ExitCode.CHECK_FAILED
    check = run.json()["runs"][0]["checks"][0]
    assert check["value"] == pytest.approx(ranged["p90"]) and check["estimate"] == pytest.approx(ranged["p50"])


def test_a_given_mfu_has_no_spread_to_check(cli):
    run = cli("check", "llama-3.1-405b", "--mfu", "0.4", "--max-days", "67.9", "--confidence", "0.99")
    assert run.code == ExitCode.OK


def test_plan_confidence_per_run_overrides_defaults(cli, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(
        "[defaults]\nmax_cost = '150 MUSD'\nconfidence = 0.9\n"
        "[runs.big]\nmodel = 'llama-3.1-405b'\n[runs.sure]\nmodel = 'llama-3.1-405b'\nconfidence = 0.5\n"
    )
    run = cli("check", "--plan", str(plan), "--json")
    assert run.code == ExitCode.CHECK_FAILED
    by_name = {r["name"]: r for r in run.json()["runs"]}
    assert by_name["big"]["passed"] is False and by_name["sure"]["passed"] is True
    assert by_name["big"]["checks"][0]["confidence"] == 0.9


def test_bad_confidence_is_exit_2(cli, tmp_path):
    run = cli("check", "llama-3-8b", "--max-days", "9", "--confidence", "2")
    assert run.code == ExitCode.BAD_INPUT and "--confidence: expected a probability" in run.stderr
    plan = tmp_path / "plan.toml"
    plan.write_text("[runs.a]\nmodel = 'llama-3-8b'\nmax_days = 9\nconfidence = 'high'\n")
    run = cli("check", "--plan", str(plan))
    assert run.code == ExitCode.BAD_INPUT and "runs.a.confidence: expected a probability" in run.stderr


def test_max_power_checks_the_facility_draw(cli):
    """100K H100 at PUE 1.09 draw ~139 MW: a 130 MW site fails, a 150 MW one passes."""
    assert cli("check", "llama-3-8b", "--cluster", "llama4-100k", "--max-power", "130 MW").code == ExitCode.CHECK_FAILED
    doc = cli("check", "llama-3-8b", "--cluster", "llama4-100k", "--max-power", "150 MW", "--json").json()
    check = doc["runs"][0]["checks"][0]
    assert doc["passed"] and check["unit"] == "MW" and check["value"] == pytest.approx(138.866)
    run = cli("check", "llama-3-8b", "--gpu", "mi300x", "--max-power", "1 MW")
    assert run.code == ExitCode.BAD_INPUT and "no server_power ratio" in run.stderr


def test_a_plan_key_outside_its_tables_says_where_it_goes(cli, tmp_path):
    (tmp_path / "plan.toml").write_text('confidence = 0.9\n[runs.a]\nmodel = "llama-3-8b"\nmax_cost = "$5M"\n')
    run = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert run.code == 2 and "unknown top-level key 'confidence'" in run.stderr and "[defaults]" in run.stderr
