"""Goodput: interruptions of a long run and the wall-clock they cost.

Calibrated on the Llama 3 paper (arXiv:2407.21783 §3.3.4, Table 5) [S7]: 419 unexpected
interruptions in a 54-day snapshot of 405B pre-training on 16,384 H100, i.e. one every ~3.1 h,
and "more than 90% effective training time". Each interruption loses the restart time plus, on
average, half a checkpoint interval of work; with λ interruptions per hour of wall-clock and L hours
lost each, a run of T ideal hours takes T / (1 − λ·L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Interruptions per GPU-hour: 419 / (54 days × 24 h × 16,384 GPUs) [S7 Table 5; 16K read as 16,384]
FAILURES_PER_GPU_HOUR = 419 / (54 * 24 * 16384)
# Lost hours per interruption that keep the 405B run at the paper's ">90%" effective time:
# goodput 1 − λL ≥ 0.9 with λ = 419 / (54 × 24) per hour → L ≤ 0.1 × 54 × 24 / 419 h ≈ 18.6 min (an upper bound).
LOST_HOURS_PER_INTERRUPTION = (1 - 0.9) * 54 * 24 / 419
SOURCE = (
    "derived from [S7] §3.3.4: 419 unexpected interruptions in 54 days on 16,384 H100 and >90% effective "
    "training time, so at most 18.6 min lost per interruption"
)


@dataclass(frozen=True)
class Goodput:
    interruptions: float  # expected over the run
    lost_hours: float  # wall-clock lost to them
    effective_hours: float  # wall-clock including the losses

    @property
    def fraction(self) -> float:
        """Useful time over wall-clock."""
        if math.isinf(self.effective_hours):
            return 0.0
        return 1 - self.lost_hours / self.effective_hours if self.effective_hours else 1.0


def goodput(gpus: int, ideal_hours: float, lost_per_interruption: float = LOST_HOURS_PER_INTERRUPTION) -> Goodput:
    """Expected interruptions and effective wall-clock of a run of `ideal_hours` on `gpus` GPUs."""
    rate = FAILURES_PER_GPU_HOUR * gpus  # interruptions per wall-clock hour
    busy = rate * lost_per_interruption
    effective = ideal_hours / (1 - busy) if busy < 1 else math.inf
    return Goodput(rate * effective, effective - ideal_hours, effective)


def lost_per_interruption(checkpoint_hours: float, restart_hours: float) -> float:
    """Restart time plus, on average, half a checkpoint interval of recomputed work."""
    return restart_hours + checkpoint_hours / 2
