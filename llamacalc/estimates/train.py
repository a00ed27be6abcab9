"""The `train` estimate: a resolved run's budget, with the publisher's figures beside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.budget import Budget, budget, implied_mfu
from llamacalc.catalog import Catalog
from llamacalc.resolve import Resolved, Resolver


@dataclass(frozen=True)
class Comparison:
    """The publisher's reported figures beside the estimate."""

    gpu: str | None
    gpus: int | None
    gpu_hours: float | None
    co2_t: float | None
    implied_mfu: float | None
    source: str


@dataclass(frozen=True)
class TrainResult:
    resolved: Resolved
    budget: Budget
    reported: Comparison | None


def estimate(resolver: Resolver, request: Mapping[str, Any]) -> TrainResult:
    """Resolve a request and budget it: what every command that plans a run calls."""
    return train(resolver.catalog, resolver.resolve(request))


def train(catalog: Catalog, resolved: Resolved) -> TrainResult:
    """The budget of a resolved run, with the publisher's figures beside it when the preset has them."""
    s = resolved
    result = budget(
        s.flops, s.peak, s.mfu, gpus=s.gpus, seconds=s.seconds,
        price=s.price, power=s.power, pue=s.pue, carbon=s.carbon,
    )  # fmt: skip
    return TrainResult(s, result, _comparison(catalog, s))


def _comparison(catalog: Catalog, s: Resolved) -> Comparison | None:
    reported = s.model.reported if s.model else None
    if reported is None:
        return None
    mfu = None
    if reported.gpu_hours is not None and reported.gpu is not None:
        peaks = catalog.hardware(reported.gpu).peaks
        if s.precision in peaks:
            mfu = implied_mfu(s.flops, reported.gpu_hours * units.HOUR, peaks[s.precision])
    return Comparison(reported.gpu, reported.gpus, reported.gpu_hours, reported.co2_t, mfu, reported.source)
