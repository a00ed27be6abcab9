"""Resolve: a request (the run's inputs, as text or numbers) settled against presets and defaults.

Each input is taken from the user, else the preset, else a labelled default (inputs.py); every one is
recorded as an `Assumption` with its origin and source, so that output can state what it assumed.
One `Resolver` serves every command that plans a run: train, batch, check, compare, sweep, optimal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from llamacalc import efficiency, units
from llamacalc.budget import gpu_time, whole_gpus
from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, did_you_mean, figure, prefixed
from llamacalc.fastpath import Memo, built
from llamacalc.flops import CONVENTIONS, DEFAULT_CONVENTION, FEWEST, RECOMPUTE, Count, model_flops, training_flops
from llamacalc.inputs import DEFAULTS, HARDWARE_KEYS, INPUTS, MAX_GPUS, MODEL_KEYS, PRICINGS, Assumption, option
from llamacalc.ownership import OwnedPrice, owned_price
from llamacalc.specs import PRECISIONS, Cluster, Efficiency, Entry, Hardware, Model, Reported
from llamacalc.units import YEAR


@dataclass(frozen=True)
class Setup:
    """The hardware side of a scenario, in canonical units."""

    hardware: Hardware
    precision: str
    peak: float
    mfu: float
    mfu_band: tuple[float, float]  # P10, P90: the efficiency model's spread; none when --mfu is given
    extrapolation: tuple[str, ...]  # inputs beyond the runs the efficiency model was fitted on
    gpus: int | None
    seconds: float | None
    price: float | None
    price_band: tuple[float, float] | None  # P10, P90 of a preset price where its sources disagree
    pricing: str  # inputs.PRICINGS
    owned: OwnedPrice | None  # the price's parts, with --pricing owned
    power: float | None
    pue: float
    carbon: float


@dataclass(frozen=True)
class Resolved(Setup):
    """Everything `train` needs, resolved: the model side, the hardware side, and their origins."""

    model: Model | None
    params: float | None
    active_params: float | None
    tokens: float | None
    flops: float
    convention: str  # how `flops` was counted: a name in flops.CONVENTIONS
    counted: Count | None  # training FLOPs per token by component, where counted
    assumptions: Mapping[str, Assumption]

    @property
    def per_token(self) -> Mapping[str, float] | None:
        return None if self.counted is None else self.counted.components

    @property
    def flops_per_token(self) -> float | None:
        return None if self.counted is None else sum(self.counted.components.values())

    @property
    def flops_by_component(self) -> dict[str, float]:
        """Each component's training FLOPs over the run's tokens (empty where not counted)."""
        if self.counted is None or self.tokens is None:
            return {}
        return {name: per_token * self.tokens for name, per_token in self.counted.components.items()}


HARDWARE_SET = frozenset(HARDWARE_KEYS)
KEPT = 1 << 12  # entries a memo table holds before starting afresh (fastpath.Memo): flat memory on any batch


class Resolver:
    """Resolves requests against one catalog, remembering what repeats across a batch: the model
    side of an unchanged preset, the hardware side of the same inputs, and each cited preset figure
    as an Assumption."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._sides: Memo[str, ModelSide] = Memo("model-sides", KEPT)
        self._setups: Memo[tuple[Any, ...], tuple[Setup, tuple[tuple[str, Assumption], ...]]] = Memo(
            "hardware-sides", KEPT
        )
        self._utilisation_source_text: str | None = None
        self._predicted: Memo[tuple[float, float, bool, float | None], tuple[efficiency.Utilisation, Assumption]] = (
            Memo("predictions", KEPT)
        )

    def resolve(self, request: Mapping[str, Any], decided: tuple[str, ...] = ()) -> Resolved:
        """Resolve a request against the presets, or raise InputError naming the offending option;
        the house defaults (house.py) stand in for inputs the request leaves out, except those
        `decided` otherwise (a layout decides the MFU and the days)."""
        house = self.catalog.house
        if house is None:
            return _resolve(self, request)
        housed, keys = house.applied(request, decided=decided)
        resolved = _resolve(self, housed)
        return dataclasses.replace(resolved, assumptions=house.labelled(resolved.assumptions, keys))

    def setup(self, request: Mapping[str, Any]) -> tuple[Setup, Mapping[str, Assumption]]:
        """The hardware side of a request alone (no model): for planning from a GPU or money budget."""
        seen: dict[str, Assumption] = {}
        if self.catalog.house is None:
            return _setup(self, _given(request), None, seen), seen
        housed, keys = self.catalog.house.applied(request)
        setup = _setup(self, _given(housed), None, seen)
        return setup, self.catalog.house.labelled(seen, keys)

    def cited(self, entry: Entry, key: str, value: Any, unit: str) -> Assumption:
        """A preset's figure as an Assumption."""
        return Assumption(value, unit, "preset", entry.source_of(key))

    def predicted(
        self, model: Efficiency, size: float, peak: float, is_moe: bool, gpus: float | None
    ) -> tuple[efficiency.Utilisation, Assumption]:
        """The efficiency model's prediction and its Assumption, once per size, accelerator and scale: a
        batch repeats them, and the same Assumption object lets its JSON be encoded once."""
        if gpus is not None and model.bounds.get("gpus", (0, 0))[0] <= gpus <= model.scaling_from:
            gpus = None  # the same prediction at every count below the loss at scale, not flagged as fewer than fitted
        key = (size, peak, is_moe, gpus)
        found = self._predicted.get(key)
        if found is None:
            u = efficiency.predict(model, size, peak, is_moe, gpus)
            found = self._predicted[key] = u, Assumption(u.p50, "", "default", self._utilisation_source(model))
        return found

    def _utilisation_source(self, model: Efficiency) -> str:
        """The source of a predicted MFU, the same text for every prediction of one model."""
        if self._utilisation_source_text is None:
            stats = model.statistics
            self._utilisation_source_text = (
                "assumption: end-to-end utilisation of the BF16 peak, predicted from active size, peak and MoE by "
                f"the efficiency model fitted to {stats.get('runs', 0):.0f} published runs (P10-P90 "
                f"×/÷{math.exp(efficiency.Z90 * model.sigma):.2f}; `llamacalc backtest`)"
                + (f", falling beyond {model.scaling_from:,.0f} GPUs as published runs did" if model.scaling else "")
            )
        return self._utilisation_source_text

    def hardware_side(
        self,
        given: Mapping[str, Any],
        model: Model | None,
        seen: dict[str, Assumption],
        size: float | None,
        is_moe: bool,
        flops: float,
    ) -> Setup:
        """`_setup` of these inputs but a given MFU, once: a batch or a sweep repeats the same GPU,
        count and price across many models, token counts and MFUs. Its Assumptions are added to
        `seen` as `_setup` would. The caller applies a given MFU on top, so that varying it alone
        never resolves the rest again."""
        if "mfu" in given:
            given = {key: value for key, value in given.items() if key != "mfu"}
        inputs = tuple([(key, type(value), value) for key, value in given.items() if key in HARDWARE_SET])  # true ≠ 1
        key = (model.name if model else None, size, is_moe, flops if "days" in given else None, inputs)
        try:
            found = self._setups.get(key)
        except TypeError:  # an unhashable value (a JSON list): resolved, and refused, the long way
            return _setup(self, given, model, seen, size, is_moe, flops)
        if found is None:
            found = self._setups[key] = self._new_hardware_side(key, given, model, size, is_moe, flops)
        seen.update(found[1])
        return found[0]

    def _new_hardware_side(
        self,
        key: tuple[Any, ...],
        given: Mapping[str, Any],
        model: Model | None,
        size: float | None,
        is_moe: bool,
        flops: float,
    ) -> tuple[Setup, tuple[tuple[str, Assumption], ...]]:
        """A hardware side not seen with these inputs, and the Assumptions it adds. From one that
        differs only in the GPU count, when there is one, with the count and the utilisation at it
        applied on top: a batch or a sweep over many counts never resolves the rest again."""
        any_count = None
        if "gpus" in given:
            any_count = (*key[:-1], tuple(("gpus",) if item[0] == "gpus" else item for item in key[-1]))
            if (base := self._setups.get(any_count)) is not None:
                count, (setup, added) = _gpu_count(given["gpus"]), base
                seen = dict(added, gpus=Assumption(count, "", "user"))
                mfu, band, outside = _utilisation(
                    self, given, seen, setup.hardware, setup.precision, size, is_moe, count
                )
                at_count = built(Setup, vars(setup), gpus=count, mfu=mfu, mfu_band=band, extrapolation=outside)
                return at_count, tuple(seen.items())
        seen = {}
        found = _setup(self, given, model, seen, size, is_moe, flops), tuple(seen.items())
        if any_count is not None:
            self._setups[any_count] = found
        return found

    def model_side(self, given: Mapping[str, Any], model: Model) -> ModelSide:
        """The model side of a preset as it stands, counted once."""
        found = self._sides.get(model.name)
        if found is None:
            found = self._sides[model.name] = _model_side(self, given, model)
        return found


