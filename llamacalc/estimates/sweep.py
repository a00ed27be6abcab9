"""Sweeps: one `train` input varied over a range, `start:stop:step` (`xF` steps multiply).

Examples: `--gpus 1024:65536:x2`, `--mfu 0.2:0.6:0.05`, `--tokens 1T:30T:x2`, `--price 1:5:0.5`.
Values are parsed like the option they sweep (inputs.INPUTS), then handed back as request text in
canonical units, so a swept run is resolved exactly like a single `train`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llamacalc.errors import InputError
from llamacalc.estimates.train import TrainResult
from llamacalc.inputs import INPUTS, Input, option

MAX_POINTS = 10_000


def is_range(value: Any) -> bool:
    return isinstance(value, str) and value.count(":") == 2


@dataclass(frozen=True)
class Series:
    key: str
    axis: Input
    values: list[float]  # canonical

    def display(self, value: float) -> float | int:
        """The value in the option's display unit, rid of float noise from repeated steps; a whole
        count (GPUs) as an integer."""
        shown = float(f"{value / self.axis.display[1]:.12g}")
        return int(shown) if self.key == "gpus" else shown


@dataclass(frozen=True)
class Sweep:
    """`sweep`: the series and the run at each of its values."""

    series: Series
    results: tuple[TrainResult, ...]


def parse_range(key: str, text: str) -> Series:
    """The values of `start:stop:step` for option `key`, stop included, at most MAX_POINTS."""
    flag = option(key)
    axis = INPUTS.get(key)
    if axis is None or not axis.sweepable:
        sweepable = [i.option for i in INPUTS.values() if i.sweepable]
        raise InputError(f"{flag}: cannot be swept; sweep one of {', '.join(sweepable)}")
    start_text, stop_text, step_text = (part.strip() for part in text.split(":"))
    try:
        start, stop = axis.parse(start_text), axis.parse(stop_text)
        multiply = step_text.lower().startswith("x")
        step = float(step_text[1:]) if multiply else axis.parse(step_text)
    except (InputError, ValueError):
        raise InputError(
            f"{flag}: expected a range start:stop:step such as 1024:65536:x2 or 0.2:0.6:0.05, got '{text}'"
        ) from None
    if stop < start:
        raise InputError(f"{flag}: the range must rise (start ≤ stop), got '{text}'")
    if (multiply and not step > 1) or (not multiply and not step > 0) or (multiply and start <= 0):
        raise InputError(f"{flag}: the step must move toward stop (x-factor > 1 or a positive step), got '{text}'")
    values, value = [], start
    while value <= stop * (1 + 1e-9):
        values.append(value)
        if len(values) > MAX_POINTS:
            raise InputError(f"{flag}: '{text}' gives more than {MAX_POINTS:,} points")
        value = value * step if multiply else start + len(values) * step
    return Series(key, axis, values)
