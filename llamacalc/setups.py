"""Setups: what `layout`, `memory`, `serve`, `fleet` and `train`'s extras are asked, read once into specs and numbers.

The one input path of the commands that plan no run's cost (resolve.py settles those that do, and
lends its rules here): option text is parsed here and only here; the house defaults (house.py)
stand in for the inputs a command takes and the user left out; presets are looked up by resolve.py's
rules (the GPU: given, the cluster's, the reported run's, the home cluster's, the default); and every
input's origin is recorded as an Assumption, which the JSON's `assumptions` and the reports show. The
estimates take what this returns and never read text or name a flag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from llamacalc import units
from llamacalc.errors import InputError, figure, named, prefixed
from llamacalc.flops import parameter_count
from llamacalc.footprint import RECOMPUTE_MODES, ZERO_STAGES, Layout
from llamacalc.house import DECIDES
from llamacalc.inputs import DEFAULTS, INPUTS, MAX_GPUS, MAX_PARAMS, MAX_SEQ_LEN, Assumption
from llamacalc.resolve import ASSUMED_SEQ_LEN, Resolver, bounded_number, chosen_gpu, home_cluster
from llamacalc.serving import KV_PRECISIONS
from llamacalc.specs import PRECISIONS, Architecture, Cluster, Hardware, Model

MAX_DEGREE = int(MAX_GPUS)  # a degree is at most the GPUs a run may have (inputs.py)
MAX_CONTEXT = 10_000_000  # tokens a served request: Llama 4 Scout's 10M context [S4]
MAX_BATCH = 100_000_000  # sequences a step
MAX_MICRO_BATCH = 1_000_000  # sequences: far past any that fits a GPU
MIN_PARAMS = 1e6  # below a million parameters nothing needs a layout or a GPU's memory counted
MAX_SERVED_TOKENS = 1e20  # a day's or a lifetime's serving: a hundred quintillion is far past any demand
MAX_CAPEX = 1e15  # USD: a thousand times a hyperscaler's yearly capex
DEGREE_KEYS = ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch")
SERVING_PRECISIONS = ("bf16", "fp8", "int8", "fp4")
# The inputs each command's setup reads, by name: the API's keywords and the CLI's options (a test checks).
READS = {
    "layout": (
        "model", "params", "gpu", "gpus", "cluster", "global_batch", "seq_len", "precision", *DEGREE_KEYS, "zero",
        "recompute",
    ),
    "memory": (
        "params", "gpu", "tp", "pp", "ep", "dp", "cp", "vp", "zero", "micro_batch", "global_batch", "seq_len",
        "recompute",
    ),
    "serve": (
        "gpu", "precision", "kv_cache", "tp", "ep", "batch", "max_tpot", "max_ttft", "input_tokens", "output_tokens",
        "tokens_per_day", "price",
    ),
    "fleet": ("capex", "life", "pue"),
}  # fmt: skip
# The inputs of INPUTS each command takes: the only house defaults that reach it.
TAKES = {
    "layout": ("gpu", "gpus", "cluster", "precision", "seq_len"),
    "memory": ("gpu", "seq_len"),
    "serve": ("gpu", "price"),
    "fleet": ("pue", "life"),
}


# --- reading text ---------------------------------------------------------------------------------


def whole(key: str, value: Any, what: str = "a parallel degree", most: float = MAX_DEGREE) -> int:
    """A whole number input, at least 1 and at most `most` (said before whether it is whole)."""
    with prefixed(named(key)):
        if (count := units.parse_count(value, what)) > most:
            raise InputError(f"at most {figure(most)}, got {figure(count)}")
        return units.parse_whole(value, what)


def parse_layout(text: str) -> dict[str, int]:
    """'tp8,pp16,dp128[,cp1,vp2,ep8]' → {'tp': 8, 'pp': 16, 'dp': 128, ...}."""
    found: dict[str, int] = {}
    for part in text.replace(" ", "").lower().split(","):
        match = re.fullmatch(r"(tp|pp|dp|cp|ep|vp)(\d{1,9})", part)
        if not match:
            raise InputError(
                f"{named('layout')}: expected 'auto' or degrees such as 'tp8,pp16,dp128' (tp, pp, dp, cp, ep, vp), "
                f"got '{text}'"
            )
        if match[1] in found:
            raise InputError(f"{named('layout')}: {match[1]} given twice in '{text}'")
        found[match[1]] = int(match[2])
        if found[match[1]] > MAX_DEGREE:
            raise InputError(f"{named('layout')}: {match[1]} at most {figure(MAX_DEGREE)}, got '{part}'")
        if found[match[1]] < 1:
            raise InputError(f"{named('layout')}: {match[1]} must be at least 1, got '{part}'")
    return found


class GlobalBatch(NamedTuple):
    """A global batch as given: a count of sequences, or of tokens (which a sequence length turns
    into sequences), with the count its digits make read in binary multiples ('16M' = 16 × 2^20)."""

    amount: float  # sequences, or tokens
    tokens: bool
    binary: int | None
    spelled: str

    def sequences(self, seq_len: int) -> tuple[int, str | None]:
        """Sequences of `seq_len` tokens, and a note when tokens were rounded to whole sequences or
        read in binary, as Llama 3's Table 4 writes 16M for 2,048 × 8,192."""
        if not self.tokens:
            return int(self.amount), None
        count, note = self.amount, None
        if count % seq_len and self.binary is not None and self.binary % seq_len == 0:
            count = self.binary
            note = (
                f"{self.spelled} read as {count:,} tokens (binary, as Llama 3's Table 4 writes 16M for 2,048 × 8,192)"
            )
        sequences = max(1, round(count / seq_len))
        if note is None and sequences * seq_len != count:
            note = f"{self.spelled} is {sequences:,} sequences of {seq_len:,} tokens ({sequences * seq_len:,} tokens)"
        if sequences > MAX_BATCH:
            raise InputError(f"{named('global_batch')}: at most {MAX_BATCH:,} sequences, got {figure(sequences)}")
        return sequences, note