def _resolve(r: Resolver, request: Mapping[str, Any]) -> Resolved:
    given = _given(request)
    if "model" not in given and not ({"params", "active_params"} & given.keys() and "tokens" in given):
        raise InputError("no model: give a MODEL preset, or --params and --tokens (e.g. --params 70B --tokens 15T)")
    model = r.catalog.model(_text(given, "model")) if "model" in given else None
    if model is not None and not MODEL_KEYS & given.keys():  # a preset as it stands: count it once
        side = r.model_side(given, model)
    else:
        side = _model_side(r, given, model)
    seen = dict(side.assumptions)
    size = side.active
    if size is None and model is not None and model.baseline is not None:
        size = model.baseline.active_params  # a compute-defined scenario runs at its baseline's efficiency
    is_moe = model.is_moe if model is not None and model.baseline is None else side.active != side.params
    setup = r.hardware_side(given, model, seen, size, is_moe, side.flops)
    mfu = {}
    if "mfu" in given:  # on top of the remembered hardware side
        value, band, outside = _given_utilisation(given, seen)
        mfu = {"mfu": value, "mfu_band": band, "extrapolation": outside}
    return built(
        Resolved, vars(setup), **mfu, model=model, params=side.params, active_params=side.active, tokens=side.tokens,
        flops=side.flops, convention=side.convention, counted=side.counted, assumptions=seen,
    )  # fmt: skip


