"""The core names inputs, never flags: a message says which input (`errors.named`), and whoever
shows it spells it, '--inference-tokens' on the command line, 'inference_tokens' in the Python API."""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

import llamacalc
from llamacalc.errors import InputError, named, prefixed

ESTIMATES = Path(llamacalc.__file__).parent / "estimates"
READERS = [
    Path(llamacalc.__file__).parent / f"{name}.py" for name in ("setups", "plan_setups", "check_setups", "sweep_setups")
]
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        (node.body[0].lineno, node.body[0].col_offset)
        for node in ast.walk(tree)
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)
    }  # fmt: skip


@pytest.mark.parametrize("path", [*sorted(ESTIMATES.glob("*.py")), *READERS], ids=lambda p: p.name)
def test_no_string_in_the_estimates_or_their_readers_names_a_flag(path):
    source = path.read_text(encoding="utf-8")
    documentation = _docstrings(ast.parse(source))
    flags = [
        f"{path.name}:{token.start[0]}: {token.string}"
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.STRING and token.start not in documentation and FLAG.search(token.string)
    ]
    assert not flags


# What reads option or plan text: units' parsers, an Input's (or any) `.parse`, and TOML. Presets are
# read by catalog.py (its Entry.parse) before an estimate sees them, so no estimate needs one: serve.py's
# `prefixed(entry.where(...))` only names a preset field in the errors of building a replica.
TEXT_PARSERS = frozenset({"parse_count", "parse_quantity", "parse_whole", "parse"})


def text_reads(source: str) -> list[str]:
    """Each line of `source` that calls a text parser or imports one (tomllib, units' parsers)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(alias.name == "tomllib" for alias in node.names):
            found.append(f"{node.lineno}: import tomllib")
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "tomllib"
            or (node.module == "llamacalc.units" and TEXT_PARSERS & {alias.name for alias in node.names})
        ):
            found.append(f"{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in TEXT_PARSERS:
                found.append(f"{node.lineno}: {ast.unparse(func)}(...)")
    return found


@pytest.mark.parametrize("path", sorted(ESTIMATES.glob("*.py")), ids=lambda p: p.name)
def test_no_estimate_reads_text(path):
    """Option and plan text is read by the input layer (resolve.py, setups.py, plan_setups.py,
    check_setups.py, sweep_setups.py); an estimate takes what they return."""
    assert not text_reads(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize(
    "source",
    [
        "units.parse_count(text, 'a token count')",
        "INPUTS['gpus'].parse(text)",
        "from llamacalc.units import parse_whole",
        "import tomllib",
        "from tomllib import loads",
    ],
)
def test_the_text_reads_are_found(source):
    assert text_reads(source)


def test_the_input_layer_never_imports_an_estimate():
    """Imports run one way: estimates take setups, so a setup module cannot need an estimate."""
    for name in ("setups", "plan_setups", "check_setups", "sweep_setups", "resolve"):
        tree = ast.parse((ESTIMATES.parent / f"{name}.py").read_text(encoding="utf-8"))
        imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        assert not [module for module in imported if module and module.startswith("llamacalc.estimates")], name


def test_a_message_spells_its_inputs_for_its_reader():
    error = InputError(f"{named('checkpoint_every')} and {named('restart')} go together")
    assert str(error) == "--checkpoint-every and --restart go together"
    assert error.in_names() == "checkpoint_every and restart go together"
    assert str(InputError(f"{named('model')} is unknown")) == "MODEL is unknown"


def test_a_prefix_keeps_the_inputs_named():
    with pytest.raises(InputError) as raised, prefixed(named("serve_gpu")):
        raise InputError(f"needs {named('decode_mfu')}")
    assert str(raised.value) == "--serve-gpu: needs --decode-mfu"
    assert raised.value.in_names() == "serve_gpu: needs decode_mfu"


def test_the_cli_and_the_api_name_the_same_input_each_their_way(cli):
    run = cli("optimal", "--loss", "2", "--inference-tokens", "2T", "--params", "8B")
    assert run.code == 2 and "--inference-tokens goes with --loss alone" in run.stderr
    with pytest.raises(llamacalc.InputError, match="^inference_tokens goes with loss alone"):
        llamacalc.optimal(loss=2, inference_tokens="2T", params="8B")
