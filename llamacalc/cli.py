"""The command line: parse options, call the core, render. The only module that imports typer.

Exit codes are `errors.ExitCode`: 0 ok, 1 a budget check or batch line failed, 2 bad input,
3 internal error. Machine output goes to stdout through `json`; messages go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click import exceptions as _click_errors  # typer >= 0.26 vendors click
from typer.core import TyperGroup

from llamacalc import __version__
from llamacalc.errors import ExitCode, LlamacalcError

if TYPE_CHECKING:
    from llamacalc.catalog import Catalog

PROG = "llamacalc"


def _fail(message: str, code: ExitCode) -> NoReturn:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.exit(code)


class _Group(TyperGroup):
    """Runs the app, mapping every failure to one stderr line and an `ExitCode`."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        kwargs.setdefault("prog_name", PROG)
        try:
            code = super().main(*args, **kwargs)
        except LlamacalcError as error:
            _fail(str(error), ExitCode.BAD_INPUT)
        except _click_errors.NoArgsIsHelpError as error:  # a bare `llamacalc` asks for help
            sys.stdout.write(error.format_message() + "\n")
            code = ExitCode.OK
        except _click_errors.UsageError as error:
            hint = f"; see '{error.ctx.command_path} --help'" if error.ctx else ""
            _fail(error.format_message().rstrip(".") + hint, ExitCode.BAD_INPUT)
        except _click_errors.ClickException as error:
            _fail(error.format_message(), ExitCode.BAD_INPUT)
        except typer.Abort:
            _fail("aborted", ExitCode.BAD_INPUT)
        except Exception:
            if os.environ.get("LLAMACALC_DEBUG"):
                traceback.print_exc()
            _fail(
                "internal error — this is a bug; please report it with the command line "
                "(set LLAMACALC_DEBUG=1 for a traceback)",
                ExitCode.INTERNAL,
            )
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`| head -1`): not an error. Silence the final flush too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(ExitCode.OK) from None


