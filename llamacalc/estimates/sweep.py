"""Sweeps: `train` over the values of one input, or of two at once (a grid).

The swept inputs and their values come read (sweep_setups.py); each point's run is resolved exactly
like a single `train`, from the request with the point's values in canonical units.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from llamacalc.estimates.train import TrainResult, estimate
from llamacalc.resolve import Resolver
from llamacalc.sweep_setups import Series, SweepSetup


@dataclass(frozen=True)
class Sweep:
    """`sweep`: its axes (one, or two for a grid), each point's values on them, and the run there."""

    SCHEMA = "sweep"  # its document's JSON Schema (llamacalc schema sweep)

    axes: tuple[Series, ...]
    points: tuple[tuple[Any, ...], ...]
    results: tuple[TrainResult, ...]

    @property
    def series(self) -> Series:
        """The first axis: what a one-input sweep plots against."""
        return self.axes[0]


def sweep(resolver: Resolver, setup: SweepSetup) -> Sweep:
    """`train` at every point of the swept inputs (the grid of two), in order."""
    axes = setup.axes
    points = tuple(itertools.product(*(a.values for a in axes)))
    results = tuple(
        estimate(resolver, {**setup.request, **{a.key: a.request(v) for a, v in zip(axes, point, strict=True)}})
        for point in points
    )
    return Sweep(axes, points, results)
