"""The `layout` estimate: how to split a run over its GPUs, with its step time, MFU and memory.

Given every degree, it evaluates that layout; given some, it searches the rest (layouts.py) and
returns the fastest few that fit in memory. When nothing fits it says what would: the fewest GPUs
at this sequence length, or the longest sequence at these GPUs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamacalc import units
from llamacalc.catalog import Catalog
from llamacalc.errors import InputError, named, prefixed
from llamacalc.flops import parameter_count
from llamacalc.footprint import ALLOWANCE_SOURCE, GIB, RECOMPUTE_MODES, ZERO_STAGES, allowance, memory_per_gpu, usable
from llamacalc.inputs import DEFAULTS
from llamacalc.layouts import Candidate, Problem, candidates, problem_for, search
from llamacalc.specs import PRECISIONS, Architecture, Cluster, Hardware, Model, StepModel

MAX_GPUS = 10_000_000  # ten times the largest cluster announced; a search past it is a typo
MAX_SEQ_LEN = 10_000_000
MAX_BATCH = 100_000_000  # sequences
DEGREE_KEYS = ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch")
FABRIC_KEYS = (
    "scale_up_domain", "scale_up_bandwidth", "scale_up_efficiency", "scale_out_bandwidth", "scale_out_efficiency",
    "gemm_bf16", "gemm_fp8", "attention_bf16", "memory",
)  # fmt: skip


@dataclass(frozen=True)
class LayoutResult:
    """The best layouts of one run that fit, best first, and what they were chosen from."""

    SCHEMA = "layout"  # its document's JSON Schema (llamacalc schema layout)

    model: Model
    hardware: Hardware
    cluster: Cluster | None
    gpus: int
    gpus_from: str  # how the GPU count was chosen
    seq_len: int
    global_batch: int  # sequences
    precision: str
    fixed: Mapping[str, Any]  # the degrees and choices the user gave
    layouts: tuple[Candidate, ...]
    tried: int
    step_model: StepModel
    notes: tuple[str, ...]  # assumptions the answer rests on, in words

    @property
    def best(self) -> Candidate:
        return self.layouts[0]

    @property
    def allowance(self) -> float:
        assert self.hardware.memory is not None
        return allowance(self.hardware.memory)


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
        if found[match[1]] < 1:
            raise InputError(f"{named('layout')}: {match[1]} must be at least 1, got '{part}'")
    return found


def global_batch(text: Any, seq_len: int) -> tuple[int, str | None]:
    """Sequences in a global batch given as sequences ('2048') or tokens ('16M tokens'), and a note
    when tokens were rounded to whole sequences."""
    with prefixed(named("global_batch")):
        spelled = str(text).strip()
        tokens = re.fullmatch(r"(.+?)\s*(tokens?|tok)", spelled, re.IGNORECASE)
        if tokens is None:
            sequences = units.parse_whole(spelled, "a batch of sequences")
            note = None
        else:
            count = units.parse_count(tokens[1], "a token count")
            binary = _binary(tokens[1])
            if count % seq_len and binary is not None and binary % seq_len == 0:
                count = binary  # '16M tokens' as Llama 3 writes it: 16 × 2^20, 2,048 sequences of 8,192
            sequences = max(1, round(count / seq_len))
            note = None if sequences * seq_len == count else (
                f"{spelled} is {sequences:,} sequences of {seq_len:,} tokens ({sequences * seq_len:,} tokens)"
            )  # fmt: skip
            if count == binary and binary != units.parse_count(tokens[1], "a token count"):
                note = f"{spelled} read as {count:,} tokens (binary, as Llama 3's Table 4 writes 16M for 2,048 × 8,192)"
    if sequences > MAX_BATCH:
        raise InputError(f"{named('global_batch')}: at most {MAX_BATCH:,} sequences, got {sequences:,}")
    return sequences, note


_BINARY = {"K": 2**10, "k": 2**10, "M": 2**20, "G": 2**30, "B": 2**30}


def _binary(text: str) -> int | None:
    """'16M' read with binary multiples (16 × 2^20), when it is a whole number and a multiple."""
    match = re.fullmatch(r"\s*(\d+)\s*([KkMGB])\s*", text)
    return int(match[1]) * _BINARY[match[2]] if match else None


def fixed_choices(request: Mapping[str, Any]) -> dict[str, Any]:
    """The degrees, ZeRO stage and recomputation the user fixed, checked."""
    fixed: dict[str, Any] = {}
    for key in DEGREE_KEYS:
        if request.get(key) is not None:
            with prefixed(named(key)):
                fixed[key] = units.parse_whole(request[key], "a parallel degree")
            if fixed[key] > MAX_GPUS:
                raise InputError(f"{named(key)}: at most {MAX_GPUS:,}, got {fixed[key]:,}")
    if request.get("zero") is not None:
        zero = str(request["zero"]).strip()
        if zero not in {str(stage) for stage in ZERO_STAGES}:
            raise InputError(f"{named('zero')}: expected a ZeRO stage 0-3 (3 is FSDP), got '{request['zero']}'")
        fixed["zero"] = int(zero)
    if request.get("recompute") is not None:
        if request["recompute"] not in RECOMPUTE_MODES:
            raise InputError(
                f"{named('recompute')}: expected {', '.join(RECOMPUTE_MODES)}, got '{request['recompute']}'"
            )
        fixed["recompute"] = request["recompute"]
    return fixed


def estimate_layout(catalog: Catalog, request: Mapping[str, Any], keep: int = 5) -> LayoutResult:
    """The best `keep` layouts of a model preset on `gpus` GPUs for a global batch."""
    shape_note = None
    if request.get("params") is not None:
        if request.get("model"):
            raise InputError(f"MODEL and {named('params')} conflict: a preset has its own size")
        with prefixed(named("params")):
            count = units.parse_count(request["params"], "a parameter count")
        if not 1e6 <= count <= 1e15:
            raise InputError(f"{named('params')}: expected 1M to 1e15 parameters, got {count:.3g}")
        model, shape_note = shaped(catalog, count)
    else:
        model = _model(catalog, request.get("model"))
    assert model.arch is not None
    arch = model.arch
    chosen = catalog.cluster(request["cluster"]) if request.get("cluster") else None
    home = chosen or _home(catalog, model)
    hardware = catalog.hardware(request.get("gpu") or (home.gpu if home else None) or _reported_gpu(model))
    cluster = network_cluster(catalog, model, hardware, chosen)
    given = request.get("precision")
    precision = given if given is not None else model.precision or str(DEFAULTS["precision"].value)
    if precision not in PRECISIONS:
        raise InputError(f"{named('precision')}: expected {' or '.join(PRECISIONS)}, got '{precision}'")
    seq_len = _seq_len(request, model)
    if request.get("global_batch") is None:
        raise InputError(f"layout needs {named('global_batch')}: sequences ('2048') or tokens ('16M tokens')")
    batch, batch_note = global_batch(request["global_batch"], seq_len)
    fixed = fixed_choices(request)
    gpus, gpus_from = _gpus(request, fixed, cluster, model)
    problem = problem_for(arch, seq_len, batch, gpus, hardware, cluster, catalog.step_model(), precision)
    _check_fixed(problem, fixed)
    found, tried, closest = search(problem, fixed, keep)
    if not found:
        raise InputError(nothing_fits(problem, fixed, tried, closest))
    notes = [ALLOWANCE_SOURCE, *([shape_note] if shape_note else [])]
    if batch_note:
        notes.append(batch_note)
    notes += [
        f"{hardware.name} {key.replace('_', ' ')}: {hardware.entry.source_of(key)}"
        for key in FABRIC_KEYS
        if key in hardware.entry.fields and hardware.entry.is_assumption(key)
    ]
    return LayoutResult(
        model, hardware, cluster, gpus, gpus_from, seq_len, batch, precision, fixed, tuple(found), tried,
        problem.model, tuple(notes),
    )  # fmt: skip


SHAPE_HEAD = 128  # head size of the shaped decoder, as Llama 3's [S7 Table 3]


def shaped(catalog: Catalog, params: float) -> tuple[Model, str]:
    """A dense Llama-shaped decoder of about `params` parameters, for --params without an
    architecture: the shipped dense preset nearest in size, its width and depth scaled alike by
    (N / N₀)^⅓, heads of 128, its KV heads and FFN ratio. An assumption, and said to be one."""

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


def _model(catalog: Catalog, name: Any) -> Model:
    if not name:
        raise InputError(f"layout needs a MODEL preset, {named('config')} config.json or {named('params')}")
    model = catalog.model(str(name))
    if model.arch is None:
        raise InputError(f"MODEL: {model.name} has no architecture (layers, d_model, ...); the step model needs one")
    return model


def _home(catalog: Catalog, model: Model) -> Cluster | None:
    return catalog.cluster(model.cluster, model.entry.where("cluster")) if model.cluster else None


def network_cluster(catalog: Catalog, model: Model, hardware: Hardware, chosen: Cluster | None) -> Cluster | None:
    """The cluster whose network a layout runs on: the one chosen, else the model's home cluster, if it
    is of this GPU (another GPU's network does not apply); a chosen cluster of another GPU conflicts."""
    cluster = chosen or _home(catalog, model)
    if cluster is None or cluster.gpu == hardware.name:
        return cluster
    if chosen is not None:
        raise InputError(
            f"{named('gpu')} {hardware.name} and {named('cluster')} {cluster.name} ({cluster.gpu}) conflict"
        )
    return None


def _reported_gpu(model: Model) -> str:
    return model.reported.gpu if model.reported and model.reported.gpu else str(DEFAULTS["gpu"].value)


def _seq_len(request: Mapping[str, Any], model: Model) -> int:
    if request.get("seq_len") is not None:
        with prefixed(named("seq_len")):
            seq = units.parse_whole(request["seq_len"], "a sequence length")
    elif model.arch is not None and model.arch.seq_len:
        seq = model.arch.seq_len
    else:
        raise InputError(f"layout: the preset gives no training sequence length; pass {named('seq_len')}")
    if seq > MAX_SEQ_LEN:
        raise InputError(f"{named('seq_len')}: at most {MAX_SEQ_LEN:,} tokens, got {seq:,}")
    return seq


def _gpus(
    request: Mapping[str, Any], fixed: Mapping[str, Any], cluster: Cluster | None, model: Model
) -> tuple[int, str]:
    """The GPU count and how it was chosen: given, the product of the degrees, the cluster's."""
    if request.get("gpus") is not None:
        with prefixed(named("gpus")):
            gpus = units.parse_whole(request["gpus"], "a GPU count")
        if gpus > MAX_GPUS:
            raise InputError(f"{named('gpus')}: at most {MAX_GPUS:,}, got {gpus:,}")
        return gpus, "the count given"
    if all(key in fixed for key in ("tp", "pp", "dp")):
        return math.prod(fixed.get(key, 1) for key in ("tp", "pp", "dp", "cp")), "the layout's degrees"
    if cluster is not None:
        return cluster.gpus, f"cluster {cluster.name}"
    if model.reported and model.reported.gpus:
        return model.reported.gpus, f"{model.name}'s reported run"
    raise InputError(
        f"layout needs {named('gpus')} (or {named('tp')}, {named('pp')} and {named('dp')}, or a {named('cluster')})"
    )


def _check_fixed(problem: Problem, fixed: Mapping[str, Any]) -> None:
    """Degrees that cannot multiply to the GPUs, or that the model's shape forbids, named plainly."""
    product = math.prod(fixed.get(key, 1) for key in ("tp", "pp", "dp", "cp"))
    if problem.gpus % product or (all(k in fixed for k in ("tp", "pp", "dp")) and product != problem.gpus):
        given = " × ".join(f"{key} {fixed[key]}" for key in ("tp", "pp", "dp", "cp") if key in fixed)
        raise InputError(f"the degrees ({given} = {product:,}) do not divide {named('gpus')} {problem.gpus:,}")
    check_degrees(problem.arch, problem.seq_len, fixed)


def check_degrees(arch: Architecture, seq_len: int | None, fixed: Mapping[str, Any]) -> None:
    """Degrees the model's shape forbids, named plainly: TP must divide the heads, PP and its virtual
    stages fit in the layers, EP must divide the experts; CP needs two chunks a rank."""
    tp, pp, vp, ep, cp = (int(fixed.get(key, 1)) for key in ("tp", "pp", "vp", "ep", "cp"))
    if tp > 1 and arch.heads % tp:
        raise InputError(f"{named('tp')}: {tp} does not divide the model's {arch.heads} attention heads")
    if pp > arch.layers:
        raise InputError(f"{named('pp')}: {pp} stages for {arch.layers} layers; at most {arch.layers}")
    if vp > 1 and "pp" in fixed:
        if pp == 1:
            raise InputError(f"{named('vp')}: virtual stages interleave a pipeline; give {named('pp')} 2 or more")
        if pp * vp > arch.layers:
            raise InputError(
                f"{named('vp')}: {pp} stages × {vp} virtual stages exceed the model's {arch.layers} layers"
            )
    if ep > 1 and (not arch.is_moe or arch.experts % ep):
        raise InputError(f"{named('ep')}: {ep} must divide the model's experts ({arch.experts or 'none: it is dense'})")
    if cp > 1 and seq_len is not None and seq_len < 2 * cp:
        raise InputError(f"{named('cp')}: {cp} ranks need sequences of at least {2 * cp} tokens, got {seq_len}")


def nothing_fits(problem: Problem, fixed: Mapping[str, Any], tried: int, closest: Candidate | None) -> str:
    if tried == 0:
        given = ", ".join(f"{named(key)} {value}" for key, value in fixed.items()) or "no degrees given"
        return (
            f"no layout of {problem.gpus:,} GPUs fits a global batch of {problem.global_batch:,} sequences with "
            f"{given}: DP × micro-batch must divide the batch, and with {named('vp')} the micro-batches must be "
            "a multiple "
            "of PP"
        )
    room = usable(problem.hbm) / GIB
    least = f"; the least memory is {closest.memory.total / GIB:.1f} GiB of {room:.1f} GiB usable" if closest else ""
    hints = []
    gpus = fewest_gpus(problem, fixed)
    if gpus is not None:
        hints.append(f"{gpus:,} GPUs would fit")
    seq = longest_sequence(problem, fixed)
    if seq is not None:
        hints.append(f"sequences of {seq:,} tokens would fit on {problem.gpus:,}")
    advice = f"; {' or '.join(hints)}" if hints else ""
    return f"no layout of {problem.gpus:,} GPUs fits in {problem.hbm / GIB:,.1f} GiB per GPU{least}{advice}"


def _fits_any(problem: Problem, fixed: Mapping[str, Any]) -> bool:
    room = usable(problem.hbm)
    for layout in candidates(problem, fixed):
        m = problem.global_batch // (layout.dp * layout.micro_batch)
        if memory_per_gpu(problem.params, problem.arch, problem.seq_len, layout, m).total <= room:
            return True
    return False


def fewest_gpus(problem: Problem, fixed: Mapping[str, Any]) -> int | None:
    """The fewest GPUs (doubling from the asked count) at which some layout fits; the batch grows to
    keep every DP rank busy if it must."""
    free = {key: value for key, value in fixed.items() if key != "dp"}
    gpus = problem.gpus * 2
    while gpus <= MAX_GPUS:
        batch = max(problem.global_batch, gpus)
        if _fits_any(problem._replace(gpus=gpus, global_batch=batch), free):
            return gpus
        gpus *= 2
    return None


def longest_sequence(problem: Problem, fixed: Mapping[str, Any]) -> int | None:
    """The longest sequence (halving from the asked length, at least 128) that fits on these GPUs."""
    seq = problem.seq_len // 2
    while seq >= 128:
        if _fits_any(problem._replace(seq_len=seq), fixed):
            return seq
        seq //= 2
    return None
