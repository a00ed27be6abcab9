"""`backtest`, `memory` and `layout`: how far to trust the estimates, whether a run fits, how to split it."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from llamacalc.cli.catalogs import catalog_from
from llamacalc.cli.group import commands, warn
from llamacalc.cli.options import (
    ClusterOpt,
    ConfigOpt,
    GpuOpt,
    JsonOpt,
    ModelArg,
    ParamsOpt,
    PrecisionOpt,
    PresetsOpt,
    SeqLenOpt,
    opt,
)
from llamacalc.cli.writing import emit, output_format, writes_data, writes_output
from llamacalc.errors import InputError


@commands.command()
@writes_output
def backtest(
    presets: PresetsOpt = None,
    steps: Annotated[
        bool, typer.Option("--steps", help="The step model against published step times, each source also held out.")
    ] = False,
    serving: Annotated[
        bool, typer.Option("--serving", help="The serving model against published serving runs (as serve --backtest).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every published run: the efficiency model's estimate against it, in and out of sample.

    Example: llamacalc backtest --steps
    """
    from llamacalc.estimates.backtest import backtest as run_backtest
    from llamacalc.estimates.serve import backtest_serving
    from llamacalc.estimates.steps import backtest_steps

    if steps and serving:
        raise InputError("--steps and --serving: one backtest at a time")
    catalog = catalog_from(presets)
    try:
        found = (
            backtest_steps(catalog, held_out=True) if steps
            else backtest_serving(catalog) if serving
            else run_backtest(catalog)
        )  # fmt: skip
    except ValueError as error:
        raise InputError(f"backtest: {error}") from None
    emit(found, as_json)


@commands.command()
@writes_output
def layout(
    model: ModelArg = None,
    config: ConfigOpt = None,
    params: Annotated[
        str | None, opt("Total parameters, e.g. 30B: a Llama-shaped decoder of that size (an assumption).")
    ] = None,
    gpu: GpuOpt = None,
    gpus: Annotated[
        str | None, opt("GPU count, e.g. 16384 [default: the degrees' product, else the cluster's].")
    ] = None,
    cluster: ClusterOpt = None,
    global_batch: Annotated[str | None, opt("Sequences per step ('2048') or tokens ('16M tokens').")] = None,
    seq_len: SeqLenOpt = None,
    precision: PrecisionOpt = None,
    tp: Annotated[str | None, opt("Tensor-parallel degree [default: searched].")] = None,
    pp: Annotated[str | None, opt("Pipeline-parallel degree [default: searched].")] = None,
    dp: Annotated[str | None, opt("Data-parallel degree [default: searched].")] = None,
    cp: Annotated[str | None, opt("Context-parallel degree [default: searched].")] = None,
    ep: Annotated[str | None, opt("Expert-parallel degree (MoE) [default: searched].")] = None,
    vp: Annotated[str | None, opt("Virtual pipeline stages per GPU (interleaved 1F1B) [default: searched].")] = None,
    micro_batch: Annotated[str | None, opt("Sequences per micro-batch [default: searched].")] = None,
    zero: Annotated[str | None, opt("ZeRO stage 0-3 over the DP ranks, 3 = FSDP [default: searched].")] = None,
    recompute: Annotated[
        str | None, opt("Activation recomputation: none, selective or full [default: searched].")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="How many layouts to show, best first.", min=1, max=100)] = 5,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How to split a training run over its GPUs: the fastest layouts that fit, their step and MFU.

    Example: llamacalc layout llama-3.1-405b --gpus 16384 --global-batch 2048 --tp 8 --pp 16
    """
    from llamacalc.estimates.layout import estimate_layout
    from llamacalc.resolve import Resolver
    from llamacalc.setups import layout_setup

    catalog = catalog_from(presets)
    if config is not None:
        from llamacalc.hf_config import with_config

        catalog, model = with_config(catalog, config, model, "1T")
    request = {
        "model": model, "params": params, "gpu": gpu, "gpus": gpus, "cluster": cluster, "global_batch": global_batch,
        "seq_len": seq_len, "precision": precision, "tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vp": vp,
        "micro_batch": micro_batch, "zero": zero, "recompute": recompute,
    }  # fmt: skip
    emit(estimate_layout(catalog, layout_setup(Resolver(catalog), request), keep=top), as_json)


@commands.command()
@writes_output
def memory(
    model: ModelArg = None,
    params: ParamsOpt = None,
    gpu: GpuOpt = None,
    tp: Annotated[str | None, opt("Tensor-parallel degree [default: 1].")] = None,
    pp: Annotated[str | None, opt("Pipeline-parallel degree [default: 1].")] = None,
    ep: Annotated[str | None, opt("Expert-parallel degree (MoE) [default: 1].")] = None,
    dp: Annotated[str | None, opt("Data-parallel degree, over which ZeRO shards [default: 1].")] = None,
    cp: Annotated[str | None, opt("Context-parallel degree: splits each sequence [default: 1].")] = None,
    vp: Annotated[str | None, opt("Virtual pipeline stages per GPU (interleaved 1F1B) [default: 1].")] = None,
    zero: Annotated[
        str | None,
        opt("ZeRO stage 0-3: shard optimizer / +gradients / +weights [default: the lowest of 1-3 that fits]."),
    ] = None,
    micro_batch: Annotated[str | None, opt("Sequences per micro-batch [default: 1].")] = None,
    global_batch: Annotated[
        str | None,
        opt("Sequences ('2048') or tokens ('16M tokens') a step: fewer micro-batches hold fewer in flight."),
    ] = None,
    seq_len: SeqLenOpt = None,
    recompute: Annotated[
        str | None,
        opt(
            "none, selective (drops the attention matrices: with fused attention, the default, none keeps none "
            "either) or full (keeps only each layer's input) [default: selective]."
        ),
    ] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Training memory per GPU (16 B/param of state, activations, ZeRO-3 buffers) and the fewest GPUs that fit.

    Example: llamacalc memory llama-3.1-405b --gpu h100-sxm --tp 8 --pp 16 --dp 128
    """
    from llamacalc.estimates.memory import estimate_memory
    from llamacalc.resolve import Resolver
    from llamacalc.setups import memory_setup

    request = {
        "params": params, "gpu": gpu, "tp": tp, "pp": pp, "ep": ep, "dp": dp, "zero": zero, "micro_batch": micro_batch,
        "seq_len": seq_len, "recompute": recompute, "cp": cp, "vp": vp, "global_batch": global_batch,
    }  # fmt: skip
    found = estimate_memory(memory_setup(Resolver(catalog_from(presets)), model, request))
    if output_format(as_json) == "table":  # a document carries its notes; a pipe wants no warnings
        if not found.has_activations:
            warn(["activations need the model's architecture (layers, d_model, ...): states only"])
        warn(found.notes)
    emit(found, as_json)


