"""Every --json output validates against the JSON Schema shipped in llamacalc/schemas/, and against
what `llamacalc schema NAME` prints, standing alone: a validator with no registry of the others."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

SCHEMAS = Path(__file__).resolve().parent.parent / "llamacalc" / "schemas"


def validator(name: str):
    docs = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    registry = referencing.Registry().with_resources(
        (doc["$id"], referencing.Resource.from_contents(doc)) for doc in docs.values()
    )
    return jsonschema.Draft202012Validator(docs[name], registry=registry)


# Keys that count whole things: their numbers are JSON integers wherever they appear, and so are the
# values of these inputs' assumptions (a float here is a count written as 16129999999.999998).
COUNTS = {"params", "active_params", "tokens", "gpus", "seq_len", "steps", "inference_tokens",
          "implied_inference_tokens", "global_batch", "global_batch_tokens", "micro_batch", "min_dp",
          "min_gpus", "fewest_gpus", "input_tokens", "output_tokens", "concurrency", "max_concurrency",
          "kv_cache_tokens"}  # fmt: skip


def fractional_counts(node, path=()):
    """The paths in a document where a count is not a JSON integer (compare's ratios of counts aside)."""
    if isinstance(node, dict):
        if path and path[-2:-1] == ("assumptions",) and path[-1] in COUNTS:
            value = node.get("value")
            return [path] if isinstance(value, float) else []
        return [p for key, value in node.items() if key != "ratios" for p in fractional_counts(value, (*path, key))]
    if isinstance(node, list):
        return [p for value in node for p in fractional_counts(value, path)]
    counted = [key for key in path if key not in ("p10", "p50", "p90")]
    return [path] if isinstance(node, float) and counted and counted[-1] in COUNTS else []


PRINTED: dict[str, dict] = {}  # `schema NAME`'s output, by name, printed once per session


def standalone(cli, name: str):
    """A validator of `schema NAME`'s output alone: a reference it did not bundle fails to resolve."""
    if name not in PRINTED:
        run = cli("schema", name)
        assert run.code == 0, run.stderr
        PRINTED[name] = json.loads(run.stdout)
    return jsonschema.Draft202012Validator(PRINTED[name])


DOCUMENTS = [
        ("train", ["train", "llama-3.1-405b"]),
        ("train", ["train", "llama-4-projected"]),
        ("train", ["train", "llama-4-behemoth"]),
        ("train", ["train", "--params", "7B", "--tokens", "2T", "--gpu", "tpu-v5p", "--days", "30"]),
        ("optimal", ["optimal", "--compute", "1e24FLOP", "--law", "all"]),
        ("optimal", ["optimal", "--budget", "5 MUSD"]),
        ("loss", ["loss", "llama-3-70b", "--law", "all"]),
        ("overtrain", ["optimal", "--params", "8B", "--loss", "2.1", "--law", "all"]),
        ("inference", ["optimal", "--loss", "2.1", "--inference-tokens", "2T", "--law", "all"]),
        ("inference", ["optimal", "--loss", "2.1", "--inference-tokens", "2T", "--serve-gpu", "h100-sxm"]),
        ("serve", ["serve", "llama-3.1-70b", "--precision", "fp8", "--tokens-per-day", "1B"]),
        ("fleet", ["fleet", "meta-350k"]),
        ("train", ["train", "llama-3.1-405b", "--pricing", "owned", "--life", "5.5 years"]),
        ("train", ["train", "llama-3-8b", "--inference-tokens", "100T"]),
        ("presets", ["presets"]),
        ("preset", ["presets", "show", "llama-4-maverick"]),
        ("preset", ["presets", "show", "epoch"]),
        ("check", ["check", "llama-3.1-405b", "--max-cost", "1e12 USD", "--max-co2", "10 t"]),
        ("compare", ["compare", "llama-3.1-405b", "llama-4-projected", "llama-4-scout"]),
        ("sweep", ["sweep", "llama-3-8b", "--gpus", "8:64:x2"]),
        ("train", ["train", "llama-3.1-405b", "--flops", "all", "--recompute", "full"]),
        ("backtest", ["backtest"]),
        (
            "memory",
            ["memory", "llama-4-maverick", "--tp", "8", "--ep", "8", "--dp", "16", "--zero", "3", "--seq-len", "8192"],
        ),
        ("train", ["train", "llama-4-projected", "--goodput"]),
        ("train", ["train", "--config", "tests/fixtures/mixtral-8x7b-config.json", "--tokens", "1T"]),
        ("train", ["train", "llama-3.1-70b", "--flops", "hardware", "--recompute", "selective"]),
        ("train", ["train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128"]),
        ("layout", ["layout", "llama-3.1-70b", "--gpus", "64", "--global-batch", "128", "--precision", "fp8"]),
        ("layout", ["layout", "llama-4-maverick", "--gpus", "256", "--global-batch", "1024", "--seq-len", "8192"]),
        ("steps", ["backtest", "--steps"]),
        ("sources", ["sources"]),
        ("serving-backtest", ["backtest", "--serving"]),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "args"), DOCUMENTS)
