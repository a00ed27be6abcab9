"""Budget checks: limits on a run's cost, time, GPUs, GPU-hours, energy, CO2 and FLOPs, and plan files.

A plan file (TOML) names several runs, each with `train` inputs and `max_*` limits; `[defaults]`
holds inputs and limits every run shares:

    [defaults]
    max_cost = "100 MUSD"
    confidence = 0.9
    [runs.flagship]
    model = "llama-3.1-405b"
    gpus = 16384
    max_days = 90

A limit is checked at a confidence: at 0.5 (the default) against the estimate, the P50; at 0.9
against the figure's P90 — "fail if there is more than a 10% chance of overrunning". Figures spread
as the utilisation does, log-normally, so any confidence is read off the P10-P90 range.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from llamacalc import units
from llamacalc.efficiency import Z90
from llamacalc.errors import InputError, UnitError, did_you_mean, named, prefixed
from llamacalc.estimates.train import Range, TrainResult, estimate
from llamacalc.inputs import INPUTS
from llamacalc.resolve import Resolver

MAX_PLAN_BYTES = 1_000_000  # a plan file: thousands of runs fit; a runaway file does not
MAX_PLAN_RUNS = 10_000


@dataclass(frozen=True)
class Limit:
    """A limit option: how to parse its maximum, and which budget figure it bounds."""

    key: str
    label: str
    figure: str  # its display unit and scale: units.DISPLAY[figure]
    attribute: str  # the Budget field it bounds, in canonical units
    parse: Callable[[Any], float]  # text -> canonical float

    @property
    def option(self) -> str:
        return named(self.key)

    @property
    def unit(self) -> str:
        """The unit of `maximum` and `value` in JSON and tables."""
        return units.DISPLAY[self.figure][0]

    @property
    def scale(self) -> float:
        return units.DISPLAY[self.figure][1]

    def value_of(self, result: TrainResult, confidence: float = 0.5) -> float | None:
        """The run's figure at `confidence`: the chance it comes out at or below this value."""
        holder = result.budget if hasattr(result.budget, self.attribute) else result  # facility power: the run's
        value: float | None = getattr(holder, self.attribute)
        band = result.ranges.get(self.attribute)
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


