"""The Python API returns exactly the CLI's --json documents, names inputs as keywords, and stays lazy."""

import subprocess
import sys
from pathlib import Path

import pytest

import llamacalc

GEMMA = str(Path(__file__).parent / "fixtures" / "hf-multimodal" / "gemma-3-27b-it.json")
CASES = [
    (lambda: llamacalc.train("llama-3.1-405b", gpus=16384, price="2.5 USD/h"),
     ["train", "llama-3.1-405b", "--gpus", "16384", "--price", "2.5 USD/h"]),
    (lambda: llamacalc.train("llama-3.1-405b", layout="tp8,pp16,dp128"),
     ["train", "llama-3.1-405b", "--layout", "tp8,pp16,dp128"]),
    (lambda: llamacalc.layout("llama-3.1-70b", gpus=64, global_batch=128, precision="fp8", top=3),
     ["layout", "llama-3.1-70b", "--gpus", "64", "--global-batch", "128", "--precision", "fp8", "--top", "3"]),
    (lambda: llamacalc.memory("llama-3.1-405b", gpu="h100-sxm", tp=8, pp=16, dp=128),
     ["memory", "llama-3.1-405b", "--gpu", "h100-sxm", "--tp", "8", "--pp", "16", "--dp", "128"]),
    (lambda: llamacalc.backtest_steps(), ["backtest", "--steps"]),
    (lambda: llamacalc.optimal(gpus=16384, days=54, gpu="h100-sxm", mfu=0.4, law="all"),
     ["optimal", "--gpus", "16384", "--days", "54", "--gpu", "h100-sxm", "--mfu", "0.4", "--law", "all"]),
    (lambda: llamacalc.optimal(params="8B", loss=2.1), ["optimal", "--params", "8B", "--loss", "2.1"]),
    (lambda: llamacalc.optimal(loss=2.0, inference_tokens="2T", serve_gpu="h100-sxm"),
     ["optimal", "--loss", "2.0", "--inference-tokens", "2T", "--serve-gpu", "h100-sxm"]),
    (lambda: llamacalc.loss("llama-3.1-405b", law="all"), ["loss", "llama-3.1-405b", "--law", "all"]),
    (lambda: llamacalc.serve("llama-3.1-70b", gpu="h100-sxm", precision="fp8", tp=4, max_tpot="20ms"),
     ["serve", "llama-3.1-70b", "--gpu", "h100-sxm", "--precision", "fp8", "--tp", "4", "--max-tpot", "20ms"]),
    (lambda: llamacalc.compare("llama-3-8b", "llama-3-70b", cluster="meta-24k"),
     ["compare", "llama-3-8b", "llama-3-70b", "--cluster", "meta-24k"]),
    (lambda: llamacalc.check("llama-3.1-405b", max_cost="100 MUSD", max_days=90, confidence=0.9),
     ["check", "llama-3.1-405b", "--max-cost", "100 MUSD", "--max-days", "90", "--confidence", "0.9"]),
    (lambda: llamacalc.fleet("meta-350k", capex="$37B"), ["fleet", "meta-350k", "--capex", "$37B"]),
    (lambda: llamacalc.train("llama-3.1-405b", goodput=True, checkpoint_every="30 min", restart="10 min",
                             inference_tokens="1T"),
     ["train", "llama-3.1-405b", "--goodput", "--checkpoint-every", "30 min", "--restart", "10 min",
      "--inference-tokens", "1T"]),
    (lambda: llamacalc.train(config=GEMMA, tokens="14T", vision=True),
     ["train", "--config", GEMMA, "--tokens", "14T", "--vision"]),
    (lambda: llamacalc.layout(config=GEMMA, gpus=64, global_batch=128, seq_len=8192, top=2),
     ["layout", "--config", GEMMA, "--gpus", "64", "--global-batch", "128", "--seq-len", "8192", "--top", "2"]),
]  # fmt: skip


