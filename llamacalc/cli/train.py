"""`llamacalc train` and `llamacalc presets`: one run's budget, and the presets behind it."""

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from llamacalc.cli.app import (
    ActiveOpt,
    CarbonOpt,
    ClusterOpt,
    ConfigOpt,
    DaysOpt,
    FlopsOpt,
    GpuOpt,
    GpusOpt,
    JsonOpt,
    MfuOpt,
    ModelArg,
    ParamsOpt,
    PowerOpt,
    PrecisionOpt,
    PresetsOpt,
    PriceOpt,
    PueOpt,
    RecomputeOpt,
    SeqLenOpt,
    TokensOpt,
    app,
    catalog_from,
    print_json,
    print_tables,
    request_of,
    with_config,
)


@app.command()
def train(
    model: ModelArg = None,
    params: ParamsOpt = None,
    active_params: ActiveOpt = None,
    tokens: TokensOpt = None,
    gpu: GpuOpt = None,
    gpus: GpusOpt = None,
    days: DaysOpt = None,
    cluster: ClusterOpt = None,
    mfu: MfuOpt = None,
    precision: PrecisionOpt = None,
    price: PriceOpt = None,
    power: PowerOpt = None,
    pue: PueOpt = None,
    carbon: CarbonOpt = None,
    flops: FlopsOpt = None,
    recompute: RecomputeOpt = None,
    seq_len: SeqLenOpt = None,
    config: ConfigOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the FLOP formula and its breakdown.")] = False,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute, time, GPU-hours, cost, energy and CO2 to train a model.

    Example: llamacalc train llama-3.1-405b --gpus 16384 --mfu 0.4
    """
    from llamacalc import output
    from llamacalc.flops import CONVENTIONS
    from llamacalc.scenario import resolve
    from llamacalc.scenario import train as run

    request = request_of(locals())
    catalog = catalog_from(presets)
    if config is not None:
        catalog, request["model"] = with_config(catalog, config, model, tokens)
    if flops == "all":
        results = [
            run(
                catalog,
                resolve(catalog, {**request, "flops": name, "recompute": recompute if name == "hardware" else None}),
            )
            for name in CONVENTIONS
        ]
        if as_json:
            print_json(output.conventions_document(results))
        else:
            print_tables(output.conventions_table(results), *(output.breakdown_table(r.scenario) for r in results))
        return
    result = run(catalog, resolve(catalog, request))
    if as_json:
        sys.stdout.write(output.train_json(result) + "\n")
        return
    tables = [output.train_table(result)]
    if explain:
        tables.append(output.breakdown_table(result.scenario))
    print_tables(*tables, output.assumptions_table(result.scenario.assumptions))


presets_app = typer.Typer(cls=TyperGroup, rich_markup_mode=None, no_args_is_help=False)
app.add_typer(presets_app, name="presets")


@presets_app.callback(invoke_without_command=True)
def presets_list(ctx: typer.Context, presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
    """List the model, hardware, cluster and scaling-law presets.

    Example: llamacalc presets show h100-sxm
    """
    if ctx.invoked_subcommand is not None:
        return
    from llamacalc import output

    catalog = catalog_from(presets)
    if as_json:
        print_json(output.presets_document(catalog))
    else:
        print_tables(output.presets_table(catalog))


@presets_app.command("show")
def presets_show(
    name: Annotated[str, typer.Argument(help="Preset name, e.g. llama-3.1-405b or h100-sxm.")],
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one preset with every figure's source.

    Example: llamacalc presets show llama-3.1-405b
    """
    from llamacalc import output

    catalog = catalog_from(presets)
    entry = catalog.find(name)
    kind_builders = {"models": catalog.model, "hardware": catalog.hardware, "clusters": catalog.cluster}
    if entry.kind in kind_builders:
        kind_builders[entry.kind](entry.name)  # validate every figure, not only the structure
    if as_json:
        print_json(output.entry_document(entry))
    else:
        print_tables(output.entry_table(entry))
