"""Default MFU: flat, or size-dependent where the published runs show it.

The Llama 3/3.1 model cards' GPU-hours [S1, S2] imply BF16 MFU (6·N·D over GPU-hours × 989.4 TFLOP/s
dense peak) of 14-16% for 8B, 25-28% for 70B and 35% for 405B on the same H100 fleet: small models
keep the GPUs far less busy. On A100 the Llama 2 runs sit near 40% at every size [S5], so the fit
applies to H100 only; elsewhere the flat 40% (Llama 3 paper Table 4, 38-43%) stays the default.
`llamacalc backtest` shows both, with leave-one-out errors for the fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# MFU = SLOPE · log10(N_active) + INTERCEPT: least squares over the five dense Llama 3/3.1 H100 runs
# (log10 N, implied MFU): (9.905, .1561), (9.905, .1390), (10.849, .2786), (10.849, .2547),
# (11.608, .3458). tests/test_efficiency.py refits it from the shipped presets.
SLOPE = 0.11837
INTERCEPT = -1.02266
FIT_GPUS = ("h100-sxm",)
FIT_PARAMS = (8.03e9, 405.85e9)  # the fitted sizes; outside them the edge value is used, not extrapolated
SOURCE = (
    "assumption: size-dependent BF16 MFU on H100, 0.118·log10(N) − 1.023 for N in 8B-406B, fitted to the "
    "Llama 3/3.1 model cards' GPU-hours [S1, S2] (see `llamacalc backtest`)"
)


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of MFU against log10(N) over (N, MFU) points."""
    xs = [math.log10(n) for n, _ in points]
    ys = [mfu for _, mfu in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return slope, mean_y - slope * mean_x


def size_mfu(active_params: float, slope: float = SLOPE, intercept: float = INTERCEPT) -> float:
    """The fitted MFU for a model of N active parameters, clamped to the fitted size range."""
    low, high = FIT_PARAMS
    return slope * math.log10(min(max(active_params, low), high)) + intercept


def applies(gpu: str, precision: str) -> bool:
    """Whether the size fit is the default for this GPU and precision (its evidence: BF16 on H100)."""
    return gpu in FIT_GPUS and precision == "bf16"