_BINARY = {"K": 2**10, "k": 2**10, "M": 2**20, "G": 2**30, "B": 2**30}


def read_global_batch(value: Any) -> GlobalBatch:
    """Sequences in a global batch given as sequences ('2048') or tokens ('16M tokens')."""
    spelled = str(value).strip()
    with prefixed(named("global_batch")):
        tokens = re.fullmatch(r"(.+?)\s*(tokens?|tok)", spelled, re.IGNORECASE)
        if tokens is None:
            found = GlobalBatch(units.parse_whole(spelled, "a batch of sequences"), False, None, spelled)
        else:
            match = re.fullmatch(r"\s*(\d+)\s*([KkMGB])\s*", tokens[1])
            binary = int(match[1]) * _BINARY[match[2]] if match else None
            found = GlobalBatch(units.parse_count(tokens[1], "a token count"), True, binary, spelled)
    if not found.tokens and found.amount > MAX_BATCH:
        raise InputError(f"{named('global_batch')}: at most {MAX_BATCH:,} sequences, got {found.amount:,.0f}")
    return found


def fixed_choices(request: Mapping[str, Any]) -> dict[str, Any]:
    """The degrees, ZeRO stage and recomputation the user fixed, checked."""
    fixed: dict[str, Any] = {}
    for key in DEGREE_KEYS:
        if request.get(key) is not None:
            fixed[key] = (
                whole(key, request[key], "sequences a micro-batch", MAX_MICRO_BATCH)
                if key == "micro_batch"
                else whole(key, request[key])
            )
    if request.get("zero") is not None:
        fixed["zero"] = zero_stage(request["zero"])
    if request.get("recompute") is not None:
        fixed["recompute"] = recompute_mode(request["recompute"])
    return fixed


