"""Issue 26 class 5: an input is checked even where the chosen FLOP convention or mode does not read
it, on the command line and in a batch line alike: a typo is an error, never silently ignored."""

import json

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seq-len", "x"), "--seq-len: expected a sequence length"),
        (("--seq-len", "0"), "--seq-len: expected a sequence length"),
        (("--precision", ""), "--precision: expected one of bf16, fp8, got ''"),
        (("--flops", "6nd", "--seq-len", "-5"), "--seq-len: expected a sequence length"),
    ],
)
def test_an_input_the_convention_does_not_read_is_still_checked(cli, args, message):
    run = cli("train", "llama-3-8b", *args)
    assert run.code == 2 and message in run.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"precision": 0}, "--precision: expected one of bf16, fp8, got '0'"),
        ({"precision": ""}, "--precision: expected one of bf16, fp8, got ''"),
        ({"seq_len": "x"}, "--seq-len: expected a sequence length"),
    ],
)
def test_a_batch_line_checks_them_too(cli, line, message):
    run = cli("batch", input=json.dumps({"model": "llama-3-8b", **line}) + "\n")
    assert run.code == 1 and message in json.loads(run.stdout)["error"]


def test_a_valid_sequence_length_is_still_used_where_read(cli):
    short = cli("train", "llama-3-8b", "--flops", "megatron", "--seq-len", "2048", "--json").json()
    long = cli("train", "llama-3-8b", "--flops", "megatron", "--seq-len", "32768", "--json").json()
    assert long["flops"] > short["flops"]
