"""`llamacalc train` and `llamacalc presets`: one run's budget, and the presets behind it."""

import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from llamacalc.catalog import KINDS
from llamacalc.cli.catalogs import catalog_from, preset_places
from llamacalc.cli.group import app, commands, warn
from llamacalc.cli.options import (
    BriefOpt,
    ConfigOpt,
    FieldsOpt,
    JsonOpt,
    PresetsOpt,
    SourcesOpt,
    VisionOpt,
    choices,
    opt,
    run_inputs,
    train_fields,
)
from llamacalc.cli.writing import emit, writes_output
from llamacalc.errors import InputError

if TYPE_CHECKING:
    from llamacalc.catalog import Catalog
    from llamacalc.estimates.train import TrainResult


@commands.command()
@writes_output
@run_inputs()
def train(
    request: dict[str, Any],
    config: ConfigOpt = None,
    vision: VisionOpt = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show the FLOP formula and its breakdown.")] = False,
    inference_tokens: Annotated[
        str | None, opt("Tokens to serve after training, e.g. 10T: adds the serving bill (see `serve`).")
    ] = None,
    sources: SourcesOpt = False,
    goodput: Annotated[
        bool, typer.Option("--goodput", help="Add interruptions at the Llama 3 405B run's failure rate.")
    ] = False,
    checkpoint_every: Annotated[
        str | None, opt("With --goodput or --layout: checkpoint interval, e.g. '30 min'.")
    ] = None,
    restart: Annotated[
        str | None, opt("With --goodput or --layout: time to restart after a failure, e.g. '10 min'.")
    ] = None,
    layout: Annotated[
        str | None,
        opt(
            "A parallel layout, 'auto' (searched) or degrees 'tp8,pp16,dp128[,cp2,vp4]': MFU from the step "
            "model (see `layout`) times goodput, beside the empirical band."
        ),
    ] = None,
    global_batch: Annotated[
        str | None,
        opt(
            "With --layout: sequences per step ('2048') or tokens ('16M tokens') "
            "[default: the preset's, else 4M tokens]."
        ),
    ] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
    fields: FieldsOpt = None,
    brief: BriefOpt = False,
) -> None:
    """Compute, time, GPU-hours, cost, energy and CO2 to train a model.

    Example: llamacalc train llama-3.1-405b --gpus 16384 --mfu 0.4
    """
    from llamacalc.estimates.train import Conventions, estimate, train_for
    from llamacalc.flops import CONVENTIONS
    from llamacalc.resolve import Resolver
    from llamacalc.setups import train_extras

    projection = train_fields(fields)
    if request.get("flops") == "all" and (layout is not None or goodput or inference_tokens is not None):
        raise InputError("--flops all compares the conventions alone: drop --layout, --goodput and --inference-tokens")
    extras = train_extras(layout, global_batch, goodput, checkpoint_every, restart, inference_tokens)
    if projection is not None and request.get("flops") == "all":
        raise InputError("--fields projects one run's document; with --flops all use --json (or one --flops)")
    catalog = catalog_from(presets)
    if config is not None or vision:
        from llamacalc.hf_config import with_config

        catalog, request["model"] = with_config(catalog, config, request.get("model"), request.get("tokens"), vision)
    if request.get("flops") == "all":
        resolver = Resolver(catalog)
        results = tuple(
            estimate(
                resolver,
                {**request, "flops": name, "recompute": request.get("recompute") if convention.recomputes else None},
            )
            for name, convention in CONVENTIONS.items()
        )
        emit(Conventions(results, explain), as_json, brief=brief)
        return
    report = train_for(Resolver(catalog), request, extras)
    _warn_if_unfit(report.result)
    emit(dataclasses.replace(report, explain=explain, sources=sources), as_json, projection, brief=brief)


def _warn_if_unfit(result: "TrainResult") -> None:
    """Warn when the training state cannot fit on the plan's GPUs under any sharding."""
    from llamacalc.footprint import can_fit, state_bytes

    s = result.resolved
    hbm, params = s.hardware.memory, s.params
    if hbm and params and not can_fit(params, result.budget.gpus, hbm):
        warn([
            f"{params / 1e9:,.0f}B parameters need {state_bytes(params) / 1e12:,.2f} TB of training state "
            f"(16 B/param); {result.budget.gpus:,} × {hbm / 1e9:,.0f} GB cannot hold it even fully sharded"
        ])  # fmt: skip


presets_app = typer.Typer(cls=TyperGroup, rich_markup_mode=None, no_args_is_help=False)
app.add_typer(presets_app, name="presets")


@presets_app.callback(invoke_without_command=True)
@writes_output
def presets_list(
    ctx: typer.Context,
    presets: PresetsOpt = None,
    paths: Annotated[bool, typer.Option("--paths", help="Print the folders presets are read from, in order.")] = False,
    kind: Annotated[
        str | None, opt(f"Only presets of this kind (or `presets KIND`): {', '.join(KINDS)}.", complete=choices(*KINDS))
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the presets with their key figures; `presets KIND` (models, hardware, ...) lists one kind.

    Example: llamacalc presets hardware
    """
    if ctx.invoked_subcommand is not None:
        return
    if paths:
        for named, path in preset_places(presets):
            sys.stdout.write(f"{named}\t{path}\n")
        return
    emit(_of_kind(catalog_from(presets), kind, "--kind"), as_json)


def _of_kind(catalog: "Catalog", kind: str | None, named: str) -> "Catalog":
    """The catalog with only `kind`'s presets (all of them for None): what `presets KIND` lists."""
    from types import MappingProxyType

    from llamacalc.catalog import Catalog
    from llamacalc.errors import did_you_mean

    if kind is None:
        return catalog
    if kind not in KINDS:
        hint = did_you_mean(kind, KINDS)
        raise InputError(f"{named}: unknown kind '{kind}'{hint}; expected one of {', '.join(KINDS)}")
    return Catalog({k: entries if k == kind else MappingProxyType({}) for k, entries in catalog.entries.items()})


def _lister(kind: str) -> Callable[..., None]:
    """`presets KIND`: the presets of one kind, each with its key figures."""

    def listed(presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
        emit(_of_kind(catalog_from(presets), kind, "KIND"), as_json)

    listed.__doc__ = f"List the {kind} presets, each with its key figures.\n\nExample: llamacalc presets {kind}"
    listed.__name__ = f"presets_{kind}"
    return listed


for _kind in KINDS:
    presets_app.command(_kind)(writes_output(_lister(_kind)))


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
    catalog = catalog_from(presets)
    entry = catalog.find(name)
    kind_builders: dict[str, Callable[[str], object]] = {
        "models": catalog.model, "hardware": catalog.hardware, "clusters": catalog.cluster, "laws": catalog.law,
        "runs": catalog.run, "efficiency": catalog.efficiency, "ownership": catalog.ownership,
        "pricing": catalog.tier, "serving": catalog.serving, "performance": catalog.step_model,
        "steps": catalog.measured_step,
    }  # fmt: skip
    if entry.kind in kind_builders:
        kind_builders[entry.kind](entry.name)  # validate every figure, not only the structure
    emit(entry, as_json)


@commands.command()
@writes_output
def sources(
    tag: Annotated[str | None, typer.Argument(help="A citation tag, e.g. S7; none lists them all.")] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The full reference behind a citation tag such as [S7] (paper or card, section or table, URL).

    Example: llamacalc sources S7
    """
    emit(catalog_from(presets).citations(tag.strip("[]") if tag else None), as_json)
