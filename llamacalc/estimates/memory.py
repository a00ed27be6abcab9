"""The `memory` estimate: training memory per GPU under a layout, and the fewest GPUs that hold it.

Inputs arrive read (setups.memory_setup); the formulas are in llamacalc/footprint.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from llamacalc.footprint import (
    ALLOWANCE_SOURCE,
    Layout,
    Memory,
    allowance,
    fewest_gpus,
    memory_per_gpu,
    min_data_parallel,
    usable,
)
from llamacalc.inputs import Assumption
from llamacalc.setups import MemorySetup


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
    assumptions: Mapping[str, Assumption] = dataclasses.field(default_factory=dict)  # each input's origin
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


def estimate_memory(setup: MemorySetup) -> MemoryEstimate:
    """Memory per GPU of a model (or a size alone: states only) under a layout on a GPU
    (setups.memory_setup); with no ZeRO stage given, the lowest that fits."""
    from llamacalc.estimates.layout import check_degrees

    n, arch, seq, layout, hardware = setup.params, setup.arch, setup.seq_len, setup.layout, setup.hardware
    assert hardware.memory is not None
    if arch is not None:
        given = {"tp": layout.tp, "pp": layout.pp, "ep": layout.ep, "cp": layout.cp, "vp": layout.vp}
        check_degrees(arch, None, {key: value for key, value in given.items() if value > 1} | {"pp": layout.pp})
    micro = None  # micro-batches a step: they bound what 1F1B holds in flight
    if setup.global_batch is not None:
        micro = max(1, setup.global_batch // (layout.dp * layout.micro_batch))
    if not setup.zero_given:  # the lowest stage that fits, as a planner would pick it; ZeRO-1 if none does
        for stage in (1, 2, 3):
            if memory_per_gpu(n, arch, seq, layout._replace(zero=stage), micro).total <= usable(hardware.memory):
                layout = layout._replace(zero=stage)
                break
    return MemoryEstimate(
        setup.model.name if setup.model else None,
        hardware.name,
        layout,
        memory_per_gpu(n, arch, seq, layout, micro),
        hardware.memory,
        min_data_parallel(n, arch, seq, layout, hardware.memory),
        fewest_gpus(n, arch, seq, hardware.memory, layout.micro_batch),
        arch is not None,
        seq,
        setup.notes,
        setup.assumptions,
    )