def zero_stage(value: Any) -> int:
    stage = str(value).strip()
    if stage not in {str(s) for s in ZERO_STAGES}:
        raise InputError(f"{named('zero')}: expected a ZeRO stage 0-3 (3 is FSDP), got '{value}'")
    return int(stage)


def recompute_mode(value: Any) -> str:
    if value not in RECOMPUTE_MODES:
        raise InputError(f"{named('recompute')}: expected {', '.join(RECOMPUTE_MODES)}, got '{value}'")
    return str(value)


def seq_len(value: Any) -> int:
    """A training sequence length, as given."""
    return whole("seq_len", value, "a sequence length", MAX_SEQ_LEN)  # as train's (inputs.py)


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(f"{named(key)}: expected one of {', '.join(choices)}, got '{value}'")
    return str(value)


def _is_number(value: Any) -> bool:
    """Whether a value is a number alone, with no unit: 20, 0.02, '20'."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _seconds(key: str, value: Any) -> float:
    """A short duration with its unit: a bare number, which a duration reads as days, is refused."""
    if _is_number(value):
        raise InputError(
            f"{named(key)}: give the unit, e.g. 20ms, 2s or 30min (a bare number would be days), got '{value}'"
        )
    with prefixed(named(key)):
        seconds = units.parse_quantity(value, units.DURATION)
    if not seconds > 0:
        raise InputError(f"{named(key)}: expected a positive duration, e.g. 20ms, got '{value}'")
    return seconds


def _count(key: str, value: Any, what: str, most: float) -> float:
    with prefixed(named(key)):
        found = units.parse_count(value, what)
    if found > most:
        raise InputError(f"{named(key)}: at most {figure(most)}, got '{value}'")
    return found


def read_inference_tokens(value: Any) -> float:
    """Tokens to serve over a model's life (`train --inference-tokens`)."""
    return _count("inference_tokens", value, "a token count", MAX_SERVED_TOKENS)


def recovery(checkpoint_every: Any, restart: Any) -> tuple[float, float] | None:
    """Hours between checkpoints and hours to restart, given together, or None (the Llama 3 calibration)."""
    if checkpoint_every is None and restart is None:
        return None
    if checkpoint_every is None or restart is None:
        raise InputError(f"{named('checkpoint_every')} and {named('restart')} go together")
    return _seconds("checkpoint_every", checkpoint_every) / units.HOUR, _seconds("restart", restart) / units.HOUR


def layout_choice(value: Any) -> dict[str, int]:
    """`train --layout`: 'auto' (no degrees fixed: all searched) or degrees ('tp8,pp16,dp128')."""
    text = str(value)
    return {} if text.strip().lower() == "auto" else parse_layout(text)


@dataclass(frozen=True)
class TrainExtras:
    """What `train` adds to a run, read: a layout to plan it with, goodput, serving after it."""

    layout: Mapping[str, int] | None = None  # the degrees fixed ({}: all searched); None: no layout
    global_batch: GlobalBatch | None = None
    goodput: bool = False
    recovery: tuple[float, float] | None = None  # hours between checkpoints and to restart
    inference_tokens: float | None = None


def train_extras(
    layout: Any = None,
    global_batch: Any = None,
    goodput: bool = False,
    checkpoint_every: Any = None,
    restart: Any = None,
    inference_tokens: Any = None,
) -> TrainExtras:
    """`train`'s inputs beyond the run's, read and checked together (the CLI's options, the API's keywords)."""
    if layout is None and global_batch is not None:
        raise InputError(f"{named('global_batch')} goes with {named('layout')}")
    if layout is not None and goodput:
        raise InputError(f"{named('layout')} includes goodput: drop {named('goodput')}")
    if not (goodput or layout is not None) and (checkpoint_every is not None or restart is not None):
        raise InputError(
            f"{named('checkpoint_every')} and {named('restart')} price interruptions: use them with "
            f"{named('goodput')} or {named('layout')}"
        )
    return TrainExtras(
        None if layout is None else layout_choice(layout),
        None if global_batch is None else read_global_batch(global_batch),
        goodput,
        recovery(checkpoint_every, restart),
        None if inference_tokens is None else read_inference_tokens(inference_tokens),
    )


