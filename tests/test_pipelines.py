"""batch, compare and sweep: JSON Lines streams, side-by-side, ranges."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from llamacalc.errors import ExitCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


# --- batch ------------------------------------------------------------------------------------


def test_batch_with_a_bad_line_in_the_middle(cli):
    lines = [
        {"model": "llama-3-70b", "gpus": 4096, "gpu": "h100-sxm", "mfu": 0.4},
        {"model": "llama-3-70b", "gpus": "4K", "mfu": "45%", "price": "2 USD/h"},
        {"model": "llama-3-70b", "gpu": "h100-sxn"},
        {"params": "7B", "tokens": "2T", "days": 30},
    ]
    text = "\n".join(json.dumps(line) for line in lines[:2]) + "\nnot json\n" + "\n".join(map(json.dumps, lines[2:]))
    run = cli("batch", input=text + "\n")
    assert run.code == ExitCode.CHECK_FAILED
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == 5
    single = cli("train", "llama-3-70b", "--gpus", "4096", "--gpu", "h100-sxm", "--mfu", "0.4", "--json").json()
    assert out[0] == single  # exactly the keys and values of train --json
    assert out[1]["gpus"] == 4000 and out[1]["mfu"] == 0.45 and out[1]["cost_usd"] > 0
    assert out[2] == {"line": 3, "error": "not JSON: Expecting value: line 1 column 1 (char 0)"}
    assert out[3]["line"] == 4 and "did you mean 'h100-sxm'" in out[3]["error"]
    assert out[4]["days"] <= 30 and out[4]["model"] is None


def test_batch_empty_input_is_no_output_and_exit_0(cli):
    run = cli("batch", input="")
    assert (run.code, run.stdout) == (0, "")


@pytest.mark.parametrize("text", ["[1, 2]\n", "42\n", '"x"\n', "\x00\xff\n", '{"modle": "x"}\n'])
def test_batch_non_objects_are_line_errors(cli, text):
    run = cli("batch", input=text)
    assert run.code == ExitCode.CHECK_FAILED
    (out,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert out["line"] == 1 and out["error"]


def test_batch_csv(cli):
    run = cli("batch", "--csv", input='{"model": "llama-3.1-405b"}\n{"model": "x"}\n')
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert rows[0]["model"] == "llama-3.1-405b" and float(rows[0]["reported_gpu_hours"]) == 30.84e6
    assert rows[1]["line"] == "2" and "unknown model" in rows[1]["error"]


def test_batch_streams_output_as_input_arrives(tmp_path):
    """The first result is readable before stdin is closed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamacalc", "batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    proc.stdin.write('{"model": "llama-3-8b"}\n')
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    assert first["model"] == "llama-3-8b"
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


# --- compare ----------------------------------------------------------------------------------


def test_compare_reads_the_ten_x_claim(cli):
    doc = cli("compare", "llama-3.1-405b", "llama-4-projected", "--json").json()
    assert doc["schema"] == "llamacalc.compare/1"
    assert round(doc["ratios"][1]["flops"], 1) == 10.0
    assert doc["ratios"][0]["flops"] == 1.0
    assert doc["ratios"][1]["params"] is None  # the projection has no parameter count


def test_compare_on_one_cluster_and_from_a_preset_file(cli, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[models.mine]\nparams = "70B"\ntokens = "15T"\nsource = "mine"\n')
    doc = cli("compare", "llama-3-70b", str(path), "--cluster", "meta-24k", "--json").json()
    assert [m["model"] for m in doc["models"]] == ["llama-3-70b", "mine"]
    assert all(m["gpus"] == 24576 for m in doc["models"])
    assert "×" in cli("compare", "llama-3-8b", "llama-3-70b").stdout


# --- sweep ------------------------------------------------------------------------------------


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


def test_fast_json_is_the_train_document(catalog):
    """train_json (batch, train --json) and train_document (everything else) never drift apart."""
    from llamacalc.estimates.train import estimate
    from llamacalc.output import documents
    from llamacalc.resolve import Resolver

    for request in ({"model": "llama-3.1-405b"}, {"params": "7B", "tokens": "1T", "price": "$2/h", "days": 9}):
        result = estimate(Resolver(catalog), request)
        assert documents.train_json(result) == json.dumps(documents.train_document(result), allow_nan=False)


def test_batch_in_worker_processes_matches_one_process(tmp_path):
    """Past the first 64 KiB chunk, batch fans out to workers; output and order must not change."""
    lines = [
        json.dumps({"model": model, "gpus": 1024 * (1 + i % 7), "mfu": 0.2 + (i % 5) / 20})
        for i, model in enumerate(["llama-3-8b", "llama-3.1-405b", "llama-4-scout", "nope"] * 600)
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")

    def run(*args):
        with path.open("rb") as stdin:
            return subprocess.run([sys.executable, "-m", "llamacalc", "batch", *args], stdin=stdin, capture_output=True)

    serial, parallel = run("--jobs", "1"), run("--jobs", "2")
    assert serial.returncode == parallel.returncode == ExitCode.CHECK_FAILED  # the "nope" lines
    assert serial.stdout == parallel.stdout
    out = serial.stdout.decode().splitlines()
    assert len(out) == len(lines) > 2000
    assert json.loads(out[3]) == {"line": 4, "error": json.loads(out[3])["error"]}
    assert json.loads(out[-1])["line"] == len(lines)
    assert run("--jobs", "2", "--csv").stdout.decode().count("\n") == len(lines) + 1
