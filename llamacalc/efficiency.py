"""End-to-end utilisation: a log-linear model fitted to published runs, and its P10-P90 range.

Utilisation u = 6·N·D / (accelerator-seconds × dense BF16 peak): what a run achieved end to end,
downtime included. Across published runs it spreads ~0.1-0.45 (×/÷1.55 around its geometric mean);
part of that spread is explained by what a planner knows before training:

    ln u = c0 + c1 · (log10 min(N_active, cap) − 10) + c2 · log2(peak / 1 PFLOP/s) + c3 · [MoE]

small models keep accelerators less busy (up to a size where it stops mattering), faster chips are
harder to keep fed, and MoE routing costs utilisation on 6·N_active·D. The accelerator enters only
through its peak, never its name. Which terms and cap to use is chosen by leave-one-organisation-out
error (a new organisation's run is the case a user is in), and the remaining spread of those
out-of-sample errors, σ in ln u, gives the range: P10/P90 = P50 · exp(∓1.2816 σ). The fit itself
is in fit.py: only `calibrate` and `backtest` need it.

Spreading one run over more GPUs costs utilisation (smaller batches per data-parallel group, more
communication and stragglers). The published runs, almost all below 8K GPUs, cannot separate that
from size, so it enters as a stated term instead of a fitted one: beyond `scaling_from` GPUs ln u
falls by the median slope per doubling among published strong-scaling measurements, and P10/P90
widen to the steepest and flattest of them. The fit sees each run's utilisation with that term
taken out, so the two never count the same loss twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from llamacalc.errors import PresetError
from llamacalc.specs import Efficiency, Scaling

Z90 = 1.2815515655446004  # the standard normal's 90th percentile: P10-P90 = ±Z90·σ
PEAK_UNIT = 1e15  # log2_peak is in doublings from 1 PFLOP/s
SIZE_CENTRE = 10.0  # log10_active is centred on 10B active parameters
FLOOR = 1e-6  # no run trains at a millionth of its peak: a prediction below it is an edited model's, refused


class Utilisation(NamedTuple):
    """Predicted end-to-end utilisation with its range, and what lies outside the fitted data."""

    p10: float
    p50: float
    p90: float
    extrapolation: tuple[str, ...]  # inputs beyond the fitted ranges, for people


def features(active_params: float, peak: float, is_moe: bool, size_cap: float | None) -> dict[str, float]:
    size = min(active_params, size_cap) if size_cap else active_params
    return {
        "intercept": 1.0,
        "log10_active": math.log10(size) - SIZE_CENTRE,
        "log2_peak": math.log2(peak / PEAK_UNIT),
        "moe": 1.0 if is_moe else 0.0,
    }


def log_utilisation(
    coefficients: Mapping[str, float], size_cap: float | None, active_params: float, peak: float, is_moe: bool
) -> float:
    """ln u = Σ coefficient · feature: a fitted model's, or a fit's in progress (fit.py)."""
    x = features(active_params, peak, is_moe, size_cap)
    return sum(c * x[name] for name, c in coefficients.items())


def per_doubling(scaling: tuple[Scaling, ...]) -> tuple[float, float, float]:
    """The steepest, median and flattest change of ln u per doubling of GPUs among measurements."""
    slopes = sorted(math.log(s.mfu[1] / s.mfu[0]) / math.log2(s.gpus[1] / s.gpus[0]) for s in scaling)
    middle = len(slopes) // 2  # the median (no `statistics`: 4 ms of imports on every run)
    median = slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2
    return slopes[0], median, slopes[-1]


def at_scale(model: Efficiency, gpus: float | None) -> tuple[float, float, float]:
    """The change of ln u on `gpus` GPUs (steepest, median, flattest): none up to `scaling_from`."""
    if not model.scaling or gpus is None or gpus <= model.scaling_from:
        return 0.0, 0.0, 0.0
    doublings = math.log2(gpus / model.scaling_from)
    steep, median, flat = per_doubling(model.scaling)
    return steep * doublings, median * doublings, flat * doublings


def predict(
    model: Efficiency, active_params: float, peak: float, is_moe: bool, gpus: float | None = None
) -> Utilisation:
    """P10/P50/P90 utilisation of a run on `gpus` GPUs (unknown: no loss at scale); P50 is capped at
    1 (the peak) and the band with it. The scaling slopes' spread widens the band in quadrature."""
    steep, median, flat = at_scale(model, gpus)
    centre = log_utilisation(model.coefficients, model.size_cap, active_params, peak, is_moe) + median
    spread = Z90 * model.sigma
    below, above = math.hypot(spread, median - steep), math.hypot(spread, flat - median)
    p10, p50, p90 = (math.exp(min(0.0, centre + k)) for k in (-below, 0.0, above))  # at most 1, never overflowing
    if not p10 >= FLOOR:
        where = model.entry.where() if model.entry else "the efficiency model"
        raise PresetError(f"{where}: predicts {p10:.3g} of the peak here (below {FLOOR:g}); check its coefficients")
    outside = []
    low, high = model.bounds["active_params"]
    if not low <= active_params <= high:
        outside.append(f"{_size(active_params)} active parameters (fitted {_size(low)}-{_size(high)})")
    low, high = model.bounds["peak"]
    if not low * 0.999 <= peak <= high * 1.001:
        outside.append(f"a {peak / 1e12:,.0f} TFLOP/s peak (fitted {low / 1e12:,.0f}-{high / 1e12:,.0f})")
    measured = max((s.gpus[1] for s in model.scaling), default=math.inf)
    if gpus is not None and gpus > measured:
        outside.append(f"{gpus:,.0f} GPUs (utilisation's fall with scale measured to {measured:,.0f})")
    elif gpus is not None and "gpus" in model.bounds and gpus < model.bounds["gpus"][0]:
        low, high = model.bounds["gpus"]
        outside.append(f"{gpus:,.0f} GPUs (the fitted runs used {low:,.0f}-{high:,.0f})")
    return Utilisation(p10, p50, p90, tuple(outside))


def _size(params: float) -> str:
    """0.135B, 406B, 2T: three figures, never an exponent."""
    return f"{params / 1e12:.3g}T" if params >= 999.5e9 else f"{params / 1e9:.3g}B"
