"""Inputs: the one table of every input a run takes, and the defaults used when nobody gives one.

Each input has a key (its JSON/plan/batch name), an option spelling, how its text is parsed, the
unit people see it in, whether `sweep` can vary it, and — where llamacalc must assume a value —
a default with its source. resolve.py, sweep, checks, batch and the CLI all read this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from llamacalc import units
from llamacalc.errors import UnitError, figure, flag


class Assumption(NamedTuple):
    """One input of a run: its value (in the unit named), where it came from, and its source.

    A NamedTuple, not a dataclass: a batch builds a dozen per scenario, and this is 4x cheaper.
    """

    value: Any
    unit: str
    origin: str  # "user", "preset", "default", "derived" (from other inputs) or "law" (a scaling law's)
    source: str = ""

    @property
    def is_assumption(self) -> bool:
        return self.origin == "default" or self.source.lower().startswith("assumption")

    @property
    def provenance(self) -> str:
        """Where it came from, in the one vocabulary of the table and JSON: user, preset, derived,
        law, or assumption (a default, or a preset figure its source calls one)."""
        return "assumption" if self.origin != "user" and self.is_assumption else self.origin


def _default(value: Any, source: str, unit: str = "") -> Assumption:
    return Assumption(value, unit, "default", "assumption: " + source)


# Defaults for inputs neither the user nor a preset gives; each is an assumption with a source.
DEFAULTS: Mapping[str, Assumption] = {
    "gpu": _default("h100-sxm", "the GPU of Llama 3, 3.1 and 4 training [S1, S4]"),
    "gpus": _default(16384, "the Llama 3.1 405B pre-training cluster, 16,384 H100 [S7 Table 4]"),
    "precision": _default("bf16", "BF16, the precision of Llama 3's reported MFU [S7 Table 4]"),
    "mfu.bf16": _default(0.40, "middle of Llama 3.1 405B's 38-43% BF16 MFU on 8K-16K H100 [S7 Table 4]"),
    "mfu.fp8": _default(0.197, "Llama 4 Behemoth's 390 TFLOP/s per GPU in FP8 = 19.7% of H100 dense FP8 peak [S8]"),
    "pue": _default(1.09, "PUE of Meta data centres completed in 2021 [S26c] (fleet 2023: 1.08)"),
    "carbon": _default(0.367, "US grid average 2023, 0.367 kg CO2/kWh (EIA) [S27a]", "kg/kWh"),
}


class Input(NamedTuple):
    """One input of a run: how to read its text, and how people see its value."""

    key: str
    reads: str | units.Kind | None  # a count (what it counts), a quantity, or None for names and choices
    sweepable: bool = False
    bounds: tuple[float, float] | None = None  # in the display unit: beyond them is a typo, never a run

    @property
    def option(self) -> str:
        return option(self.key)

    @property
    def display(self) -> tuple[str, float]:
        """The unit people see the value in, and canonical units per that unit (counts: none)."""
        return units.DISPLAY.get(self.key, ("", 1.0)) if isinstance(self.reads, units.Kind) else ("", 1.0)

    def parse(self, text: Any) -> float:
        """The canonical float of a value given as text or a number, within the input's bounds."""
        if isinstance(self.reads, units.Kind):
            value = units.parse_quantity(text, self.reads)
        else:
            value = units.parse_count(text, self.reads or self.key)
        unit, scale = self.display
        if self.bounds and not self.bounds[0] <= value / scale <= self.bounds[1]:
            low, high = self.bounds
            raise UnitError(f"expected {figure(low)} to {figure(high)} {unit}".rstrip() + f", got '{text}'")
        return value

    def to_request(self, value: float) -> Any:
        """A canonical value as request text that parses back to it exactly."""
        if isinstance(self.reads, units.Kind) and self.reads.unit:
            return f"{value!r} {self.reads.unit}"
        return float(value)


option = flag  # the command-line spelling of a request key: 'active_params' -> '--active-params'


# Bounds generous enough for real futures, about 10x beyond the largest announced (README, "Exit codes"):
# a model of 1,000T parameters (Llama 4 Behemoth: 2T), 10^17 tokens (36T trained), 10M GPUs in one run
# (clusters of 1M announced); beyond them an input is a typo, refused, never an answer.
MAX_PARAMS, MAX_TOKENS, MAX_GPUS = 1e15, 1e17, 1e7
MAX_SEQ_LEN = 1e8  # tokens a training sequence: ten times the longest context announced (Llama 4 Scout, 10M)

INPUTS: Mapping[str, Input] = {
    i.key: i
    for i in (
        Input("model", None),
        Input("params", "a parameter count", sweepable=True, bounds=(1e3, MAX_PARAMS)),
        Input("active_params", "a parameter count", sweepable=True, bounds=(1e3, MAX_PARAMS)),
        Input("tokens", "a token count", sweepable=True, bounds=(1e3, MAX_TOKENS)),
        Input("gpu", None),
        Input("gpus", "a GPU count", sweepable=True, bounds=(1, MAX_GPUS)),
        Input("days", units.DURATION, sweepable=True, bounds=(1e-6, 1e5)),
        Input("cluster", None),
        Input("mfu", units.FRACTION, sweepable=True, bounds=(1e-4, 1)),
        Input("precision", None),
        Input("price", units.PRICE, sweepable=True, bounds=(0, 1e4)),
        Input("power", units.POWER, sweepable=True, bounds=(1, 1e5)),
        Input("pue", "a PUE", sweepable=True, bounds=(1, 10)),
        Input("carbon", units.CARBON, sweepable=True, bounds=(0, 10)),
        Input("flops", None),
        Input("recompute", None),
        Input("seq_len", "a sequence length", bounds=(1, MAX_SEQ_LEN)),
        Input("pricing", None),
        Input("life", units.DURATION_YEARS, bounds=(0.1, 100)),
    )
}
HARDWARE_KEYS = (
    "gpu", "gpus", "days", "cluster", "mfu", "precision", "price", "pricing", "life", "power", "pue", "carbon",
)  # fmt: skip
# the GPU preset's cloud price; a tier off it (`pricing` presets); or Epoch's amortised ownership (ownership.py)
PRICINGS = ("on-demand", "reserved-1y", "reserved-3y", "spot", "owned")
MODEL_KEYS = frozenset({"params", "active_params", "tokens", "flops", "recompute", "seq_len"})