@pytest.mark.parametrize(("call", "args"), CASES, ids=[" ".join(args[:2]) for _, args in CASES])
def test_api_and_cli_documents_are_equal(cli, call, args):
    assert call().to_dict() == cli(*args, "--json").json()


def test_batch_yields_what_the_cli_writes_line_by_line(cli):
    import json

    requests = [{"model": "llama-3-8b", "gpus": 512}, {"model": "nope"}, {"params": "7B", "tokens": "2T", "mfu": "40%"}]
    lines = cli("batch", input="".join(json.dumps(r) + "\n" for r in requests)).stdout.splitlines()
    assert list(llamacalc.batch(requests)) == [json.loads(line) for line in lines]


def test_a_check_says_whether_it_passed():
    assert llamacalc.check("llama-3-8b", max_days=1000).passed
    assert not llamacalc.check("llama-3-8b", max_cost="1 USD").passed


def test_documents_read_as_attributes():
    run = llamacalc.train("llama-3.1-405b")
    assert run.days == run["days"] and run.ranges.days.p90 > run.days > run.ranges.days.p10
    best = llamacalc.layout("llama-3.1-405b", gpus=16384, global_batch=2048, tp=8, pp=16, dp=128).layouts[0]
    assert best.tp == 8 and best.breakdown.bubble_s > 0
    with pytest.raises(AttributeError, match="no 'dayz'"):
        run.dayz  # noqa: B018


def test_errors_name_inputs_not_flags():
    with pytest.raises(llamacalc.InputError, match="^mfu: expected a fraction"):
        llamacalc.train("llama-3.1-405b", mfu=2)
    with pytest.raises(ValueError, match="unknown input 'gpsu'"):
        llamacalc.train("llama-3.1-405b", gpsu=8)
    with pytest.raises(llamacalc.InputError, match="needs global_batch"):
        llamacalc.layout("llama-3.1-70b", gpus=64)


def test_import_stays_cheap():
    """`import llamacalc` loads no estimate, no pint and no rich until a function is called."""
    code = (
        "import sys, llamacalc; print(sorted(m for m in sys.modules if m.startswith(('llamacalc.', 'pint', 'rich'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_readme_python_example_runs():
    """The README's notebook example, run as written."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"\*\*From Python\.\*\*.*?```python\n(.*?)```", readme, re.S)[1]
    exec(compile(code, "README.md", "exec"), {})


@pytest.mark.parametrize("command", ["layout", "memory", "serve", "fleet"])
def test_the_api_and_the_cli_take_the_inputs_each_setup_reads(command):
    """One list of inputs per command (setups.READS): the CLI offers each as an option, and the API as a
    keyword (an input it does not know is refused, naming the command)."""
    import typer.main

    from llamacalc.cli import app
    from llamacalc.setups import READS

    options = {p.name for p in typer.main.get_command(app).get_command(None, command).params}
    assert set(READS[command]) - {"model"} <= options
    given = {key: "1" for key in READS[command] if key != "model"}
    with pytest.raises(llamacalc.InputError) as raised:
        getattr(llamacalc, command)("x", **given, nonsense=1)
    assert f"{command}: unknown input 'nonsense'" in str(raised.value)


def test_the_api_memory_takes_a_global_batch_as_the_cli_does(cli):
    args = {"tp": 8, "pp": 4, "dp": 2, "global_batch": 64}
    expected = cli("memory", "llama-3-70b", "--tp", "8", "--pp", "4", "--dp", "2", "--global-batch", "64", "--json")
    assert llamacalc.memory("llama-3-70b", **args).to_dict() == expected.json()


def test_the_apis_run_inputs_are_the_inputs_table():
    """api.py spells them out so that `import llamacalc` loads no inputs table; they cannot drift."""
    from llamacalc import api
    from llamacalc.inputs import INPUTS

    assert frozenset(INPUTS) == api._TRAIN_INPUTS
