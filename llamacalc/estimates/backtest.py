"""Backtest: the calculator's default estimate against every published run in the presets.

For each model preset with reported GPU-hours: the implied MFU; the GPU-hours estimated before
(a flat 40% MFU for every run) and after (today's default: the size fit on H100, efficiency.py);
the leave-one-out estimate for the runs the fit is made of (refitted without the run it predicts);
and CO2 at the reported GPU-hours against the reported CO2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llamacalc import efficiency
from llamacalc.budget import emissions, energy, gpu_time, implied_mfu
from llamacalc.catalog import Catalog
from llamacalc.flops import model_flops
from llamacalc.inputs import DEFAULTS
from llamacalc.specs import Model
from llamacalc.units import HOUR, KWH


@dataclass(frozen=True)
class Row:
    model: Model
    gpu: str
    reported_gpu_hours: float
    implied_mfu: float
    flat_gpu_hours: float
    default_mfu: float
    default_gpu_hours: float
    leave_one_out_gpu_hours: float | None  # only for the runs the fit is made of
    reported_co2_t: float | None
    co2_t_at_reported_gpu_hours: float | None


def fit_runs(catalog: Catalog) -> list[Model]:
    """The runs the size fit is made of: dense models on the fit's GPUs with reported GPU-hours."""
    return [m for m in _reported(catalog) if m.reported and m.reported.gpu in efficiency.FIT_GPUS and not m.is_moe]


def rows(catalog: Catalog) -> list[Row]:
    fitted_on = fit_runs(catalog)
    points = {m.name: (_active(m), _implied(catalog, m)) for m in fitted_on}
    found = []
    for model in _reported(catalog):
        reported = model.reported
        assert reported is not None and reported.gpu is not None and reported.gpu_hours is not None
        hardware = catalog.hardware(reported.gpu)
        flops, peak = model_flops(model), hardware.peak("bf16")

        def hours(mfu: float, flops: float = flops, peak: float = peak) -> float:
            return gpu_time(flops, peak, mfu) / HOUR

        flat = DEFAULTS["mfu.bf16"].value
        default = efficiency.size_mfu(_active(model)) if efficiency.applies(hardware.name, "bf16") else flat
        loo = None
        if model.name in points:
            others = [point for name, point in points.items() if name != model.name]
            loo = hours(efficiency.size_mfu(_active(model), *efficiency.fit(others)))
        co2 = None
        if hardware.power is not None:
            joules = energy(reported.gpu_hours * HOUR, hardware.power, DEFAULTS["pue"].value)
            co2 = emissions(joules, DEFAULTS["carbon"].value / KWH) / 1000
        found.append(
            Row(
                model,
                hardware.name,
                reported.gpu_hours,
                _implied(catalog, model),
                hours(flat),
                default,
                hours(default),
                loo,
                reported.co2_t,
                co2,
            )  # fmt: skip
        )
    return found


def mean_abs_error(pairs: Sequence[tuple[float | None, float]]) -> float | None:
    """Mean |estimate / reported − 1| over the pairs that have an estimate."""
    errors = [abs(estimate / reported - 1) for estimate, reported in pairs if estimate is not None]
    return sum(errors) / len(errors) if errors else None


def _reported(catalog: Catalog) -> list[Model]:
    models = (catalog.model(name) for name in catalog.names("models"))
    return [m for m in models if m.reported and m.reported.gpu_hours and m.reported.gpu]


def _active(model: Model) -> float:
    assert model.active_params is not None
    return model.active_params


def _implied(catalog: Catalog, model: Model) -> float:
    assert model.reported and model.reported.gpu and model.reported.gpu_hours
    peak = catalog.hardware(model.reported.gpu).peak("bf16")
    return implied_mfu(model_flops(model), model.reported.gpu_hours * HOUR, peak)
