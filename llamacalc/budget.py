"""Budget: training compute → GPU time → wall-clock days or GPU count → cost, energy, CO2.

C, R = training FLOPs, achieved FLOP/s per GPU (= dense peak × MFU; MFU as defined in PaLM,
arXiv:2204.02311 §4.1). The leaf formulas are plain arithmetic, so they run on floats in canonical
units (FLOP, s, USD, W, J, kg) in the hot path and, duck-typed, on pint Quantities in the tests,
which proves their dimensions.
"""

from __future__ import annotations

import math
from typing import NamedTuple


def gpu_time(flops: float, peak: float, mfu: float) -> float:
    """GPU-seconds to execute C FLOPs at MFU × peak per GPU: C / (peak · MFU)."""
    return flops / (peak * mfu)


def compute_in(gpu_seconds: float, peak: float, mfu: float) -> float:
    """FLOPs that GPU time delivers at MFU × peak: the inverse of gpu_time."""
    return gpu_seconds * peak * mfu


def wall_time(gpu_seconds: float, gpus: float) -> float:
    """Wall-clock seconds when the GPU time is spread over `gpus` GPUs (perfect scaling)."""
    return gpu_seconds / gpus


def gpus_needed(gpu_seconds: float, seconds: float) -> float:
    """GPUs (fractional) to fit the GPU time into a wall-clock duration."""
    return gpu_seconds / seconds


def whole_gpus(gpu_seconds: float, seconds: float) -> int:
    """The fewest whole GPUs that fit the GPU time into a wall-clock duration."""
    return max(1, math.ceil(gpus_needed(gpu_seconds, seconds) - 1e-9))


def cost(gpu_seconds: float, price: float) -> float:
    """Money for the GPU time at a price per GPU-second."""
    return gpu_seconds * price


def energy(gpu_seconds: float, power: float, pue: float) -> float:
    """Facility energy: GPU time × power per GPU × PUE (GPU power only; hosts and network excluded)."""
    return gpu_seconds * power * pue


def emissions(energy_used: float, carbon: float) -> float:
    """Location-based CO2: energy × grid carbon intensity (Patterson et al., arXiv:2204.05149)."""
    return energy_used * carbon


def implied_mfu(flops: float, gpu_seconds: float, peak: float) -> float:
    """The MFU at which C FLOPs take exactly this GPU time: C / (GPU time · peak)."""
    return flops / (gpu_seconds * peak)


class Budget(NamedTuple):
    """A training run's budget in canonical units: FLOP, GPUs, s, GPU·s, USD, J, kg."""

    flops: float
    gpus: int
    seconds: float
    gpu_seconds: float
    cost: float | None
    energy: float | None
    co2: float | None


def budget(
    flops: float,
    peak: float,
    mfu: float,
    *,
    gpus: int | None = None,
    seconds: float | None = None,
    price: float | None = None,
    power: float | None = None,
    pue: float = 1.0,
    carbon: float | None = None,
) -> Budget:
    """The budget for C FLOPs on `gpus` GPUs, or on the fewest whole GPUs that finish in `seconds`."""
    used = gpu_time(flops, peak, mfu)
    if gpus is None:
        if seconds is None:
            raise ValueError("budget() needs gpus or seconds")
        gpus = whole_gpus(used, seconds)
    joules = energy(used, power, pue) if power is not None else None
    return Budget(
        flops=flops,
        gpus=gpus,
        seconds=wall_time(used, gpus),
        gpu_seconds=used,
        cost=cost(used, price) if price is not None else None,
        energy=joules,
        co2=emissions(joules, carbon) if joules is not None and carbon is not None else None,
    )