app = typer.Typer(
    cls=_Group,
    name=PROG,
    help="Training-compute calculator: FLOPs, GPUs, days, GPU-hours, cost, energy and CO2 of LLM runs.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Training-compute calculator for large language models.

    Exit codes: 0 ok, 1 a budget check or batch line failed, 2 bad input, 3 internal error.
    """


def _opt(help: str, *names: str) -> Any:
    return typer.Option(*names, help=help, show_default=False)


# The `train` inputs, shared by every command that plans a run (names match scenario.REQUEST_KEYS).
ModelArg = Annotated[str | None, typer.Argument(help="Model preset, e.g. llama-3.1-405b.", show_default=False)]
ParamsOpt = Annotated[str | None, _opt("Total parameters, e.g. 405B.")]
ActiveOpt = Annotated[str | None, _opt("Active parameters per token (MoE), e.g. 17B.")]
TokensOpt = Annotated[str | None, _opt("Training tokens, e.g. 15.6T.")]
GpuOpt = Annotated[str | None, _opt("Accelerator preset [default: the model's, else h100-sxm].")]
GpusOpt = Annotated[str | None, _opt("GPU count, e.g. 16384 or 16K: gives the days.")]
DaysOpt = Annotated[str | None, _opt("Wall-clock target, e.g. 54 or '3 weeks': gives the GPUs.")]
ClusterOpt = Annotated[str | None, _opt("Cluster preset: sets GPU type and count.")]
MfuOpt = Annotated[str | None, _opt("Model FLOPs utilisation, e.g. 0.4 or 40% [default: 0.40 bf16, 0.197 fp8].")]
PrecisionOpt = Annotated[str | None, _opt("bf16 or fp8: the dense peak MFU refers to [default: bf16].")]
PriceOpt = Annotated[str | None, _opt("Price per GPU-hour, e.g. '2.5 USD/h' [default: the GPU preset's].")]
PowerOpt = Annotated[str | None, _opt("Power per GPU, e.g. 700W [default: the GPU's TDP].")]
PueOpt = Annotated[str | None, _opt("Data-centre PUE, >= 1 [default: 1.09].")]
CarbonOpt = Annotated[str | None, _opt("Grid carbon intensity, e.g. '0.38 kg/kWh' [default: 0.367].")]
PresetsOpt = Annotated[
    list[Path] | None,
    _opt("Extra directory of *.toml presets (repeatable; also $LLAMACALC_PRESETS, a path list).", "--presets"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def catalog_from(dirs: Sequence[Path] | None) -> Catalog:
    """The shipped presets, then $LLAMACALC_PRESETS, then --presets: later ones override."""
    from llamacalc.catalog import load_catalog, shipped_presets_dir

    env = [Path(p) for p in os.environ.get("LLAMACALC_PRESETS", "").split(os.pathsep) if p]
    return load_catalog([shipped_presets_dir(), *env, *(dirs or ())])


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, allow_nan=False) + "\n")


def print_tables(*tables: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    with console.capture() as captured:  # write ourselves: rich exits 1 on a closed pipe
        for table in tables:
            console.print(table)
    sys.stdout.write(captured.get())


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
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute, time, GPU-hours, cost, energy and CO2 to train a model.

    Example: llamacalc train llama-3.1-405b --gpus 16384 --mfu 0.4
    """
    from llamacalc import output
    from llamacalc.scenario import resolve
    from llamacalc.scenario import train as run

    request = {
        "model": model, "params": params, "active_params": active_params, "tokens": tokens,
        "gpu": gpu, "gpus": gpus, "days": days, "cluster": cluster, "mfu": mfu,
        "precision": precision, "price": price, "power": power, "pue": pue, "carbon": carbon,
    }  # fmt: skip
    catalog = catalog_from(presets)
    result = run(catalog, resolve(catalog, request))
    if as_json:
        print_json(output.train_document(result))
    else:
        print_tables(output.train_table(result), output.assumptions_table(result.scenario.assumptions))


LawOpt = Annotated[str, _opt("Scaling law preset, or 'all' for every law side by side.")]


def _warn(messages: Sequence[str]) -> None:
    for message in messages:
        sys.stderr.write(f"{PROG}: warning: {message}\n")


@app.command()
def optimal(
    compute: Annotated[str | None, _opt("Budget as compute, e.g. 3.8e25FLOP.")] = None,
    days: Annotated[str | None, _opt("Budget as wall-clock on --gpus/--cluster, e.g. 54.")] = None,
    budget: Annotated[str | None, _opt("Budget as money, e.g. '50 MUSD' (at --price).")] = None,
    params: Annotated[str | None, _opt("With --loss: fixed parameter count to over-train, e.g. 8B.")] = None,
    loss: Annotated[str | None, _opt("With --params: target loss (nats/token), e.g. 2.0.")] = None,
    law: LawOpt = "epoch",
    gpu: GpuOpt = None,
    gpus: GpusOpt = None,
    cluster: ClusterOpt = None,
    mfu: MfuOpt = None,
    precision: PrecisionOpt = None,
    price: PriceOpt = None,
    power: PowerOpt = None,
    pue: PueOpt = None,
    carbon: CarbonOpt = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The compute-optimal model for a budget, or the tokens to over-train a fixed size to a loss.

    Example: llamacalc optimal --gpus 16384 --days 54 --gpu h100-sxm --mfu 0.4 --law all
    """
    from llamacalc import output, plan
    from llamacalc.units import parse_count

    catalog = catalog_from(presets)
    if params is not None or loss is not None:
        if params is None or loss is None or compute or days or budget:
            raise LlamacalcError("--params and --loss go together, without a budget (over-training mode)")
        found = plan.overtraining(catalog, law, _count("--params", params, parse_count), _float("--loss", loss))
        if as_json:
            print_json(output.overtraining_document(found))
        else:
            print_tables(output.overtraining_table(found))
        return
    run = {"gpu": gpu, "gpus": gpus, "cluster": cluster, "mfu": mfu, "precision": precision,
           "price": price, "power": power, "pue": pue, "carbon": carbon}  # fmt: skip
    result = plan.optimal_plan(catalog, law, run, compute=compute, days=days, money=budget)
    _warn([w for o in result.optima for w in o.split.warnings])
    if as_json:
        print_json(output.optimal_document(result))
    else:
        print_tables(output.optimal_table(result), output.assumptions_table(result.assumptions))


@app.command("loss")
def loss_command(
    model: ModelArg = None,
    params: ParamsOpt = None,
    tokens: TokensOpt = None,
    law: LawOpt = "epoch",
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Predicted loss of N parameters on D tokens, beside the compute-optimal split of the same compute.

    Example: llamacalc loss llama-3.1-405b --law all
    """
    from llamacalc import output, plan
    from llamacalc.units import parse_count

    catalog = catalog_from(presets)
    found = catalog.model(model) if model else None
    n = _count("--params", params, parse_count) if params else found and (found.active_params or found.params)
    d = _count("--tokens", tokens, parse_count) if tokens else found and found.tokens
    if not n or not d:
        raise LlamacalcError("loss needs parameters and tokens: a MODEL preset with both, or --params and --tokens")
    if found and found.is_moe and not params:
        _warn([f"{found.name} is a mixture of experts; the laws were fitted on dense models, using active parameters"])
    reports = plan.loss_reports(catalog, law, n, d)
    if as_json:
        print_json(output.loss_document(model, reports))
    else:
        print_tables(output.loss_table(found.title if found else "Custom model", reports))


def _count(option: str, value: str, parse: Any) -> float:
    try:
        return float(parse(value))
    except LlamacalcError as error:
        raise LlamacalcError(f"{option}: {error}") from None


def _float(option: str, value: str) -> float:
    import math

    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise LlamacalcError(f"{option}: expected a positive number, e.g. 2.0, got '{value}'")
    return number


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


def main() -> None:
    """Console-script entry point."""
    app()
