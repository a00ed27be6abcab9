"""batch: JSON Lines in, one result per line out, in order, as the input arrives; bad lines isolated."""

import csv
import io
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llamacalc.errors import ExitCode


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


def test_batch_csv_carries_each_range_beside_its_figure(cli):
    lines = '{"model": "llama-3-8b"}\n{"model": "llama-3-8b", "days": 30}\n'
    documents = [json.loads(line) for line in cli("batch", input=lines).stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(cli("batch", "--csv", input=lines).stdout)))
    for document, row in zip(documents, rows, strict=True):
        for name in ("mfu", "days", "gpus", "cost_usd", "co2_t", "price_usd_per_gpu_hour"):
            band = document["ranges"].get(name)
            shown = (row[f"{name}_p10"], row[f"{name}_p90"])
            assert shown == (("", "") if band is None else (str(band["p10"]), str(band["p90"])))
    assert rows[1]["gpus_p10"] == str(documents[1]["ranges"]["gpus"]["p10"]) and "." not in rows[1]["gpus_p10"]


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


SCENARIOS = st.fixed_dictionaries(
    {"model": st.sampled_from(["llama-3.1-405b", "llama-3-8b", "llama-4-maverick", "llama-2-70b"])},
    optional={
        "gpu": st.sampled_from(["h100-sxm", "a100-sxm-80gb", "b200", "tpu-v5p", "mi300x"]),
        "gpus": st.integers(1, 200_000),
        "mfu": st.floats(0.01, 1.0),
        "price": st.floats(0.0, 20.0),
        "carbon": st.sampled_from([0.0, 0.05, 0.367]),
        "pue": st.floats(1.0, 2.0),
        "pricing": st.sampled_from(["owned", "reserved-1y", "spot"]),
        "tokens": st.floats(1e9, 1e14),
    },
)


@pytest.fixture(scope="module")
def batch_resolver(catalog):
    """One resolver across examples, as a batch keeps one: its memos and the floats written fill up."""
    from llamacalc.resolve import Resolver

    return Resolver(catalog)


@settings(max_examples=300, deadline=None)
@given(SCENARIOS)
def test_fast_json_is_the_train_document(batch_resolver, request):
    """train_json (batch, train --json) and train_document (everything else) never drift apart."""
    from llamacalc.errors import LlamacalcError
    from llamacalc.estimates.train import estimate
    from llamacalc.output import documents

    try:
        result = estimate(batch_resolver, request)
    except LlamacalcError:
        return
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


DRIVER = """
import os, sys
import llamacalc.estimates.batch as batch
real = batch.run_line
def run_line(resolver, number, line):
    if b"die" in line:
        os._exit(9)  # a worker killed mid-chunk, as the OOM killer would
    return real(resolver, number, line)
batch.run_line = run_line
from llamacalc.cli import main
sys.argv = ["llamacalc", "batch", "--jobs", "2"]
main()
"""


def test_a_worker_that_dies_fails_its_lines_and_the_batch_goes_on(tmp_path):
    good = json.dumps({"model": "llama-3-8b", "gpus": 1024, "mfu": 0.4})
    lines = [good] * 3000 + [json.dumps({"model": "llama-3-8b", "die": 1})] + [good] * 3000
    run = subprocess.run(
        [sys.executable, "-c", DRIVER], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120
    )
    assert run.returncode == ExitCode.CHECK_FAILED, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == len(lines)  # every line answered, in order
    died = [d["line"] for d in out if "worker process died" in d.get("error", "")]
    assert 3001 in died and len(died) < 2000  # the chunk that held the killing line, no other
    assert all("gpus" in d for d in out if d.get("line") not in died)  # the rest computed, before and after


def test_a_given_mfu_is_applied_on_top_of_a_remembered_hardware_side(cli):
    """Lines that differ only in --mfu share one resolved hardware side; each still gets its own MFU,
    no predicted range, and the same document `train` gives."""
    lines = [{"model": "llama-3-70b", "gpus": 4096, "mfu": mfu} for mfu in (0.3, 0.4, 0.3)] + [
        {"model": "llama-3-70b", "gpus": 4096}
    ]
    out = [
        json.loads(line) for line in cli("batch", input="\n".join(map(json.dumps, lines)) + "\n").stdout.splitlines()
    ]
    assert out[0]["days"] / out[1]["days"] == pytest.approx(4 / 3) and out[0] == out[2]
    assert out[1]["ranges"]["days"]["p10"] == out[1]["ranges"]["days"]["p90"] and out[1]["extrapolation"] == []
    assert out[1] == cli("train", "llama-3-70b", "--gpus", "4096", "--mfu", "0.4", "--json").json()
    assert out[3]["assumptions"]["mfu"]["origin"] == "assumption" and out[3]["mfu"] < 0.3


VARIANTS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "gpus": st.integers(1, 200_000),
            "mfu": st.floats(0.01, 1.0),
            "tokens": st.floats(1e9, 1e14),
            "price": st.one_of(st.floats(0.0, 20.0), st.sampled_from(["$2/h", "3 USD/GPU/hour", "-1", "free"])),
        },
    ),
    min_size=2,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(SCENARIOS, VARIANTS)
def test_what_a_batch_remembers_never_changes_a_line(catalog, base, variants):
    """Lines that differ in what is applied on top of a remembered hardware side (GPU count, price,
    MFU, tokens): each line's document (or error) from one resolver across them equals a fresh
    resolver's for that line alone."""
    requests = [{**base, **variant} for variant in variants]
    from llamacalc.errors import LlamacalcError
    from llamacalc.estimates.train import estimate
    from llamacalc.output import documents
    from llamacalc.resolve import Resolver

    def document(resolver: Resolver, request: dict) -> object:
        try:
            return documents.train_document(estimate(resolver, request))
        except LlamacalcError as error:
            return str(error)

    shared = Resolver(catalog)
    for request in requests:
        assert document(shared, request) == document(Resolver(catalog), request)


def test_a_byte_order_mark_and_bad_utf8_are_handled_per_line(cli):
    text = '\ufeff{"model": "llama-3-8b", "gpus": 64}\n{"model": "llama-3-8b", "gpus": 64}\n'
    first, second = (json.loads(line) for line in cli("batch", "--fields", "days", input=text).stdout.splitlines())
    assert first == second


def test_a_lone_surrogate_echoed_in_a_csv_error_is_written_escaped(cli):
    run = cli("batch", "--csv", input='{"model": "\\ud800x"}\n')
    assert run.code == ExitCode.CHECK_FAILED, run.stderr
    assert "unknown model '\\ud800x'" in run.stdout


def test_a_line_longer_than_a_read_keeps_the_numbering(cli):
    """A line longer than one 64 KiB read arrives in pieces; it is still one line, and the next is 2."""
    long = json.dumps({"model": "llama-3-8b", "gpu": "x" * 100_000})
    out = cli("batch", "--fields", "days", input=f'{long}\n{{"model": "llama-3-8b"}}').stdout.splitlines()
    assert json.loads(out[0])["line"] == 1 and "unknown GPU" in json.loads(out[0])["error"]
    assert list(json.loads(out[1])) == ["days"] and len(out) == 2