class ModelSide(NamedTuple):
    """What a request says about the model: sizes, tokens and its FLOP count, with their origins."""

    params: float | None
    active: float | None
    tokens: float | None
    convention: str
    counted: Count | None
    flops: float
    assumptions: Mapping[str, Assumption]


def _model_side(r: Resolver, given: Mapping[str, Any], model: Model | None) -> ModelSide:
    seen: dict[str, Assumption] = {}
    params = _count_input(r, given, seen, model, "params", "a parameter count")
    active = _count_input(r, given, seen, model, "active_params", "a parameter count")
    if "active_params" not in given and "params" in given and not (model and model.is_moe):
        active, seen["active_params"] = params, seen["params"]
    if params is not None and active is not None and active > params * (1 + 1e-9):
        blame = "--active-params" if "active_params" in given else "--params"
        raise InputError(
            f"{blame}: {active:.4g} active parameters exceed the {params:.4g} in all; a token uses a part of the model"
        )
    tokens = _count_input(r, given, seen, model, "tokens", "a token count")
    convention, counted = _counted(given, seen, model, active)
    flops = _flops(model, given, active, tokens, counted)
    return ModelSide(params, active, tokens, convention, counted, flops, seen)


def _given(request: Mapping[str, Any]) -> dict[str, Any]:
    if not request.keys() <= INPUTS.keys():
        unknown = next(key for key in request if key not in INPUTS)
        raise InputError(f"unknown input '{unknown}'{did_you_mean(unknown, INPUTS)}")
    given = {key: value for key, value in request.items() if value is not None}
    _check_conflicts(given)
    return given


