"""`llamacalc train` and `llamacalc presets`: one run's budget, and the presets behind it."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from llamacalc.cli.app import (
    ConfigOpt,
    JsonOpt,
    PresetsOpt,
    app,
    catalog_from,
    commands,
    opt,
    print_json,
    print_tables,
    run_inputs,
    warn,
    with_config,
    writes_output,
)
from llamacalc.errors import InputError, prefixed

if TYPE_CHECKING:
    from llamacalc.estimates.train import TrainResult
    from llamacalc.goodput import Goodput


@commands.command()
@writes_output
@run_inputs()
def train(
    request: dict[str, Any],
    config: ConfigOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the FLOP formula and its breakdown.")] = False,
    goodput: Annotated[
        bool, typer.Option("--goodput", help="Add interruptions at the Llama 3 405B run's failure rate.")
    ] = False,
    checkpoint_every: Annotated[str | None, opt("With --goodput: checkpoint interval, e.g. '30 min'.")] = None,
    restart: Annotated[str | None, opt("With --goodput: time to restart after a failure, e.g. '10 min'.")] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute, time, GPU-hours, cost, energy and CO2 to train a model.

    Example: llamacalc train llama-3.1-405b --gpus 16384 --mfu 0.4
    """
    from llamacalc.estimates.train import estimate
    from llamacalc.flops import CONVENTIONS
    from llamacalc.output import documents, tables
    from llamacalc.resolve import Resolver

    catalog = catalog_from(presets)
    if config is not None:
        catalog, request["model"] = with_config(catalog, config, request.get("model"), request.get("tokens"))
    if request.get("flops") == "all":
        resolver = Resolver(catalog)
        results = [
            estimate(
                resolver,
                {**request, "flops": name, "recompute": request.get("recompute") if convention.recomputes else None},
            )
            for name, convention in CONVENTIONS.items()
        ]
        if as_json:
            print_json(documents.conventions_document(results))
        else:
            print_tables(tables.conventions_table(results), *(tables.breakdown_table(r.resolved) for r in results))
        return
    result = estimate(Resolver(catalog), request)
    _warn_if_unfit(result)
    lost = _lost_per_interruption(checkpoint_every, restart) if goodput else None
    if as_json:
        extra = None if lost is None else {"goodput": documents.goodput_document(_goodput(result, lost), lost, result)}
        sys.stdout.write(documents.train_json(result, extra) + "\n")
        return
    shown = [tables.train_table(result)]
    if explain:
        shown.append(tables.breakdown_table(result.resolved))
    if lost is not None:
        shown.append(tables.goodput_table(_goodput(result, lost), lost, result, _goodput_source(checkpoint_every)))
    print_tables(*shown, tables.assumptions_table(result.resolved.assumptions))


def _warn_if_unfit(result: "TrainResult") -> None:
    """Warn when the training state cannot fit on the plan's GPUs under any sharding."""
    from llamacalc.memory import can_fit, state_bytes

    s = result.resolved
    hbm, params = s.hardware.memory, s.params
    if hbm and params and not can_fit(params, result.budget.gpus, hbm):
        warn([
            f"{params / 1e9:,.0f}B parameters need {state_bytes(params) / 1e12:,.2f} TB of training state "
            f"(16 B/param); {result.budget.gpus:,} × {hbm / 1e9:,.0f} GB cannot hold it even fully sharded"
        ])  # fmt: skip


def _lost_per_interruption(checkpoint_every: str | None, restart: str | None) -> float:
    """Hours lost per interruption: from --checkpoint-every and --restart, else the Llama 3 calibration."""
    from llamacalc.goodput import LOST_HOURS_PER_INTERRUPTION, lost_per_interruption
    from llamacalc.units import DURATION, HOUR, parse_quantity

    if checkpoint_every is None and restart is None:
        return LOST_HOURS_PER_INTERRUPTION
    if checkpoint_every is None or restart is None:
        raise InputError("--checkpoint-every and --restart go together")
    with prefixed("--checkpoint-every"):
        checkpoint = parse_quantity(checkpoint_every, DURATION) / HOUR
    with prefixed("--restart"):
        restart_hours = parse_quantity(restart, DURATION) / HOUR
    return lost_per_interruption(checkpoint, restart_hours)


def _goodput(result: "TrainResult", lost: float) -> "Goodput":
    from llamacalc.goodput import goodput
    from llamacalc.units import HOUR

    return goodput(result.budget.gpus, result.budget.seconds / HOUR, lost)


def _goodput_source(checkpoint_every: str | None) -> str:
    from llamacalc.goodput import SOURCE

    rate = "failure rate: 419 interruptions / (54 days × 16,384 H100) [S7]"
    return rate if checkpoint_every else f"{rate}; lost per interruption {SOURCE}"


presets_app = typer.Typer(cls=TyperGroup, rich_markup_mode=None, no_args_is_help=False)
app.add_typer(presets_app, name="presets")


@presets_app.callback(invoke_without_command=True)
@writes_output
def presets_list(ctx: typer.Context, presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
    """List the model, hardware, cluster and scaling-law presets.

    Example: llamacalc presets show h100-sxm
    """
    if ctx.invoked_subcommand is not None:
        return
    from llamacalc.output import documents, tables

    catalog = catalog_from(presets)
    if as_json:
        print_json(documents.presets_document(catalog))
    else:
        print_tables(tables.presets_table(catalog))


@presets_app.command("show")
@writes_output
def presets_show(
    name: Annotated[str, typer.Argument(help="Preset name, e.g. llama-3.1-405b or h100-sxm.")],
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one preset with every figure's source.

    Example: llamacalc presets show llama-3.1-405b
    """
    from llamacalc.output import documents, tables

    catalog = catalog_from(presets)
    entry = catalog.find(name)
    kind_builders = {"models": catalog.model, "hardware": catalog.hardware, "clusters": catalog.cluster}
    if entry.kind in kind_builders:
        kind_builders[entry.kind](entry.name)  # validate every figure, not only the structure
    if as_json:
        print_json(documents.entry_document(entry))
    else:
        print_tables(tables.entry_table(entry))
