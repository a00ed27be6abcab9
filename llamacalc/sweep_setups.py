"""Sweep setups: what `sweep` is asked, read once: the inputs it varies, each with its values.

An input is swept by a range, `start:stop:step` (`xF` steps multiply) — `--gpus 1024:65536:x2`,
`--mfu 0.2:0.6:0.05`, `--tokens 1T:30T:x2` — or by a list, `--gpu h100-sxm,b200,mi300x`,
`--gpus 1024,4096`. Numbers are parsed like the input they sweep (inputs.INPUTS), and handed back
as request text in canonical units (`Series.request`), so a swept run is resolved exactly like a
single `train`. The estimate (estimates/sweep.py) takes what this returns and never reads text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc.errors import InputError, named, prefixed
from llamacalc.inputs import INPUTS, Input

MAX_POINTS = 10_000
NAMED = ("model", "gpu", "cluster", "precision", "pricing")  # inputs swept as a list of names
MAX_AXES = 2


@dataclass(frozen=True)
class Series:
    """One swept input and its values, in order."""

    key: str
    axis: Input
    values: list[Any]  # canonical numbers, or names

    @property
    def named(self) -> bool:
        return self.key in NAMED

    def display(self, value: Any) -> Any:
        """The value in the option's display unit, rid of float noise from repeated steps; a whole
        count (GPUs) as an integer; a name as given."""
        if self.named:
            return value
        shown = float(f"{value / self.axis.display[1]:.12g}")
        return int(shown) if self.key == "gpus" else shown

    def request(self, value: Any) -> Any:
        return value if self.named else self.axis.to_request(value)


@dataclass(frozen=True)
class SweepSetup:
    """A sweep's question: the run's inputs as given, and the one or two inputs it varies (a grid)."""

    request: Mapping[str, Any]  # each point's run: these, the swept inputs replaced by the point's values
    axes: tuple[Series, ...]


def sweep_setup(request: Mapping[str, Any]) -> SweepSetup:
    """The `sweep` request read: which inputs vary, over which values, at most MAX_POINTS runs."""
    for key, value in request.items():
        if isinstance(value, str) and value.count(":") == 1 and key in INPUTS and INPUTS[key].sweepable:
            raise InputError(f"{named(key)}: '{value}' has no step; give start:stop:step, e.g. {value}:x2")
        if key in NAMED and is_range(value):
            raise InputError(f"{named(key)}: cannot be swept as a range; give a list of names, e.g. h100-sxm,b200")
        if is_range(value) and key in INPUTS and not INPUTS[key].sweepable:
            sweepable = [named(i.key) for i in INPUTS.values() if i.sweepable]
            raise InputError(f"{named(key)}: cannot be swept; sweep one of {', '.join(sweepable)}, or a list of names")
    swept = [key for key, value in request.items() if is_swept(key, value)]
    if not 1 <= len(swept) <= MAX_AXES:
        raise InputError(
            "give one option as a range start:stop:step or a list a,b,c (two for a grid), "
            f"e.g. {named('gpus')} 1024:65536:x2"
            + (f" (got {len(swept)}: {', '.join(map(named, swept))})" if swept else "")
        )
    axes = tuple(parse_series(key, request[key]) for key in swept)
    points = math.prod(len(a.values) for a in axes)
    if points > MAX_POINTS:
        raise InputError(f"the grid has {points:,} points, more than {MAX_POINTS:,}; use fewer values")
    return SweepSetup(request, axes)


def is_range(value: Any) -> bool:
    return isinstance(value, str) and value.count(":") == 2


def is_swept(key: str, value: Any) -> bool:
    """A range, or a comma-separated list that is not one value (16,384 is one GPU count)."""
    if not isinstance(value, str) or (key not in NAMED and key not in INPUTS):
        return False
    if is_range(value):
        return INPUTS[key].sweepable if key not in NAMED else False
    if "," not in value:
        return False
    return key in NAMED or (INPUTS[key].sweepable and not _one_value(INPUTS[key], value))


def _one_value(axis: Input, text: str) -> bool:
    try:
        axis.parse(text)
    except (InputError, ValueError):
        return False
    return True


def parse_series(key: str, text: str) -> Series:
    """A range's values, or a list's, for option `key`."""
    if is_range(text):
        return parse_range(key, text)
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise InputError(f"{named(key)}: expected a list such as a,b,c, got '{text}'")
    if key in NAMED:
        return Series(key, INPUTS[key], items)
    axis = INPUTS[key]
    try:
        values = [axis.parse(item) for item in items]
    except (InputError, ValueError):
        raise InputError(f"{named(key)}: expected a list of values such as 1024,4096, got '{text}'") from None
    return Series(key, axis, values)


def parse_range(key: str, text: str) -> Series:
    """The values of `start:stop:step` for option `key`, stop included, at most MAX_POINTS."""
    flag = named(key)
    axis = INPUTS.get(key)
    if axis is None or not axis.sweepable:
        sweepable = [named(i.key) for i in INPUTS.values() if i.sweepable]
        raise InputError(f"{flag}: cannot be swept; sweep one of {', '.join(sweepable)}")
    start_text, stop_text, step_text = (part.strip() for part in text.split(":"))
    unbounded = axis._replace(bounds=None)
    for end, end_text in (("start", start_text), ("stop", stop_text)):  # a value, so within the input's bounds
        try:
            unbounded.parse(end_text)
        except ValueError:  # not a value at all: the general message below
            continue
        with prefixed(f"{flag}: the range {end} of '{text}'"):
            axis.parse(end_text)
    try:
        start, stop = axis.parse(start_text), axis.parse(stop_text)
        multiply = step_text.lower().startswith("x")
        # a step is a difference, not a value: a PUE rises by 0.5, below the PUE's own floor of 1
        step = float(step_text[1:]) if multiply else unbounded.parse(step_text)
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
