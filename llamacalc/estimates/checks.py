"""Budget checks: limits on a run's cost, time, GPUs, GPU-hours, energy, CO2 and FLOPs.

The runs and their limits come read (check_setups.py, which also reads plan files). A limit is
checked at a confidence: at 0.5 (the default) against the estimate, the P50; at 0.9 against the
figure's P90 — "fail if there is more than a 10% chance of overrunning". Figures spread as the
utilisation does, log-normally, so any confidence is read off the P10-P90 range.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from llamacalc.check_setups import LIMITS, CheckSetup, Limit
from llamacalc.efficiency import Z90
from llamacalc.errors import InputError, named, prefixed
from llamacalc.estimates.train import Range, TrainResult, estimate
from llamacalc.resolve import Resolver


def value_at(limit: Limit, result: TrainResult, confidence: float = 0.5) -> float | None:
    """The run's figure that `limit` bounds, at `confidence`: the chance it comes out at or below this value."""
    holder = result.budget if hasattr(result.budget, limit.attribute) else result  # facility power: the run's
    value: float | None = getattr(holder, limit.attribute)
    band = result.ranges.get(limit.attribute)
    if value is None or band is None or confidence == 0.5:
        return value
    return quantile(band, confidence)


def quantile(band: Range, confidence: float) -> float:
    """The log-normal quantile through P10, P50 and P90 (the band may be skewed; each side its own σ)."""
    z = statistics.NormalDist().inv_cdf(confidence)
    edge = band.p90 if z > 0 else band.p10
    if band.p50 <= 0 or edge <= 0:
        return band.p50
    return band.p50 * (edge / band.p50) ** (abs(z) / Z90)


@dataclass(frozen=True)
class Check:
    """One limit against one run's value, both in the limit's display unit."""

    limit: Limit
    maximum: float
    value: float  # at `confidence`
    confidence: float
    estimate: float  # the P50

    @property
    def passed(self) -> bool:
        return self.value <= self.maximum

    @property
    def ratio(self) -> float:
        """The value as a multiple of the limit."""
        return self.value / self.maximum

    @property
    def margin(self) -> float:
        """Headroom as a fraction of the limit: 0.25 is 25% under it, negative is over."""
        return 1 - self.value / self.maximum if self.maximum else -math.inf


def evaluate(result: TrainResult, maxima: Mapping[str, float], confidence: float = 0.5) -> list[Check]:
    """Every limit checked against the run at `confidence`; a limit on a value that cannot be known is an error."""
    checks = []
    for key, maximum in maxima.items():
        limit = LIMITS[key]
        value, estimate = value_at(limit, result, confidence), value_at(limit, result)
        if value is None or estimate is None:
            hardware = result.resolved.hardware.name
            given = result.resolved.assumptions.get("power")
            if given is not None and given.origin == "user" and not given.value:  # blame what the user typed
                raise InputError(
                    f"{named('power')}: a power of 0 leaves nothing for {limit.option} to check; give it above 0"
                )
            if key == "max_power":
                raise InputError(
                    f"{limit.option}: {hardware}'s preset has no server_power ratio or TDP to draw power from"
                )
            missing, option_ = ("price", named("price")) if key == "max_cost" else ("power", named("power"))
            unknown = f"the run's {limit.label} is unknown for {hardware}"
            raise InputError(f"{limit.option}: {unknown} (no default {missing}); pass {option_}")
        scale = limit.scale
        checks.append(Check(limit, maximum / scale, value / scale, confidence, estimate / scale))
    return checks


class CheckedRun(NamedTuple):
    name: str | None  # a plan's run name; None for a run from the command line
    result: TrainResult
    checks: Sequence[Check]


@dataclass(frozen=True)
class CheckReport:
    """`check`: every run with its limits checked; passed when every limit of every run holds."""

    SCHEMA = "check"  # its document's JSON Schema (llamacalc schema check)

    runs: tuple[CheckedRun, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for run in self.runs for c in run.checks)


def check_for(resolver: Resolver, setup: CheckSetup) -> CheckReport:
    """What `check` answers: each run estimated as `train` does, against its own limits."""
    checked = []
    for run in setup.runs:
        with prefixed(f"run {run.name}") if run.name else contextlib.nullcontext():
            result = estimate(resolver, run.request)
            checked.append(CheckedRun(run.name, result, evaluate(result, run.maxima, run.confidence)))
    return CheckReport(tuple(checked))
