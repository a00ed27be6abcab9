"""Help that cannot drift: every default, choice and example `--help` and completion state is the one the
code uses, read here from the same registries (FLOP conventions, config.json families, precisions,
pricings, defaults), so a new entry or a changed default fails this file until the help says it.

The help texts are spelled out in cli/ (so that `--help` loads no registry: startup stays lean); this
file is what keeps them true."""

import re
import shlex

import pytest
import typer

from llamacalc import plan_setups, setups
from llamacalc.cli import app, options
from llamacalc.flops import CONVENTIONS, DEFAULT_CONVENTION
from llamacalc.hf_config import FAMILIES
from llamacalc.inputs import DEFAULTS, PRICINGS
from llamacalc.specs import PRECISIONS


def help_text(*command: str) -> str:
    """`llamacalc COMMAND --help` on one line (rich boxes and wrapping removed)."""
    from typer.testing import CliRunner

    run = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "300"}, prog_name="llamacalc")
    assert run.exit_code == 0, run.output
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", run.output).split())


def option(annotated: object) -> typer.models.OptionInfo:
    return annotated.__metadata__[0]  # type: ignore[attr-defined]


def completions(annotated: object) -> list[str]:
    return option(annotated).autocompletion("")


def said(values: list[str] | tuple[str, ...], last: str = "or") -> str:
    """'a, b or c' as help text lists choices."""
    return f"{', '.join(values[:-1])} {last} {values[-1]}" if len(values) > 1 else values[0]


def test_flop_conventions_are_the_registry():
    names = list(CONVENTIONS)
    assert option(options.FlopsOpt).help == (
        f"FLOP convention: {', '.join(names)}, or all [default: {DEFAULT_CONVENTION}]."
    )
    assert completions(options.FlopsOpt) == [*names, "all"]


def test_precisions_and_pricings_are_the_registries():
    assert completions(options.PrecisionOpt) == list(PRECISIONS)
    assert option(options.PrecisionOpt).help.startswith(f"{said(PRECISIONS)}:")
    assert f"[default: {DEFAULTS['precision'].value}]" in option(options.PrecisionOpt).help
    assert completions(options.PricingOpt) == list(PRICINGS)
    serving = [p for p in setups.SERVING_PRECISIONS if p != "fp4"]  # fp4: Blackwell only, `serve --precision`
    assert completions(options.ServingPrecisionOpt) == serving
    assert f"served in {said(serving)} [default: bf16]" in option(options.ServingPrecisionOpt).help
    assert f"Weights served in {said(setups.SERVING_PRECISIONS)} (Blackwell)" in help_text("serve")


def test_defaults_in_help_are_the_defaults_the_code_uses():
    assert f"[default: {DEFAULTS['pue'].value:g}]" in option(options.PueOpt).help
    assert f"[default: {DEFAULTS['carbon'].value:g}]" in option(options.CarbonOpt).help
    assert f"else {DEFAULTS['gpu'].value}]" in option(options.GpuOpt).help
    assert f"{DEFAULTS['mfu.fp8'].value:g} in fp8" in option(options.MfuOpt).help
    optimal = help_text("optimal")
    assert f"[default: {round(plan_setups.OUTPUT_SHARE * 285)}/285]" in optimal
    assert f"with --prefill-mfu, {plan_setups.DECODE_MFU:g}]" in optimal


def test_config_families_are_the_registry():
    text = option(options.ConfigOpt).help
    assert f"({len(FAMILIES)} families:" in text
    flat = re.sub(r"[^a-z0-9]", "", text.lower())
    stems = {
        re.sub(r"[^a-z0-9]", "", re.sub(r"(Moe)?For\w+$", "", name).rstrip("0123456789V").lower()) for name in FAMILIES
    }
    assert not [stem for stem in stems if stem not in flat]


def examples() -> list[str]:
    """Each command's `Example:` line, as its --help shows it."""
    import typer.main

    group = typer.main.get_command(app)
    found = []
    with typer.Context(group) as context:
        for name in group.list_commands(context):  # type: ignore[attr-defined]
            command = group.get_command(context, name)  # type: ignore[attr-defined]
            for sub in getattr(command, "commands", {name: command}).values():
                found += re.findall(r"Example: (llamacalc .+)", sub.help or "")
    return found


@pytest.mark.parametrize("example", examples())
def test_every_help_example_runs(cli, example, tmp_path, monkeypatch):
    """Each example as typed (a redirection dropped, `-o` into a scratch folder): it exits 0 or 1, or, where it
    names the user's own files (`calibrate --runs our-runs/`), fails only on those."""
    monkeypatch.chdir(tmp_path)
    args = [arg for arg in shlex.split(example.split(" > ")[0])[1:]]
    args = [str(tmp_path / "out.toml") if arg.startswith("~/") else arg for arg in args]
    run = cli(*args, input="")
    assert run.code in (0, 1) or "our-runs" in example and "our-runs" in run.stderr, f"{example}: {run.stderr}"
