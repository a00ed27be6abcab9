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
    opt,
    print_json,
    print_tables,
    warn,
    writes_output,
)
from llamacalc.errors import InputError, prefixed


@commands.command()
@writes_output
def backtest(presets: PresetsOpt = None, as_json: JsonOpt = False) -> None:
    """Every published run: the efficiency model's estimate against it, in and out of sample.

    Example: llamacalc backtest
    """
    from llamacalc.estimates.backtest import backtest as run_backtest
    from llamacalc.output import documents, tables

    try:
        found = run_backtest(catalog_from(presets))
    except ValueError as error:
        raise InputError(f"backtest: {error}") from None
    if as_json:
        print_json(documents.backtest_document(found))
    else:
        print_tables(tables.backtest_table(found))


def _degree(option: str, value: str | None, default: int, what: str = "a parallel degree") -> int:
    from llamacalc.units import parse_count

    if value is None:
        return default
    with prefixed(option):
        number = parse_count(value, what)
    if number != int(number):
        raise InputError(f"{option}: expected a whole number, got '{value}'")
    return int(number)


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
    from llamacalc.memory import ZERO_STAGES, Layout, fewest_gpus, memory_per_gpu, min_data_parallel
    from llamacalc.output import documents, tables
    from llamacalc.units import parse_count

    catalog = catalog_from(presets)
    found = catalog.model(model) if model else None
    n = parse_count(params, "a parameter count") if params else found and found.params
    if not n:
        raise InputError("memory needs a MODEL preset with params, or --params")
    if zero is not None and zero.strip() not in {str(stage) for stage in ZERO_STAGES}:
        raise InputError(f"--zero: expected a ZeRO stage 0-3, got '{zero}'")
    stage = 1 if zero is None else int(zero)
    mode = recompute or "selective"
    if mode not in ("none", "selective", "full"):
        raise InputError(f"--recompute: expected none, selective or full, got '{recompute}'")
    layout = Layout(
        tp=_degree("--tp", tp, 1), pp=_degree("--pp", pp, 1), ep=_degree("--ep", ep, 1), dp=_degree("--dp", dp, 1),
        zero=stage, micro_batch=_degree("--micro-batch", micro_batch, 1), recompute=mode,
    )  # fmt: skip
    arch = found.arch if found and not params else None
    seq = _degree("--seq-len", seq_len, 0, "a sequence length") if seq_len else (arch.seq_len if arch else None)
    hardware = catalog.hardware(
        gpu or (found.reported.gpu if found and found.reported and found.reported.gpu else "h100-sxm")
    )
    if hardware.memory is None:
        raise InputError(f"--gpu: {hardware.name} has no memory figure")
    if arch is not None and seq is None:
        raise InputError("memory: the preset gives no training sequence length; pass --seq-len")
    used = memory_per_gpu(n, arch, seq, layout)
    min_dp = min_data_parallel(n, arch, seq, layout, hardware.memory)
    fewest = fewest_gpus(n, arch, seq, hardware.memory, layout.micro_batch)
    name = found.name if found else None
    doc = documents.memory_document(name, layout, used, hardware.memory, hardware.name, min_dp, fewest)
    if as_json:
        print_json(doc)
    else:
        if arch is None:
            warn(["activations need the model's architecture (layers, d_model, ...): states only"])
        print_tables(tables.memory_table(doc))


@commands.command()
@writes_output
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
        fit = fitted(published(catalog))
    except ValueError as error:
        raise InputError(f"calibrate: {error}") from None
    sys.stdout.write(documents.efficiency_toml(fit))
