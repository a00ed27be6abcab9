"""`--format`: every command's result through one render step, as a table, JSON, CSV, Markdown,
GitHub annotations or JUnit XML, with --json and --csv kept as its aliases."""

import csv
import io
import json
from xml.etree import ElementTree

import pytest

from llamacalc.cli.writing import FORMATS
from llamacalc.output import render

COMMANDS = {
    "train": ("train", "llama-3-70b", "--gpus", "2048"),
    "compare": ("compare", "llama-3-8b", "llama-3-70b"),
    "optimal": ("optimal", "--gpus", "1024", "--days", "30", "--law", "all"),
    "loss": ("loss", "llama-3-8b"),
    "sweep": ("sweep", "llama-3-8b", "--gpus", "256:1024:x2"),
    "check": ("check", "llama-3-8b", "--max-days", "90", "--max-cost", "1 MUSD"),
    "layout": ("layout", "llama-3-8b", "--gpus", "64", "--global-batch", "512"),
    "memory": ("memory", "llama-3-8b", "--tp", "2"),
    "serve": ("serve", "llama-3-70b", "--gpu", "h100-sxm", "--tp", "4"),
    "fleet": ("fleet", "meta-350k"),
    "backtest": ("backtest",),
    "presets": ("presets",),
}


def test_the_help_lists_the_formats_the_renderers_offer():
    assert FORMATS == render.STDOUT_FORMATS


@pytest.mark.parametrize("name", COMMANDS)
def test_csv_is_one_header_and_rows_of_the_document(cli, name):
    run = cli(*COMMANDS[name], "--format", "csv")
    assert run.code in (0, 1), run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert rows and all(len(row) == len(rows[0]) for row in rows)
    assert not any(line.endswith(" ") for line in run.stdout.splitlines())


@pytest.mark.parametrize("name", COMMANDS)
def test_markdown_is_the_tables_as_pipe_tables(cli, name):
    run = cli(*COMMANDS[name], "--format", "md")
    assert run.code in (0, 1), run.stderr
    table = [line for line in run.stdout.splitlines() if line.startswith("|")]
    assert len(table) >= 3  # a header, its rule, a row
    assert len({line.count(" | ") for line in table if not line.startswith("|-") and "\\|" not in line}) >= 1
    assert not any(line.endswith(" ") for line in run.stdout.splitlines())


def test_train_csv_has_the_columns_batch_writes(cli):
    from llamacalc.output.documents import CSV_FIELDS

    header = cli("train", "llama-3-8b", "--format", "csv").stdout.splitlines()[0]
    assert header.split(",") == list(CSV_FIELDS[2:])


def test_a_check_is_one_junit_testcase_per_limit_with_failures_marked(cli):
    run = cli("check", "llama-3-8b", "--max-days", "90", "--max-cost", "1 MUSD", "--format", "junit")
    assert run.code == 1
    root = ElementTree.fromstring(run.stdout)
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["max_cost", "max_days"]
    assert [c.find("failure") is not None for c in cases] == [True, False]
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_a_plan_checks_in_junit_with_names_escaped(cli, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[runs."a<b>&\\"c"]\nmodel = "llama-3-8b"\nmax_days = 1\n', encoding="utf-8")
    run = cli("check", "--plan", str(plan), "--format", "junit")
    suite = ElementTree.fromstring(run.stdout).find("testsuite")
    assert suite is not None and suite.get("name") == 'a<b>&"c'


def test_github_annotations_on_stdout_when_asked_for(cli):
    run = cli("check", "llama-3-8b", "--max-cost", "1 MUSD", "--format", "github")
    assert run.stdout.startswith("::error title=Budget check failed")


def test_formats_a_result_lacks_are_refused_naming_those_it_has(cli):
    run = cli("train", "llama-3-8b", "--format", "junit")
    assert run.code == 2
    assert "this command writes table, json, csv, md; got 'junit'" in run.stderr


def test_an_unknown_format_gets_a_did_you_mean(cli):
    run = cli("train", "llama-3-8b", "--format", "jsn")
    assert run.code == 2 and "(did you mean 'json'?)" in run.stderr


@pytest.mark.parametrize("args", [("--json", "--format", "csv"), ("--format", "md", "--json")])
def test_an_alias_that_disagrees_with_format_is_refused(cli, args):
    run = cli("train", "llama-3-8b", *args)
    assert run.code == 2 and "choose one output format" in run.stderr


def test_format_json_is_the_json_document(cli):
    assert cli("train", "llama-3-8b", "--format", "json").json() == cli("train", "llama-3-8b", "--json").json()


def test_fields_project_without_reading_json_back_into_csv(cli):
    run = cli("train", "llama-3-8b", "--fields", "days,ranges.days.p90", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    full = cli("train", "llama-3-8b", "--json").json()
    assert float(rows[0]["days"]) == full["days"]
    assert float(rows[0]["ranges.days.p90"]) == full["ranges"]["days"]["p90"]


def test_batch_takes_format_csv_and_refuses_tables(cli):
    line = json.dumps({"model": "llama-3-8b"}) + "\n"
    assert cli("batch", "--format", "csv", input=line).stdout.startswith("line,error,model,")
    refused = cli("batch", "--format", "md", input=line)
    assert refused.code == 2 and "json (JSON Lines) or csv" in refused.stderr


def test_markdown_cells_cannot_break_the_table(cli, tmp_path):
    (tmp_path / "m.toml").write_text(
        '[models."pipe"]\ntitle = "a | b *c* <x>"\nparams = "8e9"\ntokens = "1e12"\nsource = "a test"\n',
        encoding="utf-8",
    )
    run = cli("train", "pipe", "--presets", str(tmp_path), "--format", "md")
    assert run.code == 0, run.stderr
    assert "a \\| b \\*c\\* \\<x\\>" in run.stdout
