"""`llamacalc optimal` and `llamacalc loss`: compute-optimal planning with scaling laws."""

import dataclasses
from typing import Annotated, Any

import typer

from llamacalc.cli.catalogs import catalog_from
from llamacalc.cli.group import commands, warn
from llamacalc.cli.options import (
    BriefOpt,
    GpuOpt,
    JsonOpt,
    ModelArg,
    ParamsOpt,
    PlotOpt,
    PresetsOpt,
    ServingPrecisionOpt,
    SourcesOpt,
    TokensOpt,
    choices,
    opt,
    presets_named,
    run_inputs,
)
from llamacalc.cli.writing import emit, save, writes_output
from llamacalc.errors import LlamacalcError
from llamacalc.inputs import HARDWARE_KEYS

LawOpt = Annotated[
    str, opt("Scaling law preset, or 'all' for every law side by side.", complete=presets_named("laws", "all"))
]


@commands.command()
@writes_output
@run_inputs(*(key for key in HARDWARE_KEYS if key != "days"))
def optimal(
    request: dict[str, Any],
    compute: Annotated[str | None, opt("Budget as compute, e.g. 3.8e25FLOP.")] = None,
    days: Annotated[str | None, opt("Budget as wall-clock on --gpus/--cluster, e.g. 54.")] = None,
    budget: Annotated[str | None, opt("Budget as money, e.g. '50 MUSD' (at --price).")] = None,
    params: Annotated[str | None, opt("With --loss: fixed parameter count to over-train, e.g. 8B.")] = None,
    loss: Annotated[
        str | None, opt("Target loss (nats/token), e.g. 2.0: with --params, or with --inference-tokens.")
    ] = None,
    inference_tokens: Annotated[
        str | None, opt("With --loss: tokens the model will serve over its life, e.g. 2T (Sardana et al. 2024).")
    ] = None,
    serve_gpu: Annotated[
        str | None,
        opt(
            "With --inference-tokens: minimise cost, serving on this GPU (training on --gpu at --mfu, --price).",
            complete=presets_named("hardware"),
        ),
    ] = None,  # fmt: skip
    serve_precision: ServingPrecisionOpt = None,
    serve_price: Annotated[str | None, opt("Serving price per GPU-hour [default: the serving GPU's].")] = None,
    prefill_mfu: Annotated[
        str | None, opt("Serving MFU on input tokens [default: the serving model's, as `serve` finds it].")
    ] = None,
    decode_mfu: Annotated[
        str | None, opt("Serving MFU on output tokens [default: the serving model's; with --prefill-mfu, 0.01].")
    ] = None,
    output_share: Annotated[str | None, opt("Share of served tokens that are output [default: 215/285].")] = None,
    law: LawOpt = "epoch",
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
    plot: PlotOpt = None,
    sources: SourcesOpt = False,
    brief: BriefOpt = False,
) -> None:
    """The compute-optimal model for a budget, or the tokens to over-train a fixed size to a loss.

    Example: llamacalc optimal --gpus 16384 --days 54 --gpu h100-sxm --mfu 0.4 --law all
    """
    from llamacalc.estimates import plan
    from llamacalc.plan_setups import PLAN_INPUTS, optimal_setup
    from llamacalc.resolve import Resolver

    if plot is not None and (inference_tokens is not None or loss is not None):
        raise LlamacalcError("--plot draws a budget's law frontier: give --compute, --days or --budget")
    options = locals()
    planned = {key: options[key] for key in PLAN_INPUTS if key != "law"}
    resolver = Resolver(catalog_from(presets))
    result = plan.optimal_for(resolver, optimal_setup(resolver, {**request, **planned, "law": law}))
    if isinstance(result, plan.OptimalPlan):
        warn([w for o in result.optima for w in o.split.warnings])
        if plot is not None:
            save(result, "chart", plot, "--plot")
        result = dataclasses.replace(result, sources=sources)
    emit(result, as_json, brief=brief)


@commands.command("loss")
@writes_output
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
    from llamacalc.estimates import plan
    from llamacalc.plan_setups import loss_setup

    catalog = catalog_from(presets)
    found = plan.loss_for(catalog, loss_setup(catalog, model, params, tokens, law))
    warn(found.warnings)
    emit(found, as_json)


