"""`backtest --steps` and `calibrate --steps`: the step model against published training steps.

Each measured step (presets/steps/) is predicted from its model, GPUs and layout; degrees the source
does not publish are searched and the fastest taken, since the run that was measured fitted. The fit
is least squares on ln(predicted / measured tokens/s per GPU) over the step model's four fitted
constants, by coordinate descent; leaving each source's rows out in turn, refitting and predicting
them gives the out-of-sample errors the step-model preset reports.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llamacalc.catalog import Catalog
from llamacalc.layouts import Problem, problem_for, search
from llamacalc.specs import MeasuredStep, StepModel
from llamacalc.step import Step

FITTED = ("sustained", "attention", "exposed_tp", "kernel_overhead")
BOUNDS = {
    "sustained": (0.3, 1.0),
    "attention": (0.1, 1.0),
    "exposed_tp": (0.0, 1.0),
    "kernel_overhead": (0.0, 3e-5),
}  # up to 30 µs: a launch and its tail
# Pairs of measured steps that differ in one thing, by what: the ratios a physical model must follow.
PAIRED = ("precision", "gpus", "recompute")


@dataclass(frozen=True)
class Predicted:
    """One measured step and the model's prediction of it."""

    measured: MeasuredStep
    step: Step
    out_of_sample: float | None = None  # tokens/s per GPU predicted with the step's own source left out

    @property
    def error(self) -> float:
        return self.step.tokens_per_s_per_gpu / self.measured.tokens_per_s_per_gpu - 1

    @property
    def held_out_error(self) -> float | None:
        return None if self.out_of_sample is None else self.out_of_sample / self.measured.tokens_per_s_per_gpu - 1


@dataclass(frozen=True)
class Pair:
    """Two measured steps of one model that differ in `what`: measured and predicted ratios."""

    first: str
    second: str
    what: str
    measured: float
    predicted: float

    @property
    def error(self) -> float:
        return self.predicted / self.measured - 1


@dataclass(frozen=True)
class StepBacktest:
    """Every measured step predicted, the paired ratios, and summary errors."""

    SCHEMA = "steps"  # its document's JSON Schema (llamacalc schema steps)

    model: StepModel
    rows: tuple[Predicted, ...]
    pairs: tuple[Pair, ...]

    def summary(self) -> dict[str, float]:
        errors = [abs(r.error) for r in self.rows]
        held = [abs(e) for r in self.rows if (e := r.held_out_error) is not None]
        out = {
            "steps": float(len(self.rows)),
            "median_abs_error": statistics.median(errors),
            "max_abs_error": max(errors),
            "within_25pct": sum(e <= 0.25 for e in errors) / len(errors),
            "max_pair_error": max((abs(p.error) for p in self.pairs), default=0.0),
        }
        if held:
            logs = [math.log1p(e) for r in self.rows if (e := r.held_out_error) is not None]
            out |= {
                "held_out_median_abs_error": statistics.median(held),
                "held_out_max_abs_error": max(held),
                "held_out_rms_log_error": math.sqrt(sum(x * x for x in logs) / len(logs)),
            }
        return out


def problem_of(catalog: Catalog, row: MeasuredStep, model: StepModel) -> Problem:
    cluster = catalog.cluster(row.cluster) if row.cluster else None
    precision = str(row.layout.get("precision", "bf16"))
    return problem_for(
        row.arch, row.seq_len, row.global_batch, row.gpus, catalog.hardware(row.gpu), cluster, model, precision
    )


def predict(catalog: Catalog, row: MeasuredStep, model: StepModel) -> Step:
    """The step of a measured run's layout; unpublished degrees searched, memory not imposed (it ran)."""
    fixed = {key: value for key, value in row.layout.items() if key != "precision"}
    found, _, _ = search(problem_of(catalog, row, model), fixed, keep=1, must_fit=False)
    if not found:
        raise ValueError(f"{row.name}: no layout of {row.gpus} GPUs matches the published degrees")
    return found[0].step


def measured(catalog: Catalog) -> list[MeasuredStep]:
    return [catalog.measured_step(name) for name in catalog.names("steps")]