@commands.command()
@writes_data
def calibrate(
    runs: Annotated[
        list[Path] | None,
        opt("A folder or file of your own [runs.*] presets, fitted with the published.", "--runs"),
    ] = None,
    presets: PresetsOpt = None,
    steps: Annotated[
        bool, typer.Option("--steps", help="Refit the step model to the published step times (and yours) instead.")
    ] = False,
) -> None:
    """Refit the efficiency model on the published runs (and yours); print it as a preset file.

    Example: llamacalc calibrate --runs our-runs/ -o ~/presets/efficiency.toml
    """
    from llamacalc.estimates.calibration import fitted, published
    from llamacalc.output import documents

    catalog = catalog_from([*(presets or ()), *(runs or ())])
    kind = "steps" if steps else "runs"
    for path in runs or ():  # a file of no runs would refit on the published alone, as if it counted
        if not any(path == e.path or path in e.path.parents for e in catalog.entries[kind].values()):
            raise InputError(
                f"--runs: '{path}' holds no [{kind}.*] presets; calibrate{' --steps' if steps else ''} fits those"
            )
    if steps:
        from llamacalc.estimates import steps as step_fit

        try:
            model = step_fit.fit(catalog, step_fit.measured(catalog), catalog.step_model())
            sys.stdout.write(documents.step_model_toml(step_fit.backtest_steps(catalog, model, held_out=True)))
        except ValueError as error:
            raise InputError(f"calibrate: {error}") from None
        return
    try:
        fit = fitted(published(catalog), catalog.efficiency())
    except ValueError as error:
        raise InputError(f"calibrate: {error}") from None
    sys.stdout.write(documents.efficiency_toml(fit))