# --- the house defaults ---------------------------------------------------------------------------


class _Given(NamedTuple):
    """A request with the house defaults a command takes, and which inputs those are."""

    request: dict[str, Any]
    housed: tuple[str, ...]


def _housed(resolver: Resolver, command: str, request: Mapping[str, Any]) -> _Given:
    given = {key: value for key, value in request.items() if value is not None}
    house = resolver.catalog.house
    if house is None:
        return _Given(given, ())
    degrees = all(
        key in given for key in ("tp", "pp", "dp")
    )  # they decide the count: a house count or cluster gives way
    return _Given(*house.applied(given, TAKES[command], decided=("gpus", *DECIDES["gpus"]) if degrees else ()))


def _labelled(resolver: Resolver, given: _Given, seen: Mapping[str, Assumption]) -> Mapping[str, Assumption]:
    house = resolver.catalog.house
    return seen if house is None or not given.housed else house.labelled(seen, given.housed)


def _hardware(
    resolver: Resolver, given: Mapping[str, Any], model: Model | None, cluster: Cluster | None, seen: dict
) -> Hardware:
    """The GPU by resolve.py's rules, recorded in `seen`."""
    hardware, seen["gpu"] = chosen_gpu(
        resolver, given, cluster, model.reported if model else None, home_cluster(resolver, model)
    )
    return hardware


# --- layout ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutSetup:
    """A layout search's question: the model on its GPUs, the batch, and what the user fixed."""

    model: Model  # with an architecture
    hardware: Hardware
    cluster: Cluster | None  # whose network the layout runs on
    gpus: int
    gpus_from: str  # how the GPU count was chosen, in words
    seq_len: int
    global_batch: int  # sequences
    precision: str
    fixed: Mapping[str, Any]  # the degrees and choices the user gave
    notes: tuple[str, ...]  # how the model was shaped and the batch read
    assumptions: Mapping[str, Assumption]


def layout_setup(resolver: Resolver, request: Mapping[str, Any]) -> LayoutSetup:
    """The `layout` request read: a model preset (or `params`, shaped as a Llama), its GPU, GPU count,
    sequence length, global batch and the degrees fixed."""
    given = _housed(resolver, "layout", request)
    g, catalog, notes = given.request, resolver.catalog, []
    seen: dict[str, Assumption] = {}
    if "params" in g:
        if g.get("model"):
            raise InputError(f"MODEL and {named('params')} conflict: a preset has its own size")
        with prefixed(named("params")):
            count = units.parse_count(g["params"], "a parameter count")
        if not MIN_PARAMS <= count <= MAX_PARAMS:
            raise InputError(f"{named('params')}: expected 1M to 1e15 parameters, got {figure(count)}")
        model, shape_note = shaped(resolver, count)
        notes.append(shape_note)
        seen["params"] = Assumption(count, "", "user")
    else:
        model = _model_with_arch(resolver, g.get("model"), "layout")
    assert model.arch is not None
    chosen = catalog.cluster(str(g["cluster"])) if "cluster" in g else None
    if chosen is not None and "gpu" in g and chosen.gpu != catalog.hardware(str(g["gpu"])).name:
        raise InputError(f"{named('gpu')} {g['gpu']} and {named('cluster')} {chosen.name} ({chosen.gpu}) conflict")
    hardware = _hardware(resolver, g, model, chosen, seen)
    cluster = network_cluster(resolver, model, hardware, chosen)
    precision = _training_precision(g, model, seen)
    seq, seen["seq_len"] = _seq_len(g, model, "layout")
    if "global_batch" not in g:
        raise InputError(f"layout needs {named('global_batch')}: sequences ('2048') or tokens ('16M tokens')")
    batch, batch_note = read_global_batch(g["global_batch"]).sequences(seq)
    seen["global_batch"] = Assumption(batch, "sequences", "user")
    notes += [batch_note] if batch_note else []
    fixed = fixed_choices(g)
    gpus, gpus_from, seen["gpus"] = _layout_gpus(g, fixed, cluster, model)
    if chosen is not None and gpus > chosen.gpus:
        raise InputError(
            f"{named('gpus')}: {gpus:,} GPUs ({gpus_from}) exceed cluster {chosen.name}'s {chosen.gpus:,}; "
            f"drop {named('cluster')} to plan a larger run"
        )
    if "gpus" in given.housed:
        gpus_from = "the config file's count"
    return LayoutSetup(
        model, hardware, cluster, gpus, gpus_from, seq, batch, precision, fixed, tuple(notes),
        _labelled(resolver, given, seen),
    )  # fmt: skip


