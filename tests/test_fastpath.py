"""fastpath: every trick can be switched off without changing a byte of output, and every memo is bounded."""

import json
import random

import pytest

from llamacalc import fastpath, resolve, units
from llamacalc.errors import ExitCode
from llamacalc.estimates.train import estimate


def _lines(count: int, seed: int = 1) -> str:
    """Scenarios that reach every trick: presets as they stand (reported figures, predicted MFU),
    varied counts, unit strings, --fields-friendly numbers, a line without a GPU count, bad lines."""
    rng = random.Random(seed)
    models = ["llama-3-8b", "llama-3-70b", "llama-3.1-405b", "llama-4-maverick"]
    lines = []
    for i in range(count):
        line: dict[str, object] = {"model": rng.choice(models), "gpu": rng.choice(["h100-sxm", "b200", "mi300x"])}
        if i % 5:
            line["gpus"] = rng.choice([1024, 4096, rng.randrange(64, 30000)])
        if i % 4 == 1:
            line.pop("model")
            line |= {"params": f"{rng.uniform(1, 500):.1f}B", "tokens": f"{rng.uniform(1, 30):.2f}T"}
        if i % 3 == 0:
            line["mfu"] = rng.choice([0.4, round(rng.uniform(0.2, 0.5), 3)])
        if i % 7 == 0:
            line["price"] = rng.choice(["2 USD/h", "$2.5/h", "3.1 USD/GPU/hour"])
        if i % 11 == 0:
            line["days"] = line.pop("gpus", 30)
        lines.append(json.dumps(line))
    lines[5] = '{"model": "llama-3-70b", "gpu": "h100-sxn"}'
    return "\n".join(lines) + "\n"


@pytest.fixture
def tricks():
    """Every trick on again after the test, whatever it switched off."""
    yield fastpath.TRICKS
    fastpath.switch_on()


@pytest.mark.parametrize("name", list(fastpath.TRICKS))
def test_each_trick_off_changes_no_output(cli, tricks, name):
    lines = _lines(120)
    for args in (("batch",), ("batch", "--fields", "days,cost_usd,ranges.days.p90"), ("batch", "--csv")):
        on = cli(*args, input=lines)
        off = cli(*args, input=lines, env={"LLAMACALC_WITHOUT": name})
        assert fastpath.is_on(name) is False
        assert (off.code, off.stdout) == (on.code, on.stdout) and on.stdout.count("\n") >= 120
        fastpath.switch_on()
    train = ("train", "llama-3.1-405b", "--json")
    assert cli(*train, env={"LLAMACALC_WITHOUT": name}).stdout == cli(*train).stdout


def test_every_trick_off_at_once_changes_no_output(cli, tricks):
    lines = _lines(80, seed=2)
    on = cli("batch", input=lines).stdout
    assert cli("batch", input=lines, env={"LLAMACALC_WITHOUT": ",".join(tricks)}).stdout == on


def test_an_unknown_trick_is_bad_input_with_a_hint(cli, tricks):
    run = cli("train", "llama-3-8b", "--json", env={"LLAMACALC_WITHOUT": "writr"})
    assert run.code == ExitCode.BAD_INPUT and run.stdout == ""
    assert "no fast-path trick 'writr' (did you mean 'writer'?)" in run.stderr


def test_a_memo_table_starts_afresh_when_full_and_stores_nothing_when_off(tricks):
    table: fastpath.Memo[int, int] = fastpath.Memo("hardware-sides", 4)
    for key in range(10):
        table[key] = key
        assert len(table) <= 4
    assert table == {8: 8, 9: 9}
    fastpath.switch_off("hardware-sides")
    table[10] = 10
    assert 10 not in table


def test_a_function_memo_is_switched_by_rebinding_its_name(tricks):
    assert hasattr(units._parse_text, "cache_info")
    units.parse_quantity("2.5 USD/h", units.PRICE)
    fastpath.switch_off("parse")
    assert not hasattr(units._parse_text, "cache_info")
    assert units.parse_quantity("2.5 USD/h", units.PRICE) == pytest.approx(2.5 / 3600)
    fastpath.switch_on()
    assert units._parse_text.cache_info().currsize == 0  # started afresh


def test_a_resolvers_memos_stay_bounded_over_a_long_varied_batch(catalog):
    resolver = resolve.Resolver(catalog)
    rng = random.Random(3)
    for _ in range(resolve.KEPT + 500):
        request = {
            "params": f"{rng.uniform(1, 900):.3f}B", "tokens": f"{rng.uniform(1, 40):.3f}T",
            "gpus": rng.randrange(64, 32768), "price": f"{rng.uniform(1, 6):.4f} USD/h", "gpu": "h100-sxm",
        }  # fmt: skip
        fastpath.train_json(estimate(resolver, request))
    memos = [value for value in vars(resolver).values() if isinstance(value, fastpath.Memo)]
    assert len(memos) == 3 and max(map(len, memos)) <= resolve.KEPT and resolver._setups
    assert 0 < len(fastpath._FLOATS) <= fastpath._FLOATS.kept