def _setup(
    r: Resolver,
    given: Mapping[str, Any],
    model: Model | None,
    seen: dict[str, Assumption],
    size: float | None = None,
    is_moe: bool = False,
    flops: float | None = None,
) -> Setup:
    """The hardware side; `size` (active parameters) and the GPU count pick the default MFU, and
    `flops` the GPU count a deadline needs at it."""
    cluster = r.catalog.cluster(_text(given, "cluster")) if "cluster" in given else None
    home = home_cluster(r, model)
    reported = model.reported if model else None
    hardware, seen["gpu"] = chosen_gpu(r, given, cluster, reported, home)
    precision = (
        given["precision"] if "precision" in given else (model and model.precision) or DEFAULTS["precision"].value
    )
    if precision not in PRECISIONS:
        raise InputError(f"--precision: expected one of {', '.join(PRECISIONS)}, got '{precision}'")
    if "precision" in given:
        seen["precision"] = Assumption(precision, "", "user")
    elif model and model.precision:
        seen["precision"] = Assumption(precision, "", "preset", model.entry.source_of("precision"))
    else:
        seen["precision"] = DEFAULTS["precision"]
    peak = hardware.peak(str(precision))
    seen["peak"] = r.cited(hardware.entry, f"peak_{precision}", peak, "FLOP/s")

    scale: dict[str, Assumption] = {}  # after the MFU in `seen`, as a person reads them
    gpus, seconds = _scale(given, scale, cluster, home, reported)
    if scale.get("gpus") is DEFAULTS["gpus"] and model is not None and model.arch is not None:
        chosen = _batch_width(model, hardware, given)
        if chosen is not None:
            gpus, scale["gpus"] = int(chosen.value), chosen
    mfu, band, outside = _utilisation(r, given, seen, hardware, str(precision), size, is_moe, gpus)
    if gpus is None and seconds and flops and seen["mfu"].origin == "default" and size is not None:
        mfu, band, outside = _deadline_utilisation(r, seen, hardware, size, is_moe, flops, seconds)
    seen.update(scale)
    power = _quantity(r, given, seen, "power", hardware)
    pue = bounded_number(given, seen, "pue", DEFAULTS["pue"], low=1.0)
    pricing, owned = _pricing(r, given, seen, hardware, power, pue)
    price = owned.total if owned is not None else _quantity(r, given, seen, "price", hardware)
    price_band = None if "price" in given or owned is not None else hardware.price_range
    if pricing not in ("on-demand", "owned") and "price" not in given:
        price, price_band = _tier(r, seen, hardware, pricing, price, price_band)
    carbon = _quantity(r, given, seen, "carbon")
    if carbon is None:
        seen["carbon"] = DEFAULTS["carbon"]
        carbon = DEFAULTS["carbon"].value / units.KWH  # the default is in kg/kWh
    return Setup(
        hardware, str(precision), peak, mfu, band, outside, gpus, seconds, price, price_band, pricing, owned, power,
        pue, carbon,
    )  # fmt: skip


# --- resolution helpers ---------------------------------------------------------------------------


def _check_conflicts(given: Mapping[str, Any]) -> None:
    if "days" not in given and "cluster" not in given:  # every conflict involves one: a batch line's fast way out
        return
    if "gpus" in given and "days" in given:
        raise InputError("--gpus and --days conflict: give the GPU count or the duration, not both")
    for key in ("gpu", "gpus", "days"):
        if "cluster" in given and key in given:
            raise InputError(f"--cluster and {option(key)} conflict: a cluster sets the GPU type and count")


def _text(given: Mapping[str, Any], key: str) -> str:
    value = given[key]
    if not isinstance(value, str):
        raise InputError(f"{option(key)}: expected a name, got {value!r}")
    return value


def chosen_gpu(
    r: Resolver, given: Mapping[str, Any], cluster: Cluster | None, reported: Reported | None, home: Cluster | None
) -> tuple[Hardware, Assumption]:
    """The accelerator: --gpu, else the cluster's, else the one the model was reported on, else the default."""
    if "gpu" in given:
        hardware = r.catalog.hardware(_text(given, "gpu"))
        return hardware, Assumption(hardware.name, "", "user")
    if cluster is not None:
        return r.catalog.hardware(cluster.gpu), Assumption(cluster.gpu, "", "user", f"--cluster {cluster.name}")
    if reported is not None and reported.gpu:
        return r.catalog.hardware(reported.gpu), Assumption(reported.gpu, "", "preset", reported.source)
    if home is not None:
        return r.catalog.hardware(home.gpu), Assumption(home.gpu, "", "preset", home.entry.source_of("gpu"))
    return r.catalog.hardware(DEFAULTS["gpu"].value), DEFAULTS["gpu"]