SHAPE_HEAD = 128  # head size of the shaped decoder, as Llama 3's [S7 Table 3]


def shaped(resolver: Resolver, params: float) -> tuple[Model, str]:
    """A dense Llama-shaped decoder of about `params` parameters, for `params` without an
    architecture: the shipped dense preset nearest in size, its width and depth scaled alike by
    (N / N₀)^⅓, heads of 128, its KV heads and FFN ratio. An assumption, and said to be one."""
    catalog = resolver.catalog
    dense = [
        m for name in catalog.names("models")
        if (m := catalog.model(name)).arch is not None and not m.arch.is_moe and m.params and m.arch.seq_len
    ]  # fmt: skip
    if not dense:
        raise InputError(
            f"{named('params')}: no dense model preset with an architecture to shape it from; use {named('config')}"
        )
    base = min(reversed(dense), key=lambda m: abs(math.log(params / (m.params or 1.0))))  # the newest of equals
    arch = base.arch
    assert arch is not None and base.params is not None
    scale = (params / base.params) ** (1 / 3)
    # heads in multiples of 8, so that TP of 1-8 divides them, and 8 KV heads where they allow it
    heads = max(8, round(arch.d_model * scale / SHAPE_HEAD / 8) * 8)
    kv = math.gcd(heads, max(8, arch.kv_heads))
    ffn = max(256, round(arch.ffn / arch.d_model * heads * SHAPE_HEAD / 256) * 256)
    layers = max(1, round(arch.layers * scale))
    new = arch._replace(layers=layers, d_model=heads * SHAPE_HEAD, heads=heads, kv_heads=kv, ffn=ffn, head_size=0)
    size = f"{params / 1e9:,.3g}B" if params < 1e12 else f"{params / 1e12:,.3g}T"
    note = (
        f"assumption: {size} parameters shaped as {base.name} scaled by (N/N₀)^⅓: {layers} layers, "
        f"d_model {heads * SHAPE_HEAD:,}, {heads} heads ({kv} KV), FFN {ffn:,}; "
        f"give {named('config')} for the real shape"
    )
    model = base._replace(
        name=f"{size} (shaped)", title=f"{size} dense decoder (shaped)",
        params=float(parameter_count(new)), active_params=float(parameter_count(new)), arch=new,
        reported=None, cluster=None, global_batch=None,
    )  # fmt: skip
    return model, note


def _model_with_arch(resolver: Resolver, name: Any, command: str) -> Model:
    if not name:
        raise InputError(f"{command} needs a MODEL preset, {named('config')} config.json or {named('params')}")
    model = resolver.catalog.model(str(name))
    if model.arch is None:
        raise InputError(f"MODEL: {model.name} has no architecture (layers, d_model, ...); the step model needs one")
    return model


