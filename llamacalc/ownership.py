"""Owning the hardware: capex and energy as a price per GPU-hour, and the power a cluster draws.

Epoch AI's method (Cottier et al., arXiv:2405.21015, §2.2-2.3, App. A): a GPU's purchase price
(its server's share included) depreciates at the rate GPU price-performance improves, r orders of
magnitude a year, so a GPU-second of training costs purchase × r·ln10 / year (their linear form);
cluster networking adds share / (1 − share) of that; energy is TDP × server power ratio × average
power over TDP × PUE × the electricity price. A straight-line life (Meta's 5.5 years for servers)
replaces r·ln10 by 1 / life. Facility power: GPUs × TDP × server ratio × PUE (Epoch App. C).
"""

from __future__ import annotations

from typing import NamedTuple

from llamacalc.specs import Ownership
from llamacalc.units import YEAR


class OwnedPrice(NamedTuple):
    """USD per GPU-second of an owned cluster, by what it pays for."""

    hardware: float
    networking: float
    energy: float

    @property
    def total(self) -> float:
        return self.hardware + self.networking + self.energy


def depreciation(ownership: Ownership, life: float | None = None) -> float:
    """The share of its value hardware loses each second: 1 / life straight-line, else r·ln10 a year."""
    return 1 / life if life else ownership.depreciation / YEAR


def energy_price(ownership: Ownership, power: float, server_power: float, pue: float) -> float:
    """USD per GPU-second of electricity: TDP × server ratio × average draw × PUE × price (Epoch §2.3)."""
    return power * server_power * ownership.average_power * pue * ownership.electricity


def owned_price(
    purchase: float, ownership: Ownership, power: float, server_power: float, pue: float, life: float | None = None
) -> OwnedPrice:
    """The price of one GPU-second on owned hardware; `life` in seconds for straight-line depreciation."""
    hardware = purchase * depreciation(ownership, life)
    networking = hardware * ownership.networking_share / (1 - ownership.networking_share)
    return OwnedPrice(hardware, networking, energy_price(ownership, power, server_power, pue))


def capex_price(capex_per_gpu: float, ownership: Ownership, energy: float, life: float | None = None) -> OwnedPrice:
    """A GPU-second when a whole capex depreciates, spread over the GPUs it bought: the capex holds
    the networking (and buildings, and other servers) already, so nothing is added for them."""
    return OwnedPrice(capex_per_gpu * depreciation(ownership, life), 0.0, energy)


def facility_watts(gpus: float, power: float, server_power: float, pue: float) -> float:
    """What the cluster draws from the grid at TDP: its GPUs, their servers, and the facility's overhead."""
    return gpus * power * server_power * pue
