"""Nothing is cut or split at any width: every table-printing command at 60, 80 and 120 columns keeps
within the terminal, never ends a word with '…', and shows every word and every figure of its wide
(200-column) output whole on one line: a name, a number, a number with its unit ('32.7 GWh'), a range
('(21.5–49.7 GWh)'). Below 60 columns a table is a key: value list, still with every figure whole; no line
ends in a space."""

import re

import pytest

from llamacalc.output.tables import atoms, drawn

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
    ("train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128"),
    ("optimal", "--budget", "$10M", "--days", "30"),
    ("optimal", "--budget", "$10M", "--law", "all"),
    ("optimal", "--gpus", "16384", "--days", "54", "--gpu", "h100-sxm", "--law", "all"),
    ("optimal", "--law", "sardana", "--loss", "1.947", "--inference-tokens", "2e12"),
    ("optimal", "--params", "8B", "--loss", "2.1"),
    ("loss", "llama-3-8b"),
    ("loss", "--params", "70B", "--tokens", "15T", "--law", "all"),
    ("serve", "llama-3.1-70b"),
    ("serve", "--backtest"),
    ("fleet", "meta-350k"),
    ("check", "llama-3.1-405b", "--max-cost", "100 MUSD"),
    ("check", "--plan", "{plan}"),
    ("compare", "llama-3.1-405b", "llama-4-projected", "llama-4-behemoth", "llama-4-maverick"),
    ("compare", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-behemoth"),
    ("sweep", "llama-3.1-405b", "--gpus", "8192:131072:x2"),
    ("sweep", "llama-3-70b", "--mfu", "0.3,0.4", "--gpu", "h100-sxm,b200"),
    ("backtest",),
    ("backtest", "--steps"),
    ("memory", "llama-3.1-405b"),
    ("layout", "llama-3.1-70b", "--gpus", "64", "--global-batch", "128", "--top", "3"),
    ("presets",),
    ("presets", "show", "h100-sxm"),
    ("sources",),
]

UNIT = r"(?:FLOP|TFLOP/s|kWh|MWh|GWh|TWh|W|kW|MW|GW|t|kt|Mt|Gt|days|hours|GB|TB/s|GiB|ms|s)"
END = r"[-+]?\$?\d[\d,.]*(?:e-?\d+)?[KMBT%]?"
FIGURE = re.compile(rf"(?<![\w./:-])\(?{END}(?:–{END})?(?: {UNIT}\b)?\)?(?:/GPU-h)?")  # '$129M', '(21.5–49.7 GWh)'


def run_at(cli, tmp_path, command, width):
    (tmp_path / "plan.toml").write_text(PLAN)
    args = [arg.format(plan=tmp_path / "plan.toml") for arg in command]
    run = cli(*args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert run.code in (0, 1), run.stderr
    return run.stdout


NUM = r"\$?\d[\d,.]*[KMBT%]?"
RANGED = re.compile(rf"(?<![\w.])({NUM}(?: {UNIT})?) \(({NUM})–({NUM})(?: ({UNIT}))?\)")  # a figure and its range
URL = re.compile(r"\w\.\w+/\S{8}")  # 'example.com/path…': the one kind of word a narrow table may fold


def unkeyed(text: str) -> str:
    """`text` without the colon or comma that ends a word: a key: value list adds colons to headers, a stacked
    table joins its headers ('value, source')."""
    return re.sub(r"[:,](?= |$)", " ", text, flags=re.M)


def pieces(text: str) -> set[str]:
    """Every word and every figure (with its unit and range) of `text`, a word between spaces."""
    return {
        piece
        for line in unkeyed(text).splitlines()
        for piece in (*(f" {w} " for w in line.split()), *FIGURE.findall(line))
    }


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_nothing_is_cut_or_split(cli, tmp_path, command, width):
    wide, shown = run_at(cli, tmp_path, command, 200), run_at(cli, tmp_path, command, width)
    lines = [f" {line} " for line in unkeyed(shown).splitlines()]
    assert "…" not in shown
    assert max(len(line) for line in shown.splitlines()) <= width
    assert not [line for line in shown.splitlines() if line.endswith(" ")]
    assert "e+" not in shown  # scientific notation one way: 3.80e25
    for figure, first, second, unit in RANGED.findall(shown):  # '$129M ($71.9M–$214M)', '32.7 GWh (21.5–49.7 GWh)'
        assert first[:1] == second[:1] == figure[:1] if "$" in figure + first else True, (figure, first)
        assert unit == figure.partition(" ")[2], (figure, unit)
    whole = [p for p in pieces(wide) if len(p.strip()) <= width - 8 and not URL.search(p)]  # a URL may fold
    split = [piece for piece in whole if not any(piece in line for line in lines)]
    assert not split, f"split across lines at {width} columns: {split[:10]}"


@pytest.mark.parametrize("width", [20, 30, 39, 50])
@pytest.mark.parametrize(
    "command", [("train", "llama-3.1-405b"), ("compare", "llama-3-8b", "llama-4-behemoth"), ("backtest",)], ids=" ".join
)
def test_a_narrow_terminal_gets_a_list_with_every_figure_whole(cli, tmp_path, command, width):
    """Issue 26: at COLUMNS below 40 (and below 60), numbers are never split across lines."""
    wide, shown = run_at(cli, tmp_path, command, 200), run_at(cli, tmp_path, command, width)
    lines = shown.splitlines()
    assert "─" not in shown  # no table rule: a key: value list
    figures = {f for line in wide.splitlines() for f in FIGURE.findall(line) if len(f) <= width - 6}
    assert not [f for f in figures if not any(f in line for line in lines)]
    assert not [line for line in lines if line.endswith(" ")]


def test_a_number_keeps_its_unit_and_a_range_its_ends():
    assert atoms("32.7 GWh (21.5–49.7 GWh) ×52.6") == ["32.7 GWh", "(21.5–49.7 GWh)", "×52.6"]
    assert atoms("assumed: 0.367 kg CO2/kWh; 109 days") == ["assumed:", "0.367 kg CO2/kWh;", "109 days"]
    assert atoms("16,384 H100 at 5 t\nnext") == ["16,384", "H100", "at", "5 t", "", "next"]


def test_a_wide_comparison_is_stacked_in_parts_that_repeat_its_first_column(cli):
    shown = cli("compare", "llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-behemoth", env={"COLUMNS": "60"})
    lines = shown.stdout.splitlines()
    assert len([line for line in lines if line.startswith("  parameters ")]) == 2
    assert len([line for line in lines if "───" in line]) == 2


def test_a_table_past_its_width_is_never_folded_by_rich():
    from llamacalc.output.tables import _table

    table = _table("t", "", "value")
    table.add_row("energy", "32.7 GWh (21.5–49.7 GWh)")
    [*_, body] = drawn(table, 60)
    assert all(column.no_wrap and column.width for column in body.columns)