def network_cluster(resolver: Resolver, model: Model, hardware: Hardware, chosen: Cluster | None) -> Cluster | None:
    """The cluster whose network a layout runs on: the one chosen, else the model's home cluster, if it
    is of this GPU (another GPU's network does not apply)."""
    cluster = chosen or home_cluster(resolver, model)
    return cluster if cluster is not None and cluster.gpu == hardware.name else None


def _training_precision(g: Mapping[str, Any], model: Model, seen: dict[str, Assumption]) -> str:
    if "precision" in g:
        seen["precision"] = Assumption(_choice("precision", g["precision"], PRECISIONS), "", "user")
    elif model.precision:
        seen["precision"] = Assumption(model.precision, "", "preset", model.entry.source_of("precision"))
    else:
        seen["precision"] = DEFAULTS["precision"]
    return str(seen["precision"].value)


def _seq_len(g: Mapping[str, Any], model: Model, command: str) -> tuple[int, Assumption]:
    if "seq_len" in g:
        found = seq_len(g["seq_len"])
        return found, Assumption(found, "tokens", "user")
    if model.arch is not None and model.arch.seq_len:
        return model.arch.seq_len, Assumption(model.arch.seq_len, "tokens", "preset", model.entry.source_of("seq_len"))
    raise InputError(f"{command}: the preset gives no training sequence length; pass {named('seq_len')}")


def _layout_gpus(
    g: Mapping[str, Any], fixed: Mapping[str, Any], cluster: Cluster | None, model: Model
) -> tuple[int, str, Assumption]:
    """The GPU count, how it was chosen in words, and its Assumption: given, the degrees' product,
    the cluster's, the reported run's."""
    if "gpus" in g:
        gpus = whole("gpus", g["gpus"], "a GPU count")
        return gpus, "the count given", Assumption(gpus, "", "user")
    if all(key in fixed for key in ("tp", "pp", "dp")):
        gpus = math.prod(fixed.get(key, 1) for key in ("tp", "pp", "dp", "cp"))
        return gpus, "the layout's degrees", Assumption(gpus, "", "derived", "the product of the degrees given")
    if cluster is not None:
        source = cluster.entry.source_of("gpus")
        return cluster.gpus, f"cluster {cluster.name}", Assumption(cluster.gpus, "", "preset", source)
    if model.reported and model.reported.gpus:
        gpus = model.reported.gpus
        return gpus, f"{model.name}'s reported run", Assumption(gpus, "", "preset", model.reported.source)
    raise InputError(
        f"layout needs {named('gpus')} (or {named('tp')}, {named('pp')} and {named('dp')}, or a {named('cluster')})"
    )


# --- memory ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemorySetup:
    """A memory question: a model's size (and architecture, for activations) under a layout on a GPU."""

    model: Model | None
    params: float
    arch: Architecture | None  # None: states only
    hardware: Hardware
    layout: Layout  # zero: the stage given, else 1 until the estimate picks the lowest that fits
    zero_given: bool
    seq_len: int | None  # None: states only
    global_batch: int | None  # sequences a step, if given
    notes: tuple[str, ...]
    assumptions: Mapping[str, Assumption]