def _count_input(
    r: Resolver, given: Mapping[str, Any], seen: dict[str, Assumption], model: Model | None, key: str, what: str
) -> float | None:
    if key in given:
        value = _parsed(key, units.parse_count, given[key], what)
        if value < FEWEST:
            text = str(given[key]).strip()
            raise InputError(
                f"{option(key)}: {text} is implausibly few for {what}; did you mean '{text}B' or '{text}T'?"
            )
        bound = INPUTS[key].bounds
        if bound is not None and value > bound[1]:
            raise InputError(
                f"{option(key)}: at most {figure(bound[1])} ({what}: far beyond any announced), got {figure(value)}"
            )
        seen[key] = Assumption(value, "", "user")
        return value
    value = getattr(model, key) if model else None
    if value is not None and model is not None:
        source = key if key in model.entry.fields else "params"  # active_params defaults to params
        seen[key] = r.cited(model.entry, source, value, "")
    return value


def _counted(
    given: Mapping[str, Any], seen: dict[str, Assumption], model: Model | None, active: float | None
) -> tuple[str, Count | None]:
    """The FLOP convention, and training FLOPs per token by component where they can be counted."""
    name = given.get("flops", DEFAULT_CONVENTION)
    if name not in CONVENTIONS:
        known = ", ".join(CONVENTIONS)
        raise InputError(f"--flops: expected one of {known}, got '{name}'{did_you_mean(str(name), CONVENTIONS)}")
    convention = CONVENTIONS[name]
    recompute = given.get("recompute", "none")
    # checked even where the convention reads none: a typo is an error, never silently ignored
    seq_len = _parsed("seq_len", INPUTS["seq_len"].parse, given["seq_len"]) if "seq_len" in given else None
    if recompute not in RECOMPUTE:
        raise InputError(f"--recompute: expected one of {', '.join(RECOMPUTE)}, got '{recompute}'")
    if recompute != "none" and not convention.recomputes:
        recomputing = ", ".join(c.name for c in CONVENTIONS.values() if c.recomputes)
        raise InputError(f"--recompute counts executed FLOPs: use it with --flops {recomputing}")
    seen["flops"] = (
        Assumption(name, "", "user") if "flops" in given else Assumption(name, "", "default", convention.source)
    )
    if not convention.needs_architecture:
        if seq_len is not None:  # read by none of these conventions, but by a layout (train --layout)
            seen["seq_len"] = Assumption(seq_len, "tokens", "user")
        if model is not None and model.baseline is not None and not {"params", "active_params"} & given.keys():
            return name, None
        return name, None if active is None else convention.count(active, None, 0, recompute)
    arch = model.arch if model else None
    if arch is None or {"params", "active_params"} & given.keys():
        what = f"{model.name} has none" if model and arch is None else "--params replaces it"
        raise InputError(f"--flops {name}: needs the model's architecture (layers, d_model, ...); {what}")
    if seq_len is not None:
        seen["seq_len"] = Assumption(seq_len, "tokens", "user")
    elif arch.seq_len is not None:
        seq_len = arch.seq_len
        seen["seq_len"] = Assumption(seq_len, "tokens", "preset", model.entry.source_of("seq_len") if model else "")
    else:
        raise InputError(f"--flops {name}: needs --seq-len (the preset gives no training sequence length)")
    if convention.recomputes:
        seen["recompute"] = Assumption(recompute, "", "user" if "recompute" in given else "default")
    return name, convention.count(active, arch, int(seq_len), recompute)


def _flops(
    model: Model | None,
    given: Mapping[str, Any],
    active: float | None,
    tokens: float | None,
    counted: Count | None,
) -> float:
    overridden = {"params", "active_params", "tokens"} & given.keys()
    if model is not None and model.baseline is not None and not overridden:
        return model_flops(model)
    if active is None or tokens is None:
        missing = "--tokens" if tokens is None else "--params"
        raise InputError(f"{missing}: needed to count FLOPs (C = 6·N·D) for this model")
    flops = training_flops(active, tokens) if counted is None else sum(counted.components.values()) * tokens
    if not math.isfinite(flops):
        raise InputError("--params/--tokens: the FLOP count overflows; check the magnitudes")
    return flops


