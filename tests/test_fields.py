"""--fields: documents projected to the keys a pipeline asks for, checked against the shipped schema."""

import csv
import io
import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llamacalc.errors import ExitCode, InputError
from llamacalc.estimates.train import estimate
from llamacalc.output import documents
from llamacalc.output.fields import parse, project
from llamacalc.resolve import Resolver

SCHEMA = json.loads((resources.files("llamacalc") / "schemas" / "train.json").read_text())


def test_paths_are_checked_against_the_schema():
    assert parse("days, cost_usd,ranges.days.p90,assumptions.mfu.source", SCHEMA) == (
        ("days",), ("cost_usd",), ("ranges", "days", "p90"), ("assumptions", "mfu", "source"),
    )  # fmt: skip
    assert parse("days,days", SCHEMA) == (("days",),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dayz", "unknown field 'dayz' (did you mean 'days'?); fields are: schema, model"),
        ("ranges.dayz", "ranges has: mfu, days"),
        ("days.p90", "days has: none (not an object)"),
        ("days,,cost_usd", "expected comma-separated field names"),
        ("", "expected comma-separated field names"),
    ],
)
def test_a_bad_path_names_what_exists(text, message):
    with pytest.raises(InputError, match="--fields: ") as raised:
        parse(text, SCHEMA)
    assert message in str(raised.value)


def test_projection_is_flat_in_the_order_given_and_null_where_absent():
    document = {"days": 3.0, "ranges": {"days": {"p90": 5.0}}, "reported": None}
    fields = (("ranges", "days", "p90"), ("days",), ("reported", "gpu_hours"))
    assert list(project(document, fields).items()) == [
        ("ranges.days.p90", 5.0),
        ("days", 3.0),
        ("reported.gpu_hours", None),
    ]


def test_a_projection_matches_the_full_document_and_builds_only_what_it_reads(catalog):
    resolver = Resolver(catalog)
    result = estimate(resolver, {"model": "llama-3-70b", "gpus": 4096})
    fields = parse("days,cost_usd,gpus,reported.gpu_hours", SCHEMA)
    projected = documents.train_fields(result, fields)
    assert "ranges" not in vars(result)  # never worked out: a batch projecting days and cost skips them
    assert projected == project(documents.train_document(result), fields)
    ranged = parse("ranges.cost_usd.p90", SCHEMA)
    assert documents.train_fields(result, ranged)["ranges.cost_usd.p90"] == result.ranges["cost"].p90


def test_batch_fields_as_json_lines_and_csv_keep_line_errors(cli):
    text = '{"model": "llama-3-70b", "gpus": 4096}\n{"model": "nope"}\n{"params": "7B", "tokens": "2T", "mfu": 0.3}\n'
    run = cli("batch", "--fields", "days,cost_usd,ranges.days.p90", input=text)
    assert run.code == ExitCode.CHECK_FAILED
    first, error, third = (json.loads(line) for line in run.stdout.splitlines())
    full = cli("train", "llama-3-70b", "--gpus", "4096", "--json").json()
    assert first == {
        "days": full["days"],
        "cost_usd": full["cost_usd"],
        "ranges.days.p90": full["ranges"]["days"]["p90"],
    }
    assert error["line"] == 2 and "unknown model" in error["error"]
    assert set(third) == {"days", "cost_usd", "ranges.days.p90"}
    table = list(csv.DictReader(io.StringIO(cli("batch", "--csv", "--fields", "days,gpus", input=text).stdout)))
    assert list(table[0]) == ["line", "error", "days", "gpus"]
    assert table[0]["gpus"] == "4096" and table[1]["error"] and table[1]["days"] == ""


def test_an_unknown_field_is_exit_2_before_reading_anything(cli):
    run = cli("batch", "--fields", "cost", input='{"model": "llama-3-70b"}\n')
    assert run.code == ExitCode.BAD_INPUT and run.stdout == ""
    assert "did you mean 'cost_usd'" in run.stderr and len(run.stderr.splitlines()) == 1


def test_train_and_sweep_fields(cli):
    train = cli("train", "llama-3.1-405b", "--inference-tokens", "1e15", "--fields", "days,serving.cost_usd")
    full = cli("train", "llama-3.1-405b", "--inference-tokens", "1e15", "--json").json()
    assert train.json() == {"days": full["days"], "serving.cost_usd": full["serving"]["cost_usd"]}
    sweep = cli("sweep", "llama-3.1-405b", "--gpus", "8192:32768:x2", "--csv", "--fields", "days,mfu")
    rows = list(csv.DictReader(io.StringIO(sweep.stdout)))
    assert [r["sweep_gpus"] for r in rows] == ["8192", "16384", "32768"]
    assert float(rows[0]["mfu"]) > float(rows[2]["mfu"])  # utilisation falls with scale
    points = cli("sweep", "llama-3.1-405b", "--gpus", "8192:16384:x2", "--fields", "days").json()["points"]
    assert (
        points[0]["value"] == 8192 and points[0]["values"] == {"gpus": 8192} and list(points[0]["result"]) == ["days"]
    )
    assert cli("train", "llama-3.1-405b", "--flops", "all", "--fields", "days").code == ExitCode.BAD_INPUT


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(),
            st.booleans(),
            st.none(),
            st.text(max_size=5),
        ),
        max_size=4,
    )
)
def test_the_fast_writer_is_json_dumps(projected):
    assert documents.fields_json(tuple(projected), list(projected.values())) == json.dumps(projected)