def memory_setup(resolver: Resolver, model: str | None, request: Mapping[str, Any]) -> MemorySetup:
    """The `memory` request read: a preset (or `params` alone: states only), its GPU and layout."""
    given = _housed(resolver, "memory", request)
    g, catalog, seen = given.request, resolver.catalog, dict[str, Assumption]()
    found = catalog.model(model) if model else None
    if "params" in g:
        if found is not None:
            raise InputError(f"MODEL and {named('params')} conflict: a preset has its own size")
        n = _count("params", g["params"], "a parameter count", MAX_PARAMS)
        if n < MIN_PARAMS:
            raise InputError(f"{named('params')}: expected 1M to 1e15 parameters, got {figure(n)}")
        seen["params"] = Assumption(n, "", "user")
    elif found is not None and found.params:
        n = found.params
        seen["params"] = Assumption(n, "", "preset", found.entry.source_of("params"))
    else:
        raise InputError(f"memory needs a MODEL preset with params, or {named('params')}")
    tp, pp, ep, dp, cp, vp = (whole(key, g[key]) if key in g else 1 for key in ("tp", "pp", "ep", "dp", "cp", "vp"))
    micro = (
        whole("micro_batch", g["micro_batch"], "sequences a micro-batch", MAX_MICRO_BATCH) if "micro_batch" in g else 1
    )
    layout = Layout(
        tp=tp, pp=pp, ep=ep, dp=dp, cp=cp, vp=vp, zero=zero_stage(g["zero"]) if "zero" in g else 1,
        micro_batch=micro, recompute=recompute_mode(g["recompute"]) if "recompute" in g else "selective",
    )  # fmt: skip
    arch = found.arch if found is not None and "params" not in g else None
    activations = ("seq_len", "global_batch", "micro_batch", "recompute")
    if arch is None and (unread := [key for key in activations if key in g and key not in given.housed]):
        raise InputError(
            f"{named(unread[0])} sizes activations, which need the model's architecture: give a MODEL preset "
            f"with one (with {named('params')} alone, memory counts the training state only)"
        )
    seq: int | None = None
    notes: tuple[str, ...] = ()
    if "seq_len" in g:
        seq = seq_len(g["seq_len"])
        seen["seq_len"] = Assumption(seq, "tokens", "user")
    elif arch is not None and arch.seq_len:
        seq = arch.seq_len
        seen["seq_len"] = Assumption(seq, "tokens", "preset", found.entry.source_of("seq_len") if found else "")
    elif arch is not None:
        seq = ASSUMED_SEQ_LEN
        seen["seq_len"] = Assumption(seq, "tokens", "default", "assumption: Llama 3's 8K pre-training [S7 §3.4.1]")
        notes = (
            f"activations at sequences of {ASSUMED_SEQ_LEN:,} tokens, assumed (Llama 3's 8K pre-training "
            "[S7 §3.4.1]): the preset gives no training sequence length; give one to replace it",
        )
    hardware = _hardware(resolver, g, found, None, seen)
    if hardware.memory is None:
        raise InputError(f"{named('gpu')}: {hardware.name} has no memory figure")
    batch = read_global_batch(g["global_batch"]).sequences(seq or 1)[0] if "global_batch" in g else None
    return MemorySetup(
        found, n, arch, hardware, layout, "zero" in g, seq, batch, notes, _labelled(resolver, given, seen)
    )


# --- serve ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeSetup:
    """A serving question: a model on a GPU at a precision, the requests, the load or latency targets."""

    model: Model  # with an architecture
    hardware: Hardware
    precision: str  # the weights'
    kv: str | None  # the KV cache's elements (None: as the weights, serve.default_kv)
    tp: int | None  # None: the fewest GPUs that hold it
    ep: int
    input: int  # tokens a request
    output: int
    concurrency: int | None  # None: the most the KV cache holds
    max_tpot: float | None  # seconds
    max_ttft: float | None
    tokens_per_day: float | None
    price: float | None  # USD per GPU-second; None: the GPU preset's
    assumptions: Mapping[str, Assumption]