def _batch_width(model: Model, hardware: Hardware, given: Mapping[str, Any]) -> Assumption | None:
    """The layout search's GPU count for a model with an architecture: None where it cannot say (no
    memory figure, no sequence length, no group that fits), and the default stands."""
    from llamacalc.flops import parameter_count
    from llamacalc.layouts import DEFAULT_BATCH_SOURCE, batch_width, default_sequences

    arch = model.arch
    assert arch is not None
    seq_len = _whole_or_none(given.get("seq_len")) or arch.seq_len or ASSUMED_SEQ_LEN
    assumed_seq = "" if _whole_or_none(given.get("seq_len")) or arch.seq_len else (
        f" of {ASSUMED_SEQ_LEN:,} tokens (assumed: Llama 3's 8K pre-training [S7 §3.4.1])"
    )  # fmt: skip
    if hardware.memory is None:
        return None
    if model.global_batch:
        sequences, batch_source = model.global_batch, model.entry.source_of("global_batch")
    else:
        sequences, batch_source = default_sequences(seq_len), DEFAULT_BATCH_SOURCE
    found = batch_width(arch, model.params or parameter_count(arch), seq_len, hardware.memory, sequences,
                        hardware.scale_up_domain or 8)  # fmt: skip
    if found is None:
        return None
    gpus, layout = found
    cap = int(DEFAULTS["gpus"].value)
    capped = f"; at most {cap:,}, the Llama 3 405B cluster [S7 Table 4]" if gpus > cap else ""
    gpus = min(gpus, cap)
    lead = "derived" if model.global_batch else "assumption"  # the batch is a preset's figure, or assumed
    source = (
        f"{lead}: no GPU count given, so one replica of TP {layout.tp} × PP {layout.pp} (the fewest "
        f"{hardware.name} that hold it at ZeRO-3) per sequence{assumed_seq} of a {sequences:,}-sequence batch "
        f"({batch_source}){capped}; --gpus, --days or --cluster set it"
    )
    return Assumption(gpus, "", "derived", source)


# Assumption for a preset without a training sequence length: Llama 3's 8K pre-training [S7 §3.4.1].
ASSUMED_SEQ_LEN = 8192


def _whole_or_none(value: Any) -> int | None:
    try:
        return int(units.parse_whole(value, "a sequence length")) if value is not None else None
    except InputError:
        return None


def home_cluster(r: Resolver, model: Model | None) -> Cluster | None:
    return r.catalog.cluster(model.cluster, model.entry.where("cluster")) if model and model.cluster else None


def _scale(
    given: Mapping[str, Any],
    seen: dict[str, Assumption],
    cluster: Cluster | None,
    home: Cluster | None,
    reported: Reported | None,
) -> tuple[int | None, float | None]:
    """Either a GPU count or a wall-clock duration: --days, --gpus, the cluster's, the reported run's,
    the model's home cluster's, else the default."""
    if "days" in given:
        seconds = _parsed("days", INPUTS["days"].parse, given["days"])
        seen["days"] = Assumption(seconds / units.DAY, "days", "user")
        return None, seconds
    if "gpus" in given:
        seen["gpus"] = Assumption(_gpu_count(given["gpus"]), "", "user")
    elif cluster is not None:
        seen["gpus"] = Assumption(
            cluster.gpus, "", "user", f"--cluster {cluster.name}: {cluster.entry.source_of('gpus')}"
        )
    elif reported is not None and reported.gpus:
        seen["gpus"] = Assumption(reported.gpus, "", "preset", reported.source)
    elif home is not None:
        seen["gpus"] = Assumption(home.gpus, "", "preset", home.entry.source_of("gpus"))
    else:
        seen["gpus"] = DEFAULTS["gpus"]
    return int(seen["gpus"].value), None