def backtest_steps(catalog: Catalog, model: StepModel | None = None, held_out: bool = False) -> StepBacktest:
    """Predict every measured step; with `held_out`, each source's rows also from a fit without them."""
    model = model or catalog.step_model()
    rows = measured(catalog)
    steps = [predict(catalog, row, model) for row in rows]
    outside: dict[str, float] = {}
    if held_out:
        for group in sorted({row.group for row in rows}):
            kept = [row for row in rows if row.group != group]
            refit = fit(catalog, kept, model)
            for row in rows:
                if row.group == group:
                    outside[row.name] = predict(catalog, row, refit).tokens_per_s_per_gpu
    predicted = tuple(Predicted(row, step, outside.get(row.name)) for row, step in zip(rows, steps, strict=True))
    return StepBacktest(model, predicted, pairs(predicted))


def pairs(predicted: Sequence[Predicted]) -> tuple[Pair, ...]:
    """Steps of one architecture and sequence length that differ in exactly one of PAIRED."""
    found = []
    for i, a in enumerate(predicted):
        for b in predicted[i + 1 :]:
            if a.measured.arch != b.measured.arch or a.measured.seq_len != b.measured.seq_len:
                continue
            differ = [key for key in PAIRED if _feature(a, key) != _feature(b, key)]
            same_layout = _shape(a) == _shape(b) or differ == ["gpus"]
            if len(differ) == 1 and same_layout:
                found.append(Pair(
                    a.measured.name, b.measured.name, differ[0],
                    a.measured.tokens_per_s_per_gpu / b.measured.tokens_per_s_per_gpu,
                    a.step.tokens_per_s_per_gpu / b.step.tokens_per_s_per_gpu,
                ))  # fmt: skip
    return tuple(found)


def _feature(p: Predicted, key: str) -> object:
    return p.measured.gpus if key == "gpus" else p.measured.layout.get(key, "bf16" if key == "precision" else "none")


def _shape(p: Predicted) -> tuple[object, ...]:
    layout = p.measured.layout
    return tuple(layout.get(key) for key in ("tp", "pp", "cp", "vp")) + (p.measured.gpus,)


def loss(catalog: Catalog, rows: Sequence[MeasuredStep], model: StepModel) -> float:
    """Mean squared ln(predicted / measured) tokens/s per GPU. Tried and not kept: least absolute
    deviations (it lets one source's row drift past ±25% to fit the rest a little closer), and adding
    the paired ratios' errors (the pairs moved little, the held-out median doubled)."""
    total = 0.0
    for row in rows:
        ratio = predict(catalog, row, model).tokens_per_s_per_gpu / row.tokens_per_s_per_gpu
        total += math.log(ratio) ** 2
    return total / len(rows)


# Where every fit starts, so that a refit is reproducible whatever the preset holds: GEMMs at the
# measured fraction, attention at half the published best, TP exposed, 10 µs a kernel.
START: dict[str, Any] = {"sustained": 1.0, "attention": 0.5, "exposed_tp": 1.0, "kernel_overhead": 1e-5}


def fit(catalog: Catalog, rows: Sequence[MeasuredStep], model: StepModel, rounds: int = 6) -> StepModel:
    """The fitted constants that minimise `loss` on `rows` (the latencies kept from `model`): coordinate
    descent from START, halving each step."""
    start = model._replace(**START)
    best, best_loss = start, loss(catalog, rows, start)
    scale = {"sustained": 0.08, "attention": 0.1, "exposed_tp": 0.25, "kernel_overhead": 2e-5}
    for _ in range(rounds):
        for key in FITTED:
            for direction in (1, -1):
                while True:
                    low, high = BOUNDS[key]
                    value = min(high, max(low, getattr(best, key) + direction * scale[key]))
                    trial = best._replace(**{key: value})
                    trial_loss = loss(catalog, rows, trial)
                    if trial_loss >= best_loss - 1e-9:
                        break
                    best, best_loss = trial, trial_loss
        scale = {key: value / 2 for key, value in scale.items()}
    return best