def serve_setup(resolver: Resolver, model_name: str, request: Mapping[str, Any]) -> ServeSetup:
    """The `serve` request read: the model, its GPU, precision, replica, request lengths and load."""
    given = _housed(resolver, "serve", request)
    g, seen = given.request, dict[str, Assumption]()
    model = resolver.catalog.model(model_name)
    if model.arch is None:
        raise InputError(f"MODEL: {model.name} has no architecture (layers, d_model, ...): serving needs one")
    hardware = _hardware(resolver, g, model, None, seen)
    if hardware.memory is None or hardware.bandwidth is None:
        raise InputError(f"{named('gpu')}: {hardware.name} has no memory or bandwidth figure; serving needs both")
    precision = _choice("precision", g.get("precision", "bf16"), SERVING_PRECISIONS)
    hardware.peak(precision)
    kv = _choice("kv_cache", g["kv_cache"], KV_PRECISIONS) if "kv_cache" in g else None
    lengths = {key: whole(key, g[key], "a token count", MAX_CONTEXT) if key in g else 1000
               for key in ("input_tokens", "output_tokens")}  # fmt: skip
    max_tpot = _seconds("max_tpot", g["max_tpot"]) if "max_tpot" in g else None
    max_ttft = _seconds("max_ttft", g["max_ttft"]) if "max_ttft" in g else None
    batch = g.get("batch")
    if (max_tpot is not None or max_ttft is not None) and batch not in (None, "max"):
        raise InputError(
            f"{named('batch')}: give a concurrency or latency targets ({named('max_tpot')}, {named('max_ttft')}), "
            "not both"
        )
    demand = None
    if "tokens_per_day" in g:
        demand = _count("tokens_per_day", g["tokens_per_day"], "a token count", MAX_SERVED_TOKENS)
    price = None
    if "price" in g:
        with prefixed(named("price")):
            price = INPUTS["price"].parse(g["price"])
        seen["price"] = Assumption(price / INPUTS["price"].display[1], INPUTS["price"].display[0], "user")
    return ServeSetup(
        model, hardware, precision, kv, whole("tp", g["tp"]) if "tp" in g else None,
        whole("ep", g["ep"]) if "ep" in g else 1, lengths["input_tokens"], lengths["output_tokens"],
        None if batch in (None, "max") else whole("batch", batch, "a whole number"), max_tpot, max_ttft,
        demand, price, _labelled(resolver, given, seen),
    )  # fmt: skip


def serving(model: Model, hardware: Hardware, precision: str = "bf16", input: int = 1000,
            output: int = 1000) -> ServeSetup:  # fmt: skip
    """A serving setup from specs, for estimates that serve a model they already hold: at the largest
    batch, the GPU preset's price."""
    return ServeSetup(model, hardware, precision, None, None, 1, input, output, None, None, None, None, None, {})


# --- fleet ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FleetSetup:
    """A fleet question: a cluster preset, what was spent on it, its life and its data centre's PUE."""

    cluster: Cluster
    capex: float | None  # USD; None: the preset's, if any
    capex_given: str | None  # the capex as the user wrote it, for its source
    life: float | None  # seconds of straight-line life; None: Epoch's depreciation rate
    pue: float
    assumptions: Mapping[str, Assumption]  # the PUE's and life's


def fleet_setup(resolver: Resolver, cluster_name: str, request: Mapping[str, Any]) -> FleetSetup:
    """The `fleet` request read: the cluster, a capex given, a life and a PUE."""
    given = _housed(resolver, "fleet", request)
    g = given.request
    cluster = resolver.catalog.cluster(cluster_name, "CLUSTER")
    capex = None
    if "capex" in g:
        with prefixed(named("capex")):
            capex = units.parse_quantity(g["capex"], units.MONEY)
        if capex > MAX_CAPEX:
            raise InputError(f"{named('capex')}: at most {figure(MAX_CAPEX)} USD, got '{g['capex']}'")
        if capex < 0:
            raise InputError(f"{named('capex')}: expected 0 USD or more, got '{g['capex']}'")
    seen: dict[str, Assumption] = {}
    life = None
    if "life" in g:
        with prefixed(named("life")):
            life = INPUTS["life"].parse(g["life"])
        seen["life"] = Assumption(life / units.YEAR, "years", "user", "the life given: straight line")
    pue = bounded_number(g, seen, "pue", DEFAULTS["pue"], low=1.0)
    return FleetSetup(
        cluster, capex, None if capex is None else str(g["capex"]), life, pue, _labelled(resolver, given, seen)
    )
