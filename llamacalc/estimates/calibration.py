"""Calibration: published runs → points for the efficiency model, and the model refitted on them.

The runs are the `runs` presets (published pre-training runs, plus a team's own) and every model
preset with reported GPU-hours (the Llama model cards). Which runs the fit uses, and with what
weight, follows from their recorded properties, never their names:
- steady-state hours are left out: computed from throughput, they omit downtime and restarts, so
  they overstate the end-to-end utilisation a planner budgets for;
- multimodal runs are left out: their tokens are not the text tokens 6·N·D counts;
- runs known only from secondary sources (transcriptions, summaries) count half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llamacalc import efficiency, fit, units
from llamacalc.budget import implied_mfu
from llamacalc.catalog import Catalog
from llamacalc.errors import PresetError
from llamacalc.flops import model_flops, training_flops


@dataclass(frozen=True)
class Published:
    """One published run, whether the fit uses it, and why not when it does not."""

    point: fit.Point
    title: str
    accelerator: str
    hours: float  # accelerator-hours reported
    flops: float
    excluded: str  # the reason it is left out of the fit, or ""
    source: str


SECONDARY_WEIGHT = 0.5


def published(catalog: Catalog) -> list[Published]:
    """Every run with published accelerator-hours, in preset order."""
    found = []
    for name in catalog.names("runs"):
        run = catalog.run(name)
        peak = catalog.hardware(run.accelerator).peak("bf16")
        flops = training_flops(run.active_params, run.tokens)
        excluded = (
            "steady-state hours (no downtime)" if run.hours_type == "steady-state"
            else "multimodal tokens" if run.architecture == "multimodal"
            else ""
        )  # fmt: skip
        weight = SECONDARY_WEIGHT if run.confidence == "secondary" else 1.0
        point = fit.Point(
            run.name, run.organisation, run.active_params, peak, run.is_moe,
            _utilisation(flops, run.hours, peak, run.entry.where("accelerator_hours")), weight, run.count,
        )  # fmt: skip
        found.append(
            Published(
                point, run.title, run.accelerator, run.hours, flops, excluded, run.entry.source_of("accelerator_hours")
            )
        )
    for name in catalog.names("models"):
        model = catalog.model(name)
        reported = model.reported
        if not (reported and reported.gpu and reported.gpu_hours and model.active_params):
            continue
        peak = catalog.hardware(reported.gpu).peak("bf16")
        flops = model_flops(model)
        point = fit.Point(
            model.name, str(model.entry.fields.get("organisation", model.name)),  # unknown: its own group
            model.active_params, peak, model.is_moe,
            _utilisation(flops, reported.gpu_hours, peak, model.entry.where("reported.gpu_hours")), 1.0, reported.gpus,
        )  # fmt: skip
        found.append(Published(point, model.title, reported.gpu, reported.gpu_hours, flops, "", reported.source))
    return found


def _utilisation(flops: float, hours: float, peak: float, where: str) -> float:
    """A run's utilisation, refused above 100% of the peak or below the millionth the efficiency model
    refuses to predict: hours far too few or too many for its 6·N·D (a typo in the parameters, tokens
    or hours) would otherwise pull the fit towards the impossible."""
    utilisation = implied_mfu(flops, hours * units.HOUR, peak)
    if not efficiency.FLOOR <= utilisation <= 1:
        bound = "at most 1" if utilisation > 1 else f"at least {efficiency.FLOOR:g}"
        raise PresetError(
            f"{where}: these hours would run 6·N·D at {utilisation:.3g}× the BF16 peak ({bound}): "
            "check the parameters, tokens and hours"
        )
    return utilisation


def fitted(runs: Sequence[Published], model: efficiency.Efficiency) -> fit.Fit:
    """The efficiency model refitted on the runs the fit uses, keeping `model`'s stated scaling term."""
    return fit.calibrate([r.point for r in runs if not r.excluded], model)