@commands.command()
@writes_output
def serve(
    model: ModelArg = None,
    gpu: GpuOpt = None,
    precision: Annotated[
        str | None,
        opt(
            "Weights served in bf16, fp8, int8 or fp4 (Blackwell) [default: bf16].",
            complete=choices("bf16", "fp8", "int8", "fp4"),
        ),
    ] = None,  # fmt: skip
    kv_cache: Annotated[
        str | None,
        opt(
            "KV cache elements: bf16, fp8 or int8 [default: fp8 beside fp8/fp4 weights].",
            complete=choices("bf16", "fp8", "int8"),
        ),
    ] = None,  # fmt: skip
    tp: Annotated[str | None, opt("GPUs per replica (tensor parallel) [default: the fewest that fit].")] = None,
    ep: Annotated[str | None, opt("Of those, GPUs the experts are split over (MoE) [default: 1].")] = None,
    batch: Annotated[
        str | None, opt("Requests in flight (continuous batching), or 'max': the most the KV cache holds.")
    ] = None,
    max_tpot: Annotated[str | None, opt("Highest load whose time per output token meets this, e.g. 20ms.")] = None,
    max_ttft: Annotated[str | None, opt("Highest load whose time to first token meets this, e.g. 2s.")] = None,
    input_tokens: Annotated[str | None, opt("Input (prompt) tokens per request [default: 1000].")] = None,
    output_tokens: Annotated[str | None, opt("Output tokens per request [default: 1000].")] = None,
    tokens_per_day: Annotated[str | None, opt("Output tokens to serve per day: gives the GPUs, e.g. 10B.")] = None,
    price: Annotated[str | None, opt("Price per GPU-hour [default: the GPU preset's].")] = None,
    backtest: Annotated[
        bool, typer.Option("--backtest", help="The serving model against every published serving run instead.")
    ] = False,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Serving under load: TTFT, TPOT, tokens/s per user and per GPU, $/M tokens, GPUs for a demand.

    Example: llamacalc serve llama-3.1-70b --gpu h100-sxm --precision fp8 --tp 4 --max-tpot 20ms
    """
    from llamacalc.estimates.serve import backtest_serving, estimate_serve
    from llamacalc.resolve import Resolver
    from llamacalc.setups import serve_setup

    catalog = catalog_from(presets)
    if backtest:
        emit(backtest_serving(catalog), as_json)
        return
    if model is None:
        raise LlamacalcError("serve needs a MODEL preset with an architecture, e.g. llama-3.1-70b")
    options = {"gpu": gpu, "precision": precision, "kv_cache": kv_cache, "tp": tp, "ep": ep, "batch": batch,
               "max_tpot": max_tpot, "max_ttft": max_ttft, "input_tokens": input_tokens,
               "output_tokens": output_tokens, "tokens_per_day": tokens_per_day, "price": price}  # fmt: skip
    resolver = Resolver(catalog)
    emit(estimate_serve(catalog, serve_setup(resolver, model, options)), as_json)


@commands.command()
@writes_output
def fleet(
    cluster: Annotated[
        str, typer.Argument(help="Cluster preset, e.g. meta-350k.", autocompletion=presets_named("clusters"))
    ],
    capex: Annotated[
        str | None,
        opt("Capital spent on it, spread over its GPUs and life, e.g. '39.23e9 USD' [default: the preset's]."),
    ] = None,
    life: Annotated[str | None, opt("Straight-line life, e.g. '5.5 years' [default: Epoch's rate].")] = None,
    pue: Annotated[str | None, opt("Data-centre PUE [default: 1.09].")] = None,
    presets: PresetsOpt = None,
    sources: SourcesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """A cluster as owned capacity: $/GPU-hour, power, GPU-hours a year, and each model's share of them.

    Example: llamacalc fleet meta-350k --capex '$40B'
    """
    from llamacalc.estimates.fleet import fleet as fleet_view
    from llamacalc.resolve import Resolver
    from llamacalc.setups import fleet_setup

    resolver = Resolver(catalog_from(presets))
    found = fleet_view(resolver, fleet_setup(resolver, cluster, {"capex": capex, "life": life, "pue": pue}))
    emit(dataclasses.replace(found, sources=sources), as_json)