def _gpu_count(value: Any) -> int:
    count = _parsed("gpus", units.parse_count, value, "a GPU count")
    if count != int(count) or count > MAX_GPUS:
        raise InputError(
            f"--gpus: expected a whole number of GPUs, at most {MAX_GPUS:,.0f} (ten times the largest cluster "
            f"announced), got '{value}'"
        )
    return int(count)


def _utilisation(
    r: Resolver,
    given: Mapping[str, Any],
    seen: dict[str, Assumption],
    hardware: Hardware,
    precision: str,
    size: float | None,
    is_moe: bool,
    gpus: float | None,
) -> tuple[float, tuple[float, float], tuple[str, ...]]:
    """The MFU with its P10-P90 band: the user's (no band), else the efficiency model's prediction.

    The model predicts end-to-end utilisation of the dense BF16 peak from the active size, the
    accelerator's BF16 peak and MoE; FP8 runs keep their cited default, with the model's spread.
    """
    if "mfu" in given:
        return _given_utilisation(given, seen)
    model = r.catalog.efficiency()
    if size is None or precision != "bf16" or "bf16" not in hardware.peaks:
        default = DEFAULTS[f"mfu.{precision}"]
        seen["mfu"] = default
        spread = math.exp(efficiency.Z90 * model.sigma)
        return float(default.value), (default.value / spread, min(1.0, default.value * spread)), ()
    u, seen["mfu"] = r.predicted(model, size, hardware.peaks["bf16"], is_moe, gpus)
    return u.p50, (u.p10, u.p90), u.extrapolation


def _given_utilisation(
    given: Mapping[str, Any], seen: dict[str, Assumption]
) -> tuple[float, tuple[float, float], tuple[str, ...]]:
    """The user's MFU: no band, and nothing extrapolated."""
    mfu = _fraction(given, seen, "mfu", DEFAULTS["mfu.bf16"])
    return mfu, (mfu, mfu), ()


def _deadline_utilisation(
    r: Resolver,
    seen: dict[str, Assumption],
    hardware: Hardware,
    size: float,
    is_moe: bool,
    flops: float,
    seconds: float,
) -> tuple[float, tuple[float, float], tuple[str, ...]]:
    """The predicted MFU on the GPU count a deadline needs, which itself depends on the MFU: more
    GPUs run less efficiently, so need more GPUs. Settles in a few steps (the loss is slow)."""
    model, peak = r.catalog.efficiency(), hardware.peaks["bf16"]
    gpus: float | None = None
    for _ in range(20):
        u, seen["mfu"] = r.predicted(model, size, peak, is_moe, gpus)
        needed = whole_gpus(gpu_time(flops, peak, u.p50), seconds)
        if needed == gpus or needed <= model.scaling_from:
            break
        gpus = needed
    return u.p50, (u.p10, u.p90), u.extrapolation


def _fraction(given: Mapping[str, Any], seen: dict[str, Assumption], key: str, default: Assumption) -> float:
    if key not in given:
        seen[key] = default
        return float(default.value)
    value = given[key]
    if type(value) is not float:  # a plain JSON number needs no parsing
        value = _parsed(key, units.parse_quantity, value, units.FRACTION)
    if not 0 < value <= 1:
        raise InputError(f"{option(key)}: expected a fraction in (0, 1], e.g. 0.4, got '{given[key]}'")
    low = (INPUTS[key].bounds or (0.0, 1.0))[0] if key in INPUTS else 0.0
    if value < low:
        raise InputError(
            f"{option(key)}: {value:.3g} is below {low:g}, no run's utilisation; e.g. 0.4, got '{given[key]}'"
        )
    seen[key] = Assumption(value, "", "user")
    return value


def bounded_number(
    given: Mapping[str, Any], seen: dict[str, Assumption], key: str, default: Assumption, low: float
) -> float:
    if key not in given:
        seen[key] = default
        return float(default.value)
    value = given[key]
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    high = (INPUTS[key].bounds or (low, math.inf))[1]
    if not (math.isfinite(number) and low <= number <= high):
        raise InputError(
            f"{option(key)}: expected a number from {figure(low)} to {figure(high)}, e.g. {default.value}, "
            f"got '{value}'"
        )
    seen[key] = Assumption(number, "", "user")
    return number


