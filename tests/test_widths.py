"""Nothing is cut at any width: every table-printing command at 60, 80 and 120 columns folds or wraps
a long name or header, never ends it with '…', and never prints past the terminal's edge."""

import pytest

PLAN = """
[runs.flagship-70b-with-a-long-descriptive-name]
model = "llama-3-70b"
max_cost = "10 MUSD"

[runs.another-very-long-run-name-that-ci-must-show]
model = "llama-3.1-405b"
max_days = 30
"""

COMMANDS = [
    ("train", "llama-3.1-405b"),
    ("train", "llama-3.1-405b", "--sources"),
    ("train", "llama-4-maverick", "--explain"),
    ("train", "llama-3.1-405b", "--flops", "all"),
    ("train", "llama-4-projected", "--goodput"),
    ("train", "llama-3-8b", "--inference-tokens", "1e13"),
    ("train", "llama-3.1-405b", "--pricing", "owned"),
    ("optimal", "--budget", "$10M", "--days", "30"),
    ("optimal", "--budget", "$10M", "--law", "all"),
    ("optimal", "--law", "sardana", "--loss", "1.947", "--inference-tokens", "2e12"),
    ("optimal", "--params", "8B", "--loss", "2.1"),
    ("loss", "llama-3-8b"),
    ("loss", "--params", "70B", "--tokens", "15T", "--law", "all"),
    ("serve", "llama-3.1-70b"),
    ("fleet", "meta-350k"),
    ("check", "llama-3.1-405b", "--max-cost", "100 MUSD"),
    ("check", "--plan", "{plan}"),
    ("compare", "llama-3.1-405b", "llama-4-projected", "llama-4-behemoth", "llama-4-maverick"),
    ("sweep", "llama-3.1-405b", "--gpus", "8192:131072:x2"),
    ("backtest",),
    ("memory", "llama-3.1-405b"),
    ("presets",),
    ("presets", "show", "h100-sxm"),
    ("sources",),
]


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_nothing_is_cut(cli, tmp_path, command, width):
    (tmp_path / "plan.toml").write_text(PLAN)
    args = [arg.format(plan=tmp_path / "plan.toml") for arg in command]
    run = cli(*args, env={"COLUMNS": str(width)})
    assert run.code in (0, 1), run.stderr
    assert "…" not in run.stdout
    assert max(len(line.rstrip()) for line in run.stdout.splitlines()) <= width