def test_json_outputs_validate(cli, schema, args):
    run = cli(*args, "--json")
    assert run.code in (0, 1), run.stderr
    validator(schema).validate(run.json())
    standalone(cli, schema).validate(run.json())
    assert fractional_counts(run.json()) == []


def test_counts_are_integers_however_they_were_written(cli):
    """16.13B reads as 16.13 × 1e9 = 16129999999.999998: written 16130000000, in batch and train alike,
    in the figure and in its assumption; an optimum's parameters and tokens whole too."""
    line = '{"params": "16.13B", "tokens": "1.7T", "gpus": 1000}\n'
    batch = json.loads(cli("batch", input=line).stdout)
    train = cli("train", "--params", "16.13B", "--tokens", "1.7T", "--gpus", "1000", "--json").json()
    for doc in (batch, train):
        assert doc["params"] == doc["active_params"] == 16_130_000_000 and type(doc["params"]) is int
        assert doc["assumptions"]["params"]["value"] == 16_130_000_000 and fractional_counts(doc) == []
    assert batch == train
    sweep = cli("sweep", "--params", "1.5B:3.5B:1B", "--tokens", "1.7T", "--json").json()
    assert [p["value"] for p in sweep["points"]] == [1_500_000_000, 2_500_000_000, 3_500_000_000]
    assert fractional_counts(sweep) == []
    gate = cli("check", "llama-3.1-405b", "--max-gpus", "20000.5", "--json").json()["runs"][0]["checks"][0]
    assert (gate["maximum"], gate["value"]) == (20000, 16384)


def test_every_schema_is_checked_against_a_real_document():
    checked = {schema for schema, _ in DOCUMENTS} | {"batch-line"}
    assert checked == {p.stem for p in SCHEMAS.glob("*.json")}


def test_a_bundled_schema_still_rejects_through_its_references(cli):
    """`schema check` embeds train's schema: a wrong figure inside a run's result is caught there."""
    doc = cli("check", "llama-3.1-405b", "--max-cost", "1e12 USD", "--json").json()
    doc["runs"][0]["result"]["flops"] = "3.8e25"
    assert not standalone(cli, "check").is_valid(doc)
    assert "urn:llamacalc:train:1" in json.dumps(json.loads(cli("schema", "check").stdout)["$defs"])


def test_every_batch_line_validates(cli):
    lines = ['{"model": "llama-3-8b"}', '{"model": "nope"}', "[]", '{"params": "7B", "tokens": "1T", "days": 3}']
    run = cli("batch", input="\n".join(lines) + "\n")
    for line in run.stdout.splitlines():
        validator("batch-line").validate(json.loads(line))
        standalone(cli, "batch-line").validate(json.loads(line))


def test_schema_rejects_a_wrong_document(cli):
    doc = cli("train", "llama-3-8b", "--json").json()
    doc["flops"] = "3.8e25"
    assert not validator("train").is_valid(doc)


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(["llama-2-7b", "llama-3.1-405b", "llama-4-scout", None]),
    gpu=st.sampled_from(["h100-sxm", "a100", "b200", "mi300x", "tpu-v6e", "gaudi3"]),
    gpus=st.integers(min_value=1, max_value=10**6),
    mfu=st.floats(min_value=0.01, max_value=1),
    tokens=st.floats(min_value=1e9, max_value=1e15),
)
def test_every_valid_train_document_validates(cli, model, gpu, gpus, mfu, tokens):
    args = ["train", *([model] if model else ["--params", "7B"]), "--tokens", repr(tokens)]
    run = cli(*args, "--gpu", gpu, "--gpus", str(gpus), "--mfu", repr(mfu), "--json")
    assert run.code == 0, run.stderr
    doc = run.json()
    validator("train").validate(doc)
    assert fractional_counts(doc) == []
    assert doc["gpu_hours"] == pytest.approx(doc["gpus"] * doc["days"] * 24)


def test_schema_prints_the_shipped_schemas(cli):
    names = cli("schema").stdout.split()
    assert names == sorted(p.stem for p in SCHEMAS.glob("*.json"))
    assert json.loads(cli("schema", "train").stdout) == json.loads((SCHEMAS / "train.json").read_text())
    check = json.loads(cli("schema", "check").stdout)
    assert check["$defs"]["train"] == json.loads((SCHEMAS / "train.json").read_text())
    assert {key: value for key, value in check.items() if key != "$defs"} == json.loads(
        (SCHEMAS / "check.json").read_text()
    )
    run = cli("schema", "trian")
    assert run.code == 2 and "did you mean 'train'" in run.stderr