def _tier(
    r: Resolver,
    seen: dict[str, Assumption],
    hardware: Hardware,
    pricing: str,
    price: float | None,
    band: tuple[float, float] | None,
) -> tuple[float, tuple[float, float]]:
    """A cloud tier's price: the on-demand price less the middle of the tier's discount range, and its
    P10-P90 from the on-demand range (if any) and the discount range together."""
    if price is None:
        raise InputError(f"--pricing {pricing}: {hardware.name} has no on-demand price to discount; pass --price")
    tier = r.catalog.tier(pricing)
    low, high = tier.discount
    on_low, on_high = band or (price, price)
    tiered = price * (1 - (low + high) / 2)
    unit, scale = INPUTS["price"].display
    seen["price"] = Assumption(
        tiered / scale, unit, "derived",
        f"{pricing}: on-demand {price / scale:.2f} {unit} less {low:.0%}-{high:.0%} "
        f"({tier.entry.source_of('discount')})",
    )  # fmt: skip
    return tiered, (on_low * (1 - high), on_high * (1 - low))


def _pricing(
    r: Resolver,
    given: Mapping[str, Any],
    seen: dict[str, Assumption],
    hardware: Hardware,
    power: float | None,
    pue: float,
) -> tuple[str, OwnedPrice | None]:
    """--pricing: the GPU preset's cloud price (on-demand), or owned hardware amortised (ownership.py);
    a given --price wins either way."""
    pricing = given.get("pricing", PRICINGS[0])
    if pricing not in PRICINGS:
        raise InputError(
            f"--pricing: expected one of {', '.join(PRICINGS)}, got '{pricing}'{did_you_mean(str(pricing), PRICINGS)}"
        )
    if "life" in given and pricing != "owned":
        raise InputError("--life is the depreciation life of owned hardware: use it with --pricing owned")
    if "life" in given and "price" in given:
        raise InputError(
            f"{option('life')} and {option('price')} conflict: the life prices owned hardware, and a given price "
            "replaces that"
        )
    seen["pricing"] = Assumption(pricing, "", "user" if "pricing" in given else "default")
    if pricing != "owned" or "price" in given:
        return pricing, None
    if hardware.purchase_price is None or hardware.server_power is None or power is None:
        raise InputError(f"--pricing owned: {hardware.name} has no purchase price, server power or TDP; pass --price")
    ownership = r.catalog.ownership()
    life = _quantity(r, given, seen, "life")
    owned = owned_price(hardware.purchase_price, ownership, power, hardware.server_power, pue, life)
    rate = ownership.depreciation / math.log(10)  # the preset's orders of magnitude a year
    depreciation = f"straight line over {life / YEAR:g} years" if life else f"r = {rate:.3g} orders of magnitude a year"
    seen["price"] = Assumption(
        owned.total / INPUTS["price"].display[1], INPUTS["price"].display[0], "derived",
        f"owned: {hardware.name} at ${hardware.purchase_price:,.0f} ({hardware.entry.source_of('purchase_price')}), "
        f"{depreciation}, networking and energy by Epoch AI's method (arXiv:2405.21015)",
    )  # fmt: skip
    return pricing, owned


def _quantity(
    r: Resolver, given: Mapping[str, Any], seen: dict[str, Assumption], key: str, preset: Hardware | None = None
) -> float | None:
    """A quantity input in canonical units: the user's, else the GPU preset's (price, power), else None.

    Recorded for people in the input's display unit (inputs.INPUTS)."""
    unit, scale = INPUTS[key].display
    if key in given:
        value = float(_parsed(key, INPUTS[key].parse, given[key]))
        seen[key] = Assumption(float(f"{value / scale:.12g}"), unit, "user")  # rid of unit-conversion noise
        return value
    if preset is None:
        return None
    found: float | None = getattr(preset, key)
    if found is not None:
        seen[key] = r.cited(preset.entry, key, found / scale, unit)
    return found


def _parsed(key: str, parser: Any, value: Any, *what: Any) -> Any:
    """Run a parser, prefixing its error with the option name."""
    with prefixed(option(key)):
        return parser(value, *what)
