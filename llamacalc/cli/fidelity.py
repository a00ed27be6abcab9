"""`llamacalc backtest` and `llamacalc memory`: how far to trust the estimates, and whether a run fits."""

import sys
from pathlib import Path
from typing import Annotated

from llamacalc.cli.app import (
    GpuOpt,
    JsonOpt,
    ModelArg,
    ParamsOpt,
    PresetsOpt,
    SeqLenOpt,
    catalog_from,
    commands,
    emit,
    opt,
    warn,
    writes_data,
    writes_output,
)
from llamacalc.errors import InputError


@commands.command()
@writes_output
def backtest(presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
    """Every published run: the efficiency model's estimate against it, in and out of sample.

    Example: llamacalc backtest
    """
    from llamacalc.estimates.backtest import backtest as run_backtest

    try:
        found = run_backtest(catalog_from(presets))
    except ValueError as error:
        raise InputError(f"backtest: {error}") from None
    emit(found, as_json)


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
    zero: Annotated[str | None, opt("ZeRO stage 0-3: shard optimizer / +gradients / +weights [default: 1].")] = None,
    micro_batch: Annotated[str | None, opt("Sequences per micro-batch [default: 1].")] = None,
    seq_len: SeqLenOpt = None,
    recompute: Annotated[
        str | None,
        opt("none (attention matrices kept), selective (FlashAttention-like: not kept) or full [default: selective]."),
    ] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Training memory per GPU (16 B/param of state, plus activations) and the fewest GPUs that fit.

    Example: llamacalc memory llama-3.1-405b --gpu h100-sxm --tp 8 --pp 16 --dp 128
    """
    from llamacalc.estimates.memory import estimate_memory

    found = estimate_memory(
        catalog_from(presets), model, params, gpu, tp=tp, pp=pp, ep=ep, dp=dp, zero=zero,
        micro_batch=micro_batch, seq_len=seq_len, recompute=recompute,
    )  # fmt: skip
    if not found.has_activations and not as_json:
        warn(["activations need the model's architecture (layers, d_model, ...): states only"])
    emit(found, as_json)


@commands.command()
@writes_data
def calibrate(
    runs: Annotated[
        list[Path] | None,
        opt("A folder or file of your own [runs.*] presets, fitted with the published.", "--runs"),
    ] = None,
    presets: PresetsOpt = None,
) -> None:
    """Refit the efficiency model on the published runs (and yours); print it as a preset file.

    Example: llamacalc calibrate --runs our-runs/ -o ~/presets/efficiency.toml
    """
    from llamacalc.estimates.calibration import fitted, published
    from llamacalc.output import documents

    catalog = catalog_from([*(presets or ()), *(runs or ())])
    try:
        fit = fitted(published(catalog), catalog.efficiency())
    except ValueError as error:
        raise InputError(f"calibrate: {error}") from None
    sys.stdout.write(documents.efficiency_toml(fit))
