"""sweep: one input varied over a range, as a table with bars, JSON and CSV."""

import csv
import io

import pytest

from llamacalc.errors import ExitCode


def test_sweep_series(cli):
    doc = cli("sweep", "llama-3.1-405b", "--gpus", "1024:65536:x2", "--json").json()
    values = [p["value"] for p in doc["points"]]
    assert values == [1024, 2048, 4096, 8192, 16384, 32768, 65536]
    days = [p["result"]["days"] for p in doc["points"]]
    assert days == sorted(days, reverse=True)
    prices = cli("sweep", "llama-3-8b", "--price", "1:5:0.5", "--json").json()["points"]
    assert [p["value"] for p in prices] == [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
    assert prices[2]["result"]["price_usd_per_gpu_hour"] == pytest.approx(2)


def test_sweep_plot_renders_at_a_fixed_width(cli):
    run = cli("sweep", "llama-3.1-405b", "--mfu", "0.2:0.6:0.05", env={"COLUMNS": "80"})
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "20.0%" in run.stdout and "60.0%" in run.stdout
    assert "██████████" in lines[4]  # the slowest run has the full bar
    assert sum("█" in line for line in lines) == 9


def test_sweep_csv(cli):
    rows = list(csv.DictReader(io.StringIO(cli("sweep", "llama-3-8b", "--tokens", "1T:30T:x2", "--csv").stdout)))
    assert [float(r["sweep_tokens"]) for r in rows] == [1e12, 2e12, 4e12, 8e12, 16e12]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpus", "8"], "give exactly one option as a range"),
        (["--gpus", "1:8:x2", "--mfu", "0.1:0.5:0.1"], "give exactly one option as a range"),
        (["--gpus", "a:b:c"], "--gpus: expected a range start:stop:step"),
        (["--gpus", "64:8:x2"], "the range must rise"),
        (["--gpus", "8:64:x1"], "the step must move toward stop"),
        (["--mfu", "0.1:0.5:-0.1"], "--mfu: expected a range"),
        (["--gpus", "1:1e9:1"], "more than 10,000 points"),
        (["--gpu", "h100:b200:x2"], "--gpu: cannot be swept"),
    ],
)
def test_sweep_errors(cli, args, message):
    run = cli("sweep", "llama-3-8b", *args)
    assert run.code == ExitCode.BAD_INPUT and message in run.stderr, run.stderr
