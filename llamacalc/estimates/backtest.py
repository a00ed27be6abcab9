"""Backtest: the efficiency model against every published run, in sample and out of sample.

For each run with published accelerator-hours (the `runs` presets and the model presets with
reported GPU-hours): the utilisation it implies, the shipped model's P50 and the hours it gives
(in sample: the shipped model was fitted on these runs), and the error when the run's whole
organisation is left out of the fit, with whether the reported figure falls inside that
prediction's P10-P90 band. Runs the fit leaves out are shown with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llamacalc import efficiency, fit
from llamacalc.catalog import Catalog
from llamacalc.estimates.calibration import Published, fitted, published


@dataclass(frozen=True)
class Row:
    run: Published
    implied: float  # end-to-end utilisation the reported hours imply
    p50: float  # the shipped model's prediction
    error: float  # estimated / reported hours − 1, in sample
    held_out_error: float | None  # the same with the run's organisation left out of the fit
    inside: bool | None  # reported inside the held-out P10-P90 band


@dataclass(frozen=True)
class Backtest:
    """`backtest`: the efficiency model against every published run, each left out in turn."""

    SCHEMA = "backtest"  # its document's JSON Schema (llamacalc schema backtest)

    rows: Sequence[Row]
    model: efficiency.Efficiency  # the shipped (or user-calibrated) model
    summary: Mapping[str, float]  # out of sample: fit.summary, plus in-sample mean |error|


def backtest(catalog: Catalog) -> Backtest:
    runs = published(catalog)
    if not runs:
        raise ValueError("no run or model preset has published accelerator-hours")
    model = catalog.efficiency()
    held = fitted(runs, model).errors
    band = efficiency.Z90 * model.sigma
    rows = []
    for run in runs:
        p = run.point
        p50 = efficiency.predict(model, p.active_params, p.peak, p.is_moe, p.gpus).p50
        loo = held.get(p.name)
        rows.append(
            Row(
                run,
                p.utilisation,
                p50,
                p.utilisation / p50 - 1,
                None if loo is None else math.exp(loo) - 1,
                None if loo is None else abs(loo) <= band,
            )  # fmt: skip
        )
    used = [r for r in rows if not r.run.excluded]
    summary = {
        **fit.summary(list(held.values()), model.sigma),
        "in_sample_mean_abs_error": sum(abs(r.error) for r in used) / len(used),
    }
    return Backtest(rows, model, summary)
