"""End-to-end utilisation: a log-linear model fitted to published runs, and its P10-P90 range.

Utilisation u = 6·N·D / (accelerator-seconds × dense BF16 peak): what a run achieved end to end,
downtime included. Across published runs it spreads ~0.1-0.45 (×/÷1.55 around its geometric mean);
part of that spread is explained by what a planner knows before training:

    ln u = c0 + c1 · (log10 min(N_active, cap) − 10) + c2 · log2(peak / 1 PFLOP/s) + c3 · [MoE]

small models keep accelerators less busy (up to a size where it stops mattering), faster chips are
harder to keep fed, and MoE routing costs utilisation on 6·N_active·D. The accelerator enters only
through its peak, never its name. Which terms and cap to use is chosen by leave-one-organisation-out
error (a new organisation's run is the case a user is in), and the remaining spread of those
out-of-sample errors, σ in ln u, gives the range: P10/P90 = P50 · exp(∓1.2816 σ).

Spreading one run over more GPUs costs utilisation (smaller batches per data-parallel group, more
communication and stragglers). The published runs, almost all below 8K GPUs, cannot separate that
from size, so it enters as a stated term instead of a fitted one: beyond `scaling_from` GPUs ln u
falls by the median slope per doubling among published strong-scaling measurements, and P10/P90
widen to the steepest and flattest of them. The fit sees each run's utilisation with that term
taken out, so the two never count the same loss twice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from llamacalc.specs import Efficiency, Scaling

Z90 = 1.2815515655446004  # the standard normal's 90th percentile: P10-P90 = ±Z90·σ
PEAK_UNIT = 1e15  # log2_peak is in doublings from 1 PFLOP/s
SIZE_CENTRE = 10.0  # log10_active is centred on 10B active parameters
FORMS: tuple[tuple[str, ...], ...] = (
    ("intercept",),
    ("intercept", "log10_active"),
    ("intercept", "log10_active", "log2_peak"),
    ("intercept", "log10_active", "log2_peak", "moe"),
)
CAPS: tuple[float | None, ...] = (None, 1e10, 2e10, 5e10)


@dataclass(frozen=True)
class Point:
    """One run as the fit sees it: what a planner knows, and the utilisation it reached."""

    name: str
    organisation: str
    active_params: float
    peak: float
    is_moe: bool
    utilisation: float
    weight: float
    gpus: float | None = None  # how many accelerators ran it, where published


@dataclass(frozen=True)
class Utilisation:
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


def log_utilisation(model: Efficiency, active_params: float, peak: float, is_moe: bool) -> float:
    x = features(active_params, peak, is_moe, model.size_cap)
    return sum(c * x[name] for name, c in model.coefficients.items())


def per_doubling(scaling: Sequence[Scaling]) -> tuple[float, float, float]:
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
    centre = log_utilisation(model, active_params, peak, is_moe) + median
    spread = Z90 * model.sigma
    below, above = math.hypot(spread, median - steep), math.hypot(spread, flat - median)
    p10, p50, p90 = (min(1.0, math.exp(centre + k)) for k in (-below, 0.0, above))
    outside = []
    low, high = model.bounds["active_params"]
    if not low <= active_params <= high:
        outside.append(f"{active_params / 1e9:,.3g}B active parameters (fitted {low / 1e9:,.3g}B-{high / 1e9:,.3g}B)")
    low, high = model.bounds["peak"]
    if not low * 0.999 <= peak <= high * 1.001:
        outside.append(f"a {peak / 1e12:,.0f} TFLOP/s peak (fitted {low / 1e12:,.0f}-{high / 1e12:,.0f})")
    measured = max((s.gpus[1] for s in model.scaling), default=math.inf)
    if gpus is not None and gpus > measured:
        outside.append(f"{gpus:,.0f} GPUs (utilisation's fall with scale measured to {measured:,.0f})")
    return Utilisation(p10, p50, p90, tuple(outside))


# --- fitting --------------------------------------------------------------------------------------


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting: a few unknowns, no numpy."""
    n = len(vector)
    a = [row[:] + [v] for row, v in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            raise ValueError("the runs do not determine this form (a feature never varies)")
        a[col], a[pivot] = a[pivot], a[col]
        for row in range(col + 1, n):
            factor = a[row][col] / a[col][col]
            for k in range(col, n + 1):
                a[row][k] -= factor * a[col][k]
    solution = [0.0] * n
    for row in reversed(range(n)):
        solution[row] = (a[row][n] - sum(a[row][k] * solution[k] for k in range(row + 1, n))) / a[row][row]
    return solution


def least_squares(points: Sequence[Point], form: Sequence[str], size_cap: float | None) -> dict[str, float]:
    """Weighted least squares of ln u on the form's features."""
    rows = [features(p.active_params, p.peak, p.is_moe, size_cap) for p in points]
    xtx = [[sum(p.weight * r[i] * r[j] for p, r in zip(points, rows, strict=True)) for j in form] for i in form]
    xty = [sum(p.weight * r[i] * math.log(p.utilisation) for p, r in zip(points, rows, strict=True)) for i in form]
    return dict(zip(form, _solve(xtx, xty), strict=True))


def _model(
    coefficients: Mapping[str, float], size_cap: float | None, sigma: float, points: Sequence[Point]
) -> Efficiency:
    sizes = [p.active_params for p in points]
    peaks = [p.peak for p in points]
    return Efficiency(
        name="default",
        coefficients=MappingProxyType(dict(coefficients)),
        size_cap=size_cap,
        sigma=sigma,
        bounds=MappingProxyType({"active_params": (min(sizes), max(sizes)), "peak": (min(peaks), max(peaks))}),
        statistics=MappingProxyType({}),
        source="",
    )


def held_out_errors(points: Sequence[Point], form: Sequence[str], size_cap: float | None) -> list[float]:
    """ln(reported u / predicted u) for each run, predicted by a fit without its organisation."""
    errors = []
    for organisation in sorted({p.organisation for p in points}):
        train = [p for p in points if p.organisation != organisation]
        fitted = least_squares(train, form, size_cap)
        model = _model(fitted, size_cap, 1.0, train)
        errors += [
            math.log(p.utilisation) - log_utilisation(model, p.active_params, p.peak, p.is_moe)
            for p in points
            if p.organisation == organisation
        ]
    return errors


@dataclass(frozen=True)
class Fit:
    """The chosen model and how it did out of sample, beside every form tried."""

    model: Efficiency
    form: tuple[str, ...]
    errors: Mapping[str, float]  # run name -> held-out ln error of the chosen form
    tried: Sequence[tuple[tuple[str, ...], float | None, float]]  # form, cap, held-out RMS


def calibrate(points: Sequence[Point], stated: Efficiency | None = None) -> Fit:
    """Fit every form and cap, keep the one with the least leave-one-organisation-out RMS error.

    The stated scaling term of `stated` (the model being refitted) is kept: each run's utilisation
    is first brought back to `scaling_from` GPUs by it, so the fit explains only what scale does not."""
    if len({p.organisation for p in points}) < 3:
        raise ValueError("calibration needs runs from at least three organisations")
    scaled = _keeping_scaling(_model({}, None, 1.0, points), stated)
    points = [dataclasses.replace(p, utilisation=p.utilisation / math.exp(at_scale(scaled, p.gpus)[1])) for p in points]
    tried = []
    for form in FORMS:
        for cap in CAPS if "log10_active" in form else (None,):
            try:
                errors = held_out_errors(points, form, cap)
            except ValueError:
                continue
            tried.append((form, cap, math.sqrt(sum(e * e for e in errors) / len(errors)), errors))
    form, cap, rms, errors = min(tried, key=lambda t: t[2])
    sigma = math.sqrt(sum(e * e for e in errors) / (len(errors) - 1))
    model = _model(least_squares(points, form, cap), cap, sigma, points)
    figures = {**summary(errors, sigma), "organisations": float(len({p.organisation for p in points}))}
    model = _keeping_scaling(dataclasses.replace(model, statistics=MappingProxyType(figures)), stated)
    by_organisation = sorted(points, key=lambda p: p.organisation)  # held_out_errors' order
    held = dict(zip([p.name for p in by_organisation], errors, strict=True))
    return Fit(model, form, held, [(f, c, r) for f, c, r, _ in tried])


def _keeping_scaling(model: Efficiency, stated: Efficiency | None) -> Efficiency:
    if stated is None:
        return model
    return dataclasses.replace(
        model, scaling=stated.scaling, scaling_from=stated.scaling_from, scaling_source=stated.scaling_source
    )


def summary(errors: Sequence[float], sigma: float) -> dict[str, float]:
    """Out-of-sample figures: share within ±30% of reported hours, P10-P90 coverage, band width."""
    within = sum(1 for e in errors if 0.7 <= math.exp(e) <= 1.3) / len(errors)
    covered = sum(1 for e in errors if abs(e) <= Z90 * sigma) / len(errors)
    return {
        "runs": float(len(errors)),
        "within_30_percent": within,
        "p10_p90_coverage": covered,
        "p90_over_p10": math.exp(2 * Z90 * sigma),
        "median_abs_error": sorted(abs(math.exp(e) - 1) for e in errors)[len(errors) // 2],
    }
