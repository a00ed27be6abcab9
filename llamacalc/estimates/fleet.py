"""The fleet view: a cluster as owned capacity, and the share of a fleet-year each model's training takes.

Meta's 2024 question in one line: 350,000 H100s, $39.23B of capex, the price of a GPU-hour on them,
the power they draw, and what Llama 3.1 405B (≈1% of a fleet-year) or a 10× run would occupy.

Two prices of a GPU-hour bracket the truth. The capex, spread over the fleet's GPUs and depreciated
like the GPUs (Epoch's rate, or `--life`), is an upper bound when it pays for more than the GPUs
(Meta's holds data centres and other servers: reference-costs-inference.md A5.6); the GPU's purchase
price with its server share and networking (ownership.py) is the lower bound. Energy is in both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from llamacalc import units
from llamacalc.errors import InputError
from llamacalc.estimates.train import Range, estimate
from llamacalc.inputs import Assumption
from llamacalc.ownership import OwnedPrice, capex_price, energy_price, facility_watts, owned_price
from llamacalc.resolve import Resolver
from llamacalc.setups import FleetSetup
from llamacalc.specs import Cluster, Hardware


@dataclass(frozen=True)
class FleetShare:
    """One model preset's training against a fleet-year, in GPU-hours of the fleet's GPU."""

    model: str
    gpu_hours: Range  # the publisher's (P10 = P90) or llamacalc's estimate with its P10-P90
    reported: bool  # the publisher's GPU-hours on this GPU, else llamacalc's estimate
    share: Range  # of the fleet's GPU-hours in a year


@dataclass(frozen=True)
class Fleet:
    """`fleet`: a cluster as owned capacity, and each model preset's share of a fleet-year."""

    SCHEMA = "fleet"  # its document's JSON Schema (llamacalc schema fleet)

    cluster: Cluster
    hardware: Hardware
    capex: float | None  # USD
    capex_given: bool  # with --capex: the user's figure, covering what the user says it does
    capex_rate: OwnedPrice | None  # per GPU-second: the capex depreciated over the GPUs, plus energy
    owned: OwnedPrice | None  # per GPU-second: the purchase price's rate, the lower bound
    depreciation: str  # how the hardware loses its value, in words
    facility_watts: float | None
    gpu_hours_per_year: float
    shares: tuple[FleetShare, ...]
    assumptions: Mapping[str, Assumption]
    sources: bool = False  # show every input with its source (`--sources`)

    @property
    def capex_per_gpu(self) -> float | None:
        return None if self.capex is None else self.capex / self.cluster.gpus

    @property
    def usd_per_gpu_hour(self) -> float | None:
        """The headline price: the capex's rate where there is a capex, else the purchase price's."""
        rate = self.capex_rate or self.owned
        return None if rate is None else rate.total * units.HOUR


def fleet(resolver: Resolver, setup: FleetSetup) -> Fleet:
    """A cluster preset as an owned fleet (setups.fleet_setup), with each model preset's share of a fleet-year."""
    catalog, cluster, life = resolver.catalog, setup.cluster, setup.life
    hardware = catalog.hardware(cluster.gpu)
    spent = setup.capex if setup.capex is not None else cluster.capex
    ownership = catalog.ownership()
    hw, own = hardware.entry, ownership.entry
    assumptions = {
        "gpus": Assumption(cluster.gpus, "", "preset", cluster.entry.source_of("gpus")),
        "gpu": Assumption(hardware.name, "", "preset", cluster.entry.source_of("gpu")),
    }
    if spent is not None:
        assumptions["capex"] = (
            Assumption(spent, "USD", "user", f"the capex given ({setup.capex_given})")
            if setup.capex_given is not None
            else Assumption(spent, "USD", "preset", cluster.entry.source_of("capex"))
        )
    if life is not None:
        assumptions["life"] = setup.assumptions["life"]
        depreciated = f"straight line over {life / units.YEAR:g} years (the life given)"
    else:
        r = ownership.depreciation / math.log(10)
        assumptions["depreciation"] = Assumption(
            r, "orders of magnitude a year", "preset", own.source_of("depreciation_ooms_per_year")
        )
        depreciated = f"{r:g} orders of magnitude a year (Epoch AI's rate)"
    energy, watts = None, None
    if hardware.power and hardware.server_power:
        energy = energy_price(ownership, hardware.power, hardware.server_power, setup.pue)
        watts = facility_watts(cluster.gpus, hardware.power, hardware.server_power, setup.pue)
        assumptions |= {
            "power": Assumption(hardware.power, "W", "preset", hw.source_of("power")),
            "server_power": Assumption(hardware.server_power, "", "preset", hw.source_of("server_power")),
            "pue": setup.assumptions["pue"],
            "average_power": Assumption(ownership.average_power, "", "preset", own.source_of("average_power")),
            "electricity": Assumption(
                ownership.electricity * units.KWH, "USD/kWh", "preset", own.source_of("electricity")
            ),
        }
    owned = None
    if energy is not None and hardware.purchase_price and hardware.power and hardware.server_power:
        owned = owned_price(hardware.purchase_price, ownership, hardware.power, hardware.server_power, setup.pue, life)
        assumptions |= {
            "purchase_price": Assumption(hardware.purchase_price, "USD", "preset", hw.source_of("purchase_price")),
            "networking_share": Assumption(ownership.networking_share, "", "preset", own.source_of("networking_share")),
        }
    rate = None if spent is None else capex_price(spent / cluster.gpus, ownership, energy or 0.0, life)
    per_year = cluster.gpus * units.YEAR / units.HOUR
    if setup.capex_given is not None:  # the figure is the user's: its source says so, not the preset's citation
        fields = dict(cluster.entry.fields)
        fields["sources"] = {**fields.get("sources", {}), "capex": f"the capex given ({setup.capex_given})"}
        cluster = cluster._replace(capex=spent, entry=dataclasses.replace(cluster.entry, fields=fields))
    shares = tuple(_shares(resolver, hardware, per_year))
    given = setup.capex_given is not None
    return Fleet(cluster, hardware, spent, given, rate, owned, depreciated, watts, per_year, shares, assumptions)


def _shares(resolver: Resolver, hardware: Hardware, per_year: float) -> list[FleetShare]:
    """Each model preset's training in GPU-hours of `hardware`: the publisher's where the card gives
    them on this GPU, else llamacalc's estimate at the model's own scale (not the fleet's), whose
    P10-P90 is the efficiency model's, from its error on published runs left out of its fit."""
    catalog = resolver.catalog
    shares = []
    for name in catalog.names("models"):
        model = catalog.model(name)
        reported = model.reported
        if reported and reported.gpu_hours and reported.gpu == hardware.name:
            hours, published = Range(reported.gpu_hours, reported.gpu_hours, reported.gpu_hours), True
        else:
            try:
                result = estimate(resolver, {"model": name, "gpu": hardware.name})
            except InputError:  # a preset this GPU cannot run (no peak at its precision): not in the fleet view
                continue
            band = result.ranges.get("gpu_seconds")
            p50 = result.budget.gpu_seconds
            seconds = band if band is not None else Range(p50, p50, p50)
            hours, published = Range(*(s / units.HOUR for s in seconds)), False
        shares.append(FleetShare(name, hours, published, Range(*(h / per_year for h in hours))))
    return shares
