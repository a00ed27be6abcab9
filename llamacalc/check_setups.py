"""Check setups: what `check` is asked, read once: the limits, the confidence, and plan files of runs.

A plan file (TOML) names several runs, each with `train` inputs and `max_*` limits; `[defaults]`
holds inputs and limits every run shares:

    [defaults]
    max_cost = "100 MUSD"
    confidence = 0.9
    [runs.flagship]
    model = "llama-3.1-405b"
    gpus = 16384
    max_days = 90

Each limit's text is read here into a canonical float, each confidence into a probability; a run's
`train` inputs stay as given, for resolve.py to read as `train` does. The estimate
(estimates/checks.py) takes what this returns and never reads text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.errors import InputError, UnitError, did_you_mean, named, prefixed
from llamacalc.files import parse_toml
from llamacalc.inputs import INPUTS

MAX_PLAN_BYTES = 1_000_000  # a plan file: thousands of runs fit; a runaway file does not
MAX_PLAN_RUNS = 10_000


@dataclass(frozen=True)
class Limit:
    """A limit input: how to parse its maximum, and which budget figure it bounds."""

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

# Confidences a check reads: the ranges come from a few dozen published runs, so their tails beyond
# P1 and P99 are not known (and P1e-318 is a typo, not a plan).
CONFIDENCES = (0.01, 0.99)


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


def parse_limits(raw: Mapping[str, Any]) -> dict[str, float]:
    """The given limits as canonical floats, keyed like LIMITS; errors name the input."""
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


@dataclass(frozen=True)
class PlannedRun:
    """One run to check: its `train` inputs as given, its limits read, and the confidence they hold at."""

    name: str | None  # a plan's run name; None for the run of a command line
    request: Mapping[str, Any]
    maxima: Mapping[str, float]  # canonical units, keyed like LIMITS
    confidence: float


@dataclass(frozen=True)
class CheckSetup:
    """A check's question: each run with the limits it must keep."""

    runs: tuple[PlannedRun, ...]


def check_setup(
    request: Mapping[str, Any],
    limits: Mapping[str, Any],
    confidence: Any = 0.5,
    plan: tuple[Callable[[], str], str] | None = None,
) -> CheckSetup:
    """The `check` request read: one run (`request`) against `limits` (max_cost, ... as given), or
    every run of a plan, each against its own limits; the plan given as its reader (of its TOML text)
    and where it comes from, read once the inputs are known to agree."""
    with prefixed(named("confidence")):
        given = parse_confidence(confidence)
    if plan is None:
        if not limits:
            raise InputError("no limits: give at least one of " + ", ".join(limit.option for limit in LIMITS.values()))
        return CheckSetup((PlannedRun(None, request, parse_limits(limits), given),))
    read, where = plan
    if request or limits:
        raise InputError(
            f"{named('plan')} holds the runs' inputs and limits; "
            f"give it alone (with {named('presets')}, {named('json')})"
        )
    with prefixed(named("plan")):
        text = read()
    runs = read_plan(text, where, given)
    if not any(run.maxima for run in runs):
        raise InputError(
            f"{named('plan')}: '{where}' sets no limits; add max_cost, max_days, ... to [defaults] or to a run"
        )
    return CheckSetup(tuple(runs))


def read_plan(text: str, where: str, confidence: float = 0.5) -> list[PlannedRun]:
    """The runs of a plan file's text, at `confidence` where the file sets none; `where` names the
    file in errors."""
    data = parse_toml(text, where, "a plan")
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
            at = parse_confidence(merged["confidence"]) if "confidence" in merged else confidence
        planned.append(PlannedRun(name, request, maxima, at))
    return planned


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a table")
    return value
