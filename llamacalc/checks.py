"""Budget checks: limits on a run's cost, time, GPUs, GPU-hours, energy, CO2 and FLOPs, and plan files.

A plan file (TOML) names several runs, each with `train` inputs and `max_*` limits; `[defaults]`
holds inputs and limits every run shares:

    [defaults]
    max_cost = "100 MUSD"
    [runs.flagship]
    model = "llama-3.1-405b"
    gpus = 16384
    max_days = 90
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.errors import InputError, UnitError, did_you_mean, prefixed
from llamacalc.scenario import REQUEST_KEYS, TrainResult, option


@dataclass(frozen=True)
class Limit:
    """A limit option: how to parse its maximum, and which result value it bounds."""

    key: str
    label: str
    unit: str  # the unit of `maximum` and `value` in JSON and tables
    scale: float  # canonical units per display unit
    parse: Callable[[Any], float]  # text -> canonical float
    value_of: Callable[[TrainResult], float | None]

    @property
    def option(self) -> str:
        return option(self.key)


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
        Limit("max_cost", "cost", "USD", 1.0, _quantity(units.MONEY), lambda r: r.budget.cost),
        Limit("max_days", "wall-clock", "days", units.DAY, _quantity(units.DURATION), lambda r: r.budget.seconds),
        Limit("max_gpus", "GPUs", "GPUs", 1.0, lambda t: units.parse_count(t, "a GPU count"), lambda r: r.budget.gpus),
        Limit("max_gpu_hours", "GPU-hours", "GPU-hours", units.HOUR, _gpu_hours, lambda r: r.budget.gpu_seconds),
        Limit("max_energy", "energy", "MWh", units.MWH, _quantity(units.ENERGY), lambda r: r.budget.energy),
        Limit("max_co2", "CO2", "t", 1000.0, _quantity(units.MASS), lambda r: r.budget.co2),
        Limit("max_flops", "compute", "FLOP", 1.0, _quantity(units.COMPUTE), lambda r: r.budget.flops),
    )
}


@dataclass(frozen=True)
class Check:
    """One limit against one run's value, both in the limit's display unit."""

    limit: Limit
    maximum: float
    value: float

    @property
    def passed(self) -> bool:
        return self.value <= self.maximum

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
    return maxima


def evaluate(result: TrainResult, maxima: Mapping[str, float]) -> list[Check]:
    """Every limit checked against the run; a limit on a value that cannot be known is an error."""
    checks = []
    for key, maximum in maxima.items():
        limit = LIMITS[key]
        value = limit.value_of(result)
        if value is None:
            raise InputError(
                f"{limit.option}: the run's {limit.label} is unknown for {result.scenario.hardware.name} "
                f"(no default {'price' if key == 'max_cost' else 'power'}); pass "
                f"{'--price' if key == 'max_cost' else '--power'}"
            )
        checks.append(Check(limit, maximum / limit.scale, value / limit.scale))
    return checks


@dataclass(frozen=True)
class PlannedRun:
    name: str
    request: Mapping[str, Any]
    maxima: Mapping[str, float]


def read_plan(text: str, where: str) -> list[PlannedRun]:
    """The runs of a plan file's text; `where` names the file in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{where}: not valid TOML: {error}") from None
    for key in data:
        if key not in ("defaults", "runs"):
            raise InputError(f"{where}: unknown table [{key}]{did_you_mean(key, ['defaults', 'runs'])}")
    defaults = _table(data.get("defaults", {}), f"{where}: [defaults]")
    runs = _table(data.get("runs", {}), f"{where}: [runs]")
    if not runs:
        raise InputError(f"{where}: no runs; add at least one [runs.NAME] table")
    planned = []
    for name, fields in runs.items():
        merged = {**defaults, **_table(fields, f"{where}: runs.{name}")}
        for key in merged:
            if key not in REQUEST_KEYS and key not in LIMITS:
                known = [*REQUEST_KEYS, *LIMITS]
                raise InputError(f"{where}: runs.{name}.{key}: unknown field{did_you_mean(key, known)}")
        request = {key: value for key, value in merged.items() if key in REQUEST_KEYS}
        with prefixed(f"{where}: runs.{name}"):
            maxima = parse_limits({key: value for key, value in merged.items() if key in LIMITS})
        planned.append(PlannedRun(name, request, maxima))
    return planned


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a table")
    return value
