"""The `memory` estimate: training memory per GPU under a layout, and the fewest GPUs that hold it.

Inputs arrive as text (the command line's); the formulas are in llamacalc/footprint.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named, prefixed
from llamacalc.footprint import (
    ALLOWANCE_SOURCE,
    RECOMPUTE_MODES,
    ZERO_STAGES,
    Layout,
    Memory,
    allowance,
    fewest_gpus,
    memory_per_gpu,
    min_data_parallel,
    usable,
)
from llamacalc.inputs import DEFAULTS
from llamacalc.resolve import ASSUMED_SEQ_LEN
from llamacalc.specs import Architecture
from llamacalc.units import parse_count, parse_whole

MAX_PARAMS = 1e15  # a thousand times the largest model trained; past it the byte counts lose meaning
MAX_MICRO_BATCH = 1_000_000  # sequences: far past any that fits a GPU


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes per GPU under `layout`, the GPU's memory, and the fewest GPUs that hold the run."""

    SCHEMA = "memory"  # its document's JSON Schema (llamacalc schema memory)

    model: str | None  # the preset's name
    gpu: str
    layout: Layout
    used: Memory
    gpu_memory: float  # bytes
    min_dp: int | None  # the least data parallelism that fits at this TP, PP and ZeRO stage
    fewest: tuple[int, Layout] | None  # the fewest GPUs at all, and their layout
    has_activations: bool  # counted from an architecture; states only without one
    seq_len: int | None = None  # tokens a sequence: the activations' length (None: states only)
    notes: tuple[str, ...] = ()  # what was assumed, for the reader
    allowance_source: str = ALLOWANCE_SOURCE

    @property
    def allowance(self) -> float:
        """Bytes kept outside the model's tensors (memory.ALLOWANCE_SOURCE)."""
        return allowance(self.gpu_memory)

    @property
    def fits(self) -> bool:
        return self.used.total <= usable(self.gpu_memory)

    @property
    def min_gpus(self) -> int | None:
        return None if self.min_dp is None else self.min_dp * self.layout.tp * self.layout.pp * self.layout.cp


def _degree(option: str, value: str | None, default: int, what: str = "a parallel degree") -> int:
    if value is None:
        return default
    with prefixed(option):
        return parse_whole(value, what)


def estimate_memory(
    catalog: Catalog,
    model: str | None = None,
    params: str | None = None,
    gpu: str | None = None,
    *,
    tp: str | None = None,
    pp: str | None = None,
    ep: str | None = None,
    dp: str | None = None,
    zero: str | None = None,
    micro_batch: str | None = None,
    seq_len: str | None = None,
    recompute: str | None = None,
    cp: str | None = None,
    vp: str | None = None,
    global_batch: str | None = None,
) -> MemoryEstimate:
    """Memory per GPU of a preset (or `params` alone: states only) on a GPU: the given one, else the
    one the model was reported on, else the default."""
    found = catalog.model(model) if model else None
    with prefixed(named("params")):
        n = parse_count(params, "a parameter count") if params else found and found.params
    if not n:
        raise InputError(f"memory needs a MODEL preset with params, or {named('params')}")
    if n > MAX_PARAMS:
        raise InputError(f"{named('params')}: at most {MAX_PARAMS:.0e} parameters, got {n:.3g}")
    if zero is not None and zero.strip() not in {str(stage) for stage in ZERO_STAGES}:
        raise InputError(f"{named('zero')}: expected a ZeRO stage 0-3, got '{zero}'")
    mode = recompute or "selective"
    if mode not in RECOMPUTE_MODES:
        raise InputError(f"{named('recompute')}: expected {', '.join(RECOMPUTE_MODES)}, got '{recompute}'")
    layout = Layout(
        tp=_degree(named("tp"), tp, 1), pp=_degree(named("pp"), pp, 1), ep=_degree(named("ep"), ep, 1),
        dp=_degree(named("dp"), dp, 1), cp=_degree(named("cp"), cp, 1), vp=_degree(named("vp"), vp, 1),
        zero=1 if zero is None else int(zero), micro_batch=_degree(named("micro_batch"), micro_batch, 1),
        recompute=mode,
    )  # fmt: skip
    if arch_of := (found.arch if found and not params else None):
        from llamacalc.estimates.layout import check_degrees

        given = {"tp": layout.tp, "pp": layout.pp, "ep": layout.ep, "cp": layout.cp, "vp": layout.vp}
        check_degrees(arch_of, None, {key: value for key, value in given.items() if value > 1} | {"pp": layout.pp})
    if layout.micro_batch > MAX_MICRO_BATCH:
        raise InputError(f"{named('micro_batch')}: at most {MAX_MICRO_BATCH:,} sequences, got {layout.micro_batch:,}")
    arch = found.arch if found and not params else None
    seq, notes = _sequence_length(seq_len, arch)
    reported = found.reported.gpu if found and found.reported else None
    hardware = catalog.hardware(gpu or reported or str(DEFAULTS["gpu"].value))
    if hardware.memory is None:
        raise InputError(f"{named('gpu')}: {hardware.name} has no memory figure")
    micro = None  # micro-batches a step: they bound what 1F1B holds in flight
    if global_batch is not None:
        from llamacalc.estimates.layout import global_batch as sequences

        batch, _ = sequences(global_batch, seq or 1)
        micro = max(1, batch // (layout.dp * layout.micro_batch))
    if zero is None:  # the lowest stage that fits, as a planner would pick it; ZeRO-1 if none does
        for stage in (1, 2, 3):
            if memory_per_gpu(n, arch, seq, layout._replace(zero=stage), micro).total <= usable(hardware.memory):
                layout = layout._replace(zero=stage)
                break
    return MemoryEstimate(
        found.name if found else None,
        hardware.name,
        layout,
        memory_per_gpu(n, arch, seq, layout, micro),
        hardware.memory,
        min_data_parallel(n, arch, seq, layout, hardware.memory),
        fewest_gpus(n, arch, seq, hardware.memory, layout.micro_batch),
        arch is not None,
        seq,
        notes,
    )


def _sequence_length(text: str | None, arch: Architecture | None) -> tuple[int | None, tuple[str, ...]]:
    """The sequence length the activations are counted at: the one given, else the preset's, else
    the assumption the derived GPU count makes too (resolve.ASSUMED_SEQ_LEN), said in a note."""
    if text:
        return _degree(named("seq_len"), text, 0, "a sequence length"), ()
    if arch is None:
        return None, ()
    if arch.seq_len:
        return arch.seq_len, ()
    return ASSUMED_SEQ_LEN, (
        f"activations at sequences of {ASSUMED_SEQ_LEN:,} tokens, assumed (Llama 3's 8K pre-training "
        "[S7 §3.4.1]): the preset gives no training sequence length; give one to replace it",
    )
