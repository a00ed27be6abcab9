"""The fleet view: a cluster as owned capacity, and the share of a fleet-year each model's training takes.

Meta's 2024 question in one line: 350,000 H100s, $39.23B of capex, the price of a GPU-hour on them,
the power they draw, and what Llama 3.1 405B (≈1% of a fleet-year) or a 10× run would occupy.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.errors import InputError, prefixed
from llamacalc.estimates.train import estimate
from llamacalc.inputs import INPUTS
from llamacalc.ownership import OwnedPrice, facility_watts, owned_price
from llamacalc.resolve import Resolver
from llamacalc.specs import Cluster, Hardware

MAX_CAPEX = 1e15  # USD: a thousand times a hyperscaler's yearly capex


@dataclass(frozen=True)
class FleetShare:
    """One model preset's training against a fleet-year."""

    model: str
    gpu_hours: float
    reported: bool  # the publisher's GPU-hours on this GPU, else llamacalc's estimate
    share: float  # of the fleet's GPU-hours in a year


@dataclass(frozen=True)
class Fleet:
    """`fleet`: a cluster as owned capacity, and each model preset's share of a fleet-year."""

    SCHEMA = "fleet"  # its document's JSON Schema (llamacalc schema fleet)

    cluster: Cluster
    hardware: Hardware
    capex: float | None  # USD
    owned: OwnedPrice | None  # per GPU-second
    facility_watts: float | None
    gpu_hours_per_year: float
    shares: tuple[FleetShare, ...]

    @property
    def capex_per_gpu(self) -> float | None:
        return None if self.capex is None else self.capex / self.cluster.gpus


def fleet(resolver: Resolver, cluster_name: str, capex: Any = None, life: Any = None, pue: Any = None) -> Fleet:
    """A cluster preset as an owned fleet, with each model preset's share of a fleet-year."""
    catalog = resolver.catalog
    cluster = catalog.cluster(cluster_name, "CLUSTER")
    hardware = catalog.hardware(cluster.gpu)
    with prefixed("--capex"):
        spent = units.parse_quantity(capex, units.MONEY) if capex is not None else cluster.capex
    if spent is not None and spent > MAX_CAPEX:
        raise InputError(f"--capex: at most {MAX_CAPEX:.0e} USD, got '{capex}'")
    with prefixed("--life"):
        years = INPUTS["life"].parse(life) if life is not None else None
    setup, _ = resolver.setup({"cluster": cluster.name, **({"pue": pue} if pue is not None else {})})
    owned, watts = None, None
    if hardware.power and hardware.server_power:
        watts = facility_watts(cluster.gpus, hardware.power, hardware.server_power, setup.pue)
        if hardware.purchase_price:
            ownership = catalog.ownership()
            owned = owned_price(
                hardware.purchase_price, ownership, hardware.power, hardware.server_power, setup.pue, years
            )
    per_year = cluster.gpus * units.YEAR / units.HOUR
    shares = []
    for name in catalog.names("models"):
        model = catalog.model(name)
        reported = model.reported
        if reported and reported.gpu_hours and reported.gpu == hardware.name:
            hours, published = reported.gpu_hours, True
        else:
            try:
                result = estimate(resolver, {"model": name, "gpu": hardware.name})  # at its own scale, not the fleet's
            except InputError:  # a preset this GPU cannot run (no peak at its precision): not in the fleet view
                continue
            hours, published = result.budget.gpu_seconds / units.HOUR, False
        shares.append(FleetShare(name, hours, published, hours / per_year))
    if capex is not None:  # the figure is the user's: its source says so, not the preset's citation
        fields = dict(cluster.entry.fields)
        fields["sources"] = {**fields.get("sources", {}), "capex": f"given with --capex ({capex})"}
        cluster = cluster._replace(capex=spent, entry=dataclasses.replace(cluster.entry, fields=fields))
    return Fleet(cluster, hardware, spent, owned, watts, per_year, tuple(shares))