def parse_confidence(value: Any) -> float:
    """0.9 -> 0.9: the chance a figure must have of staying under its limit; 0.5 checks the estimate."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    low, high = CONFIDENCES
    if isinstance(value, bool) or not low <= number <= high:
        raise InputError(f"expected a probability from {low:g} to {high:g}, e.g. 0.9, got '{value}'")
    return number


# Confidences a check reads: the ranges come from a few dozen published runs, so their tails beyond
# P1 and P99 are not known (and P1e-318 is a typo, not a plan).
CONFIDENCES = (0.01, 0.99)


def _quantity(kind: units.Kind) -> Callable[[Any], float]:
    return lambda text: units.parse_quantity(text, kind)


def _gpu_hours(text: Any) -> float:
    """'3M' (a count of GPU-hours) or '3M GPU-hours', in GPU-seconds."""
    try:
        return units.parse_count(text, "GPU-hours") * units.HOUR
    except UnitError:
        return units.parse_quantity(text, units.GPU_TIME)


LIMITS: Mapping[str, Limit] = {
    limit.key: limit
    for limit in (
        Limit("max_cost", "cost", "cost", "cost", _quantity(units.MONEY)),
        Limit("max_days", "wall-clock", "days", "seconds", _quantity(units.DURATION)),
        Limit("max_gpus", "GPUs", "gpus", "gpus", lambda t: units.parse_count(t, "a GPU count")),
        Limit("max_gpu_hours", "GPU-hours", "gpu_hours", "gpu_seconds", _gpu_hours),
        Limit("max_energy", "energy", "energy", "energy", _quantity(units.ENERGY)),
        Limit("max_co2", "CO2", "co2", "co2", _quantity(units.MASS)),
        Limit("max_flops", "compute", "flops", "flops", _quantity(units.COMPUTE)),
        Limit("max_power", "facility power", "facility_power", "facility_watts", _quantity(units.FACILITY_POWER)),
    )
}


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


def parse_limits(raw: Mapping[str, Any]) -> dict[str, float]:
    """The given limits as canonical floats, keyed like LIMITS; errors name the option."""
    maxima = {}
    for key, text in raw.items():
        if text is None:
            continue
        limit = LIMITS[key]
        with prefixed(limit.option):
            maxima[key] = limit.parse(text)
        if not maxima[key] > 0:
            raise InputError(f"{limit.option}: expected a limit above zero, got '{text}'")
    return maxima


def evaluate(result: TrainResult, maxima: Mapping[str, float], confidence: float = 0.5) -> list[Check]:
    """Every limit checked against the run at `confidence`; a limit on a value that cannot be known is an error."""
    checks = []
    for key, maximum in maxima.items():
        limit = LIMITS[key]
        value, estimate = limit.value_of(result, confidence), limit.value_of(result)
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


@dataclass(frozen=True)
class PlannedRun:
    name: str
    request: Mapping[str, Any]
    maxima: Mapping[str, float]
    confidence: float | None  # None: the command line's


def read_plan(text: str, where: str) -> list[PlannedRun]:
    """The runs of a plan file's text; `where` names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{where}: not valid TOML: {error}") from None
    except RecursionError:
        raise InputError(f"{where}: not a plan llamacalc reads: arrays or tables nested too deeply") from None
    for key in data:
        if key not in ("defaults", "runs"):
            what = f"table [{key}]" if isinstance(data[key], dict) else f"top-level key '{key}'"
            raise InputError(
                f"{where}: unknown {what}{did_you_mean(key, ['defaults', 'runs'])}; "
                "expected [defaults] and [runs.NAME] tables, inputs, limits and confidence inside them"
            )
    defaults = _table(data.get("defaults", {}), f"{where}: [defaults]")
    runs = _table(data.get("runs", {}), f"{where}: [runs]")
    if not runs:
        raise InputError(f"{where}: no runs; add at least one [runs.NAME] table")
    if len(runs) > MAX_PLAN_RUNS:
        raise InputError(f"{where}: {len(runs):,} runs; a plan holds at most {MAX_PLAN_RUNS:,}")
    planned = []
    for name, fields in runs.items():
        merged = {**defaults, **_table(fields, f"{where}: runs.{name}")}
        for key in merged:
            if key not in INPUTS and key not in LIMITS and key != "confidence":
                known = [*INPUTS, *LIMITS, "confidence"]
                raise InputError(f"{where}: runs.{name}.{key}: unknown field{did_you_mean(key, known)}")
        for key, value in merged.items():  # text or a number, whichever convention reads it, a float's size
            option = named(key)
            if isinstance(value, list | dict) or not isinstance(value, str | int | float):
                shown = "an array" if isinstance(value, list) else f"a {type(value).__name__}"
                shown = "a table" if isinstance(value, dict) else shown
                raise InputError(f"{where}: runs.{name}: {option}: expected text or a number, got {shown}")
            if isinstance(value, int) and abs(value) > units.MAX_FLOAT_INT:
                raise InputError(f"{where}: runs.{name}: {option}: a number of {len(str(value))} digits (too large)")
        request = {key: value for key, value in merged.items() if key in INPUTS}
        with prefixed(f"{where}: runs.{name}"):
            maxima = parse_limits({key: value for key, value in merged.items() if key in LIMITS})
        with prefixed(f"{where}: runs.{name}.confidence"):
            confidence = parse_confidence(merged["confidence"]) if "confidence" in merged else None
        planned.append(PlannedRun(name, request, maxima, confidence))
    return planned


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a table")
    return value


def check_for(
    resolver: Resolver,
    request: Mapping[str, Any],
    limits: Mapping[str, Any],
    confidence: Any = 0.5,
    plan: tuple[Callable[[], str], str] | None = None,
) -> CheckReport:
    """What `check` answers: one run (`request`) against `limits` (max_cost, ... as given), or every
    run of a plan, each against its own limits; the plan given as its reader (of its TOML text) and
    where it comes from, read once the inputs are known to agree."""
    with prefixed(named("confidence")):
        given = parse_confidence(confidence)
    if plan is not None:
        read, where = plan
        if request or limits:
            raise InputError(
                f"{named('plan')} holds the runs' inputs and limits; "
                f"give it alone (with {named('presets')}, {named('json')})"
            )
        with prefixed(named("plan")):
            text = read()
        runs: list[tuple[str | None, Mapping[str, Any], Mapping[str, float], float]] = [
            (run.name, run.request, run.maxima, given if run.confidence is None else run.confidence)
            for run in read_plan(text, where)
        ]
        if not any(maxima for _, _, maxima, _ in runs):
            raise InputError(
                f"{named('plan')}: '{where}' sets no limits; add max_cost, max_days, ... to [defaults] or to a run"
            )
    else:
        if not limits:
            raise InputError("no limits: give at least one of " + ", ".join(limit.option for limit in LIMITS.values()))
        runs = [(None, request, parse_limits(limits), given)]
    checked = []
    for name, run_request, maxima, at in runs:
        with prefixed(f"run {name}") if name else contextlib.nullcontext():
            result = estimate(resolver, run_request)
            checked.append(CheckedRun(name, result, evaluate(result, maxima, at)))
    return CheckReport(tuple(checked))
