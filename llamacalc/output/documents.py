"""JSON documents: dicts for `json.dumps`, one schema each (llamacalc/schemas/), and CSV rows.

Keys name their unit (`cost_usd`, `energy_mwh`); numbers stay numbers; `null` where a value cannot
be known. No rich here: `--json` and `batch` never import it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import llamacalc.fastpath as fastpath
from llamacalc.output.fields import Field, below
from llamacalc.output.numbers import count, flops
from llamacalc.output.render import renderer, renders
from llamacalc.units import DAY, HOUR, MWH

if TYPE_CHECKING:  # types only: `train --json` and `batch` import none of these modules
    from llamacalc.catalog import Catalog
    from llamacalc.estimates.backtest import Backtest
    from llamacalc.estimates.checks import Check
    from llamacalc.estimates.fleet import Fleet
    from llamacalc.estimates.layout import LayoutResult
    from llamacalc.estimates.memory import MemoryEstimate
    from llamacalc.estimates.plan import InferenceAware, InferencePlan, LossReport, OptimalPlan, Overtraining
    from llamacalc.estimates.serve import ServeEstimate, ServingBacktest
    from llamacalc.estimates.steps import StepBacktest
    from llamacalc.estimates.sweep import Sweep
    from llamacalc.estimates.train import (
        Compared,
        Comparison,
        Conventions,
        LayoutJoin,
        Range,
        TrainReport,
        TrainResult,
    )
    from llamacalc.fit import Fit
    from llamacalc.goodput import Goodput
    from llamacalc.inputs import Assumption
    from llamacalc.layouts import Candidate
    from llamacalc.resolve import Resolved
    from llamacalc.scaling import Split
    from llamacalc.specs import Efficiency, Entry


TRAIN_SCHEMA = "llamacalc.train/1"


# Inputs that count whole things (parameters, tokens, GPUs, tokens a sequence): JSON integers, in the
# documents' figures and in their assumptions' values.
WHOLE = frozenset({"params", "active_params", "tokens", "gpus", "seq_len"})


def _whole(count: Any) -> Any:
    """A count whole by nature as an integer: `16.13B` reads as 16.13 × 1e9 = 16129999999.999998,
    written 16130000000; an optimum of 13362856972.8 parameters, 13362856973. None stays None."""
    try:
        return round(count)
    except (TypeError, ValueError, OverflowError):  # None; a non-finite figure, which the encoder refuses
        return count


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _scaled(value: float | None, unit: float) -> float | None:
    return None if value is None else value / unit


def assumptions_document(assumptions: Mapping[str, Assumption]) -> dict[str, Any]:
    return {name: _assumption_dict(a, name in WHOLE) for name, a in assumptions.items()}


# Range names in JSON, and each one's display scale (canonical units per JSON unit).
RANGE_KEYS = {
    "mfu": "mfu", "gpus": "gpus", "seconds": "days", "gpu_seconds": "gpu_hours",
    "cost": "cost_usd", "energy": "energy_mwh", "co2": "co2_t", "price": "price_usd_per_gpu_hour",
}  # fmt: skip
_RANGE_SCALES = {"seconds": DAY, "gpu_seconds": HOUR, "energy": MWH, "co2": 1000.0, "price": 1 / HOUR}


def _in_json_units(band: Range, key: str) -> tuple[float, float, float]:
    scale = _RANGE_SCALES.get(key)
    if scale is None:  # a fraction, or a GPU count that stays whole
        return band.p10, band.p50, band.p90
    return band.p10 / scale, band.p50 / scale, band.p90 / scale


def _range(band: Range, key: str) -> dict[str, float]:
    return dict(zip(("p10", "p50", "p90"), _in_json_units(band, key), strict=True))


def _reported(r: Comparison | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "gpu": r.gpu, "gpus": r.gpus, "gpu_hours": r.gpu_hours, "co2_t": r.co2_t, "implied_mfu": r.implied_mfu,
        "source": r.source,
    }  # fmt: skip


# The train document's keys, in order, each with how to read it from a result: one table that both
# the whole document and a --fields projection (which reads only the keys it names) are built from.
TRAIN_KEYS: Mapping[str, Callable[[TrainResult], Any]] = {
    "schema": lambda t: TRAIN_SCHEMA,
    "model": lambda t: t.resolved.model.name if t.resolved.model else None,
    "gpu": lambda t: t.resolved.hardware.name,
    "precision": lambda t: t.resolved.precision,
    "params": lambda t: _whole(t.resolved.params),
    "active_params": lambda t: _whole(t.resolved.active_params),
    "tokens": lambda t: _whole(t.resolved.tokens),
    "flops": lambda t: t.budget.flops,
    "flops_convention": lambda t: t.resolved.convention,
    "flops_per_token": lambda t: t.resolved.flops_per_token,
    "peak_flops_per_gpu": lambda t: t.resolved.peak,
    "mfu": lambda t: t.resolved.mfu,
    "gpus": lambda t: t.budget.gpus,
    "days": lambda t: t.budget.seconds / DAY,
    "gpu_hours": lambda t: t.budget.gpu_seconds / HOUR,
    "price_usd_per_gpu_hour": lambda t: _scaled(t.resolved.price, 1 / HOUR),
    "cost_usd": lambda t: _finite(t.budget.cost),
    "power_w_per_gpu": lambda t: t.resolved.power,
    "pue": lambda t: t.resolved.pue,
    "carbon_kg_per_kwh": lambda t: t.resolved.assumptions["carbon"].value,  # as given, in kg/kWh
    "energy_mwh": lambda t: _scaled(t.budget.energy, MWH),
    "co2_t": lambda t: _scaled(t.budget.co2, 1000),
    "pricing": lambda t: t.resolved.pricing,
    "cost_breakdown_usd": lambda t: None if t.cost_parts is None else dict(t.cost_parts),
    "facility_mw": lambda t: _scaled(t.facility_watts, 1e6),
    "ranges": lambda t: {RANGE_KEYS[key]: _range(band, key) for key, band in t.ranges.items()},
    "extrapolation": lambda t: list(t.resolved.extrapolation),
    "reported": lambda t: _reported(t.reported),
    "assumptions": lambda t: assumptions_document(t.resolved.assumptions),
}


def train_document(result: TrainResult, assumptions: bool = True, ranges: bool = True) -> dict[str, Any]:
    """The `train --json` document: schema llamacalc.train/1 (`assumptions` last; "ranges" null
    without `ranges`, for train_json to write)."""
    return {
        key: None if key == "ranges" and not ranges else get(result)
        for key, get in TRAIN_KEYS.items()
        if assumptions or key != "assumptions"
    }


def train_json(result: TrainResult, extra: Mapping[str, Any] | None = None) -> str:
    """`train_document(result)` (plus `extra` keys before the assumptions) as JSON text: written by
    hand (fastpath's "writer") when that trick is on, the same bytes as json.dumps."""
    if fastpath.is_on("writer"):
        return fastpath.train_json(result, extra)
    document = train_document(result, assumptions=False)
    document.update(extra or {})
    document["assumptions"] = assumptions_document(result.resolved.assumptions)
    return encode(document)


def train_fields(result: TrainResult, fields: Sequence[Field]) -> dict[str, Any]:
    """The train document projected to `fields` (output/fields.py), building only the keys they
    read: a batch that wants days and cost never computes ranges or encodes assumptions."""
    projection = _projection(tuple(fields))
    return dict(zip(projection.names, projection.values(result), strict=True))


def train_fields_json(result: TrainResult, fields: Sequence[Field]) -> str:
    """`train_fields` as JSON text."""
    projection = _projection(tuple(fields))
    return fields_json(projection.names, projection.values(result))


def fields_json(names: tuple[str, ...], values: Sequence[Any]) -> str:
    """Values at --fields paths as a JSON object, the same bytes as json.dumps."""
    if fastpath.is_on("writer"):
        return fastpath.fields_json(names, values)
    return encode(dict(zip(names, values, strict=True)))


class _Projection(NamedTuple):
    """--fields worked out once per command, not per line: the paths' names, and each path's
    top-level getter with the keys below it."""

    names: tuple[str, ...]  # the paths as written: days, ranges.days.p90
    getters: tuple[tuple[Callable[[TrainResult], Any], tuple[str, ...]], ...]

    def values(self, result: TrainResult) -> list[Any]:
        return [below(get(result), keys) if keys else get(result) for get, keys in self.getters]


@fastpath.memo("projection", 8)
def _projection(fields: tuple[Field, ...]) -> _Projection:
    names = tuple(".".join(path) for path in fields)
    return _Projection(names, tuple((TRAIN_KEYS[path[0]], path[1:]) for path in fields))


encode = json.JSONEncoder(allow_nan=False).encode  # json.dumps(allow_nan=False) builds an encoder per call


def _assumption_dict(a: Assumption, whole: bool = False) -> dict[str, Any]:
    value = _whole(a.value) if whole and type(a.value) is float else a.value
    return {"value": value, "unit": a.unit, "origin": a.provenance, "assumption": a.is_assumption, "source": a.source}


def entry_document(entry: Entry) -> dict[str, Any]:
    """A preset as data: its fields as written, each figure's source, and its file."""
    fields = {k: v for k, v in entry.fields.items() if k not in ("source", "sources")}
    return {
        "schema": "llamacalc.preset/1",
        "kind": entry.kind,
        "name": entry.name,
        "title": entry.title,
        "file": str(entry.path),
        "fields": fields,
        "sources": {key: entry.source_of(key) for key in entry.figures},
        "assumptions": [key for key in entry.figures if entry.is_assumption(key)],
    }


def presets_document(catalog: Catalog) -> dict[str, Any]:
    return {
        "schema": "llamacalc.presets/1",
        **{kind: {name: e.title for name, e in catalog.entries[kind].items()} for kind in catalog.entries},
    }


def formula(s: Resolved) -> str:
    """The scenario's FLOP count as its convention's terms, with the numbers substituted."""
    if s.counted is None or s.tokens is None:
        return f"C = {flops(s.flops)} (compute_scale × the baseline's C)"
    terms = [
        f"{term.coefficient:g} × " + " × ".join(f"{symbol} {count(value)}" for symbol, value in term.factors)
        for term in s.counted.terms
    ]
    if len(terms) == 1:
        return f"C = {terms[0]} × D {count(s.tokens)} = {flops(s.flops)}"
    per_token = f"{s.flops_per_token:.4g} FLOP/token"
    return f"C = ({' + '.join(terms)}) = {per_token} × D {count(s.tokens)} = {flops(s.flops)}"


def conventions(counted: Conventions) -> list[dict[str, Any]]:
    """Each convention's count and its budget, the first (6nd) the base of the ratios: what
    `train --flops all --json` nests under "conventions" of the first one's train document."""
    return [
        {
            "convention": r.resolved.convention,
            "recompute": r.resolved.assumptions["recompute"].value if "recompute" in r.resolved.assumptions else None,
            "flops_per_token": r.resolved.flops_per_token,
            "per_token": dict(r.resolved.per_token or {}),
            "flops": r.budget.flops,
            "ratio_to_6nd": ratio,
            "days": r.budget.seconds / DAY,
            "gpu_hours": r.budget.gpu_seconds / HOUR,
            "formula": formula(r.resolved),
        }
        for r, ratio in zip(counted.results, counted.ratios(), strict=True)
    ]


def _split_document(split: Split) -> dict[str, Any]:
    return {
        "params": _whole(split.params),
        "tokens": _whole(split.tokens),
        "tokens_per_param": split.tokens_per_param,
        "loss": split.loss,
        "flops": split.flops,
    }


def optimal_document(plan: OptimalPlan) -> dict[str, Any]:
    """The `optimal --json` document: schema llamacalc.optimal/1."""
    return {
        "schema": "llamacalc.optimal/1",
        "flops": plan.flops,
        "basis": plan.basis,
        "binding": plan.binding,
        "assumptions": assumptions_document(plan.assumptions),
        "laws": [
            {
                "law": o.law.name,
                "source": o.law.entry.source_of("form"),
                **_split_document(o.split),
                "warnings": list(o.split.warnings),
                "train": train_document(o.train),
            }
            for o in plan.optima
        ],
    }


def loss_document(model: str | None, reports: Sequence[LossReport]) -> dict[str, Any]:
    """The `loss --json` document: schema llamacalc.loss/1."""
    first = reports[0]
    return {
        "schema": "llamacalc.loss/1",
        "model": model,
        "params": _whole(first.params),
        "tokens": _whole(first.tokens),
        "tokens_per_param": first.tokens / first.params,
        "flops": first.flops,
        "laws": [
            {
                "law": r.law.name,
                "loss": r.loss,
                "optimal": _split_document(r.optimal),
                "loss_gap": r.gap,
                "implied_inference_tokens": _whole(r.inference_tokens),
            }
            for r in reports
        ],
    }


def overtraining_document(found: Sequence[Overtraining]) -> dict[str, Any]:
    """The `optimal --params N --loss L --json` document: schema llamacalc.overtrain/1."""
    return {
        "schema": "llamacalc.overtrain/1",
        "params": _whole(found[0].params),
        "target_loss": found[0].target,
        "laws": [
            {
                "law": o.law.name,
                "tokens": _whole(o.tokens),
                "tokens_per_param": o.tokens / o.params,
                "flops": o.flops,
                "optimal": _split_document(o.optimal),
                "extra_compute": o.extra_compute,
            }
            for o in found
        ],
    }


def inference_document(plan: InferencePlan) -> dict[str, Any]:
    """`optimal --loss L --inference-tokens T --json`: schema llamacalc.inference/1."""

    def model(found: InferenceAware, baseline: bool) -> dict[str, Any]:
        params, tokens = (found.baseline_params, found.baseline_tokens) if baseline else (found.params, found.tokens)
        train, serve = found.flops(params, tokens)
        spent = found.dollars(baseline)
        return {"params": _whole(params), "tokens": _whole(tokens), "tokens_per_param": tokens / params,
                "train_flops": train, "inference_flops": serve, "total_flops": train + serve,
                **({"train_usd": spent[0], "serving_usd": spent[1]} if spent else {})}  # fmt: skip

    first = plan.found[0]
    return {
        "schema": "llamacalc.inference/1",
        "objective": "cost" if plan.by_cost else "flops",
        **({"serving_mfu_basis": plan.serving_basis} if plan.serving_basis else {}),
        "target_loss": first.target,
        "inference_tokens": _whole(plan.served),
        "laws": [
            {
                "law": f.law.name,
                **model(f, baseline=False),
                "compute_optimal": model(f, baseline=True),
                "saving": f.saving,
            }
            for f in plan.found
        ],
    }


def serve_document(e: ServeEstimate) -> dict[str, Any]:
    """`serve --json`: schema llamacalc.serve/2. Throughputs are output tokens per second."""
    s, at, c = e.setting, e.load, e.calibration
    usd = e.usd_per_million_tokens
    return {
        "schema": "llamacalc.serve/2",
        "model": e.model,
        "gpu": s.hardware.name,
        "precision": s.precision,
        "kv_cache": s.kv,
        "tp": s.tp,
        "ep": s.ep,
        "input_tokens": s.input,
        "output_tokens": s.output,
        "concurrency": at.concurrency,
        "max_concurrency": e.max_concurrency,
        "ttft_s": at.ttft,
        "tpot_s": at.tpot,
        "output_tokens_per_s": e.tokens_per_s["p50"],
        "output_tokens_per_s_per_gpu": e.tokens_per_s_per_gpu,
        "tokens_per_s_per_user": at.tokens_per_s_per_user,
        "usd_per_million_tokens": None if usd is None else usd["p50"],
        "tokens_per_day": e.tokens_per_day,
        "gpus": None if e.gpus is None else e.gpus["p50"],
        "price_usd_per_gpu_hour": _scaled(e.price, 1 / HOUR),
        "max_tpot_s": e.max_tpot,
        "max_ttft_s": e.max_ttft,
        "peak_flops_per_s": e.peak,
        "peak_source": e.peak_source,
        "bound": e.bound,
        "tpot_parts_s": e.parts,
        "weight_bytes": e.weight_bytes,
        "kv_cache_bytes_per_token": e.kv_bytes_per_token,
        "kv_cache_tokens": math.floor(e.kv_tokens) if math.isfinite(e.kv_tokens) else e.kv_tokens,  # whole ones held
        "ranges": {
            "output_tokens_per_s": dict(e.tokens_per_s),
            "usd_per_million_tokens": None if usd is None else dict(usd),
            "gpus": None if e.gpus is None else dict(e.gpus),
        },
        "calibration": {
            "runs": c.runs,
            "gemm_fraction_held": 1 / c.compute,
            "hbm_fraction": 1 / c.memory,
            "kernel_s": c.kernel,
            "sigma": c.sigma,
        },
        "extrapolation": e.extrapolated,
        "assumptions": assumptions_document(e.assumptions),
    }


def fleet_document(f: Fleet) -> dict[str, Any]:
    """`fleet --json`: schema llamacalc.fleet/1. Every GPU-hour is one of `gpu`'s; `usd_per_gpu_hour`
    is the capex's rate where there is a capex, `usd_per_gpu_hour_purchase` the lower bound."""
    return {
        "schema": "llamacalc.fleet/1",
        "cluster": f.cluster.name,
        "gpu": f.hardware.name,
        "gpus": f.cluster.gpus,
        "capex_usd": f.capex,
        "capex_per_gpu_usd": f.capex_per_gpu,
        "capex_covers": None if f.capex is None else f.cluster.entry.source_of("capex"),
        "usd_per_gpu_hour": f.usd_per_gpu_hour,
        "usd_per_gpu_hour_capex": None if f.capex_rate is None else f.capex_rate.total * HOUR,
        "usd_per_gpu_hour_purchase": None if f.owned is None else f.owned.total * HOUR,
        "depreciation": f.depreciation,
        "facility_mw": _scaled(f.facility_watts, 1e6),
        "gpu_hours_per_year": f.gpu_hours_per_year,
        "models": [
            {
                "model": s.model,
                "gpu_hours": s.gpu_hours.p50,
                "reported": s.reported,
                "share_of_fleet_year": s.share.p50,
                "ranges": {"gpu_hours": s.gpu_hours._asdict(), "share_of_fleet_year": s.share._asdict()},
            }
            for s in f.shares
        ],
        "assumptions": assumptions_document(f.assumptions),
    }


def check_document(runs: Sequence[tuple[str | None, TrainResult, Sequence[Check]]]) -> dict[str, Any]:
    """The `check --json` document: schema llamacalc.check/1."""
    documents = [
        {
            "name": name,
            "passed": all(c.passed for c in checks),
            "checks": [
                {
                    "limit": c.limit.key,
                    "unit": c.limit.unit,
                    # a limit on a count (GPUs) in whole ones: the most allowed, the count found
                    "maximum": math.floor(c.maximum) if c.limit.figure in WHOLE else c.maximum,
                    "value": _whole(c.value) if c.limit.figure in WHOLE else c.value,
                    "confidence": c.confidence,
                    "estimate": _whole(c.estimate) if c.limit.figure in WHOLE else c.estimate,
                    "margin": c.margin,
                    "passed": c.passed,
                }
                for c in checks
            ],
            "result": train_document(result),
        }
        for name, result, checks in runs
    ]
    return {"schema": "llamacalc.check/1", "passed": all(d["passed"] for d in documents), "runs": documents}


def compare_document(compared: Compared) -> dict[str, Any]:
    """The `compare --json` document: schema llamacalc.compare/1; ratios are to the first model."""
    documents = [train_document(r) for r in compared.results]
    return {
        "schema": "llamacalc.compare/1",
        "models": documents,
        "ratios": [  # in the documents' key names: seconds -> days, cost -> cost_usd, ...
            {"model": d["model"], **{RANGE_KEYS.get(key, key): value for key, value in ratios.items()}}
            for d, ratios in zip(documents, compared.ratios(), strict=True)
        ],
    }


def sweep_document(sweep: Sweep, result: Callable[[TrainResult], Any] | None = None) -> dict[str, Any]:
    """The `sweep --json` document: schema llamacalc.sweep/1. "swept", "unit" and each point's
    "value" name the first axis; "axes" and each point's "values" every axis (two in a grid).
    `result` renders each run (the whole train document, or a --fields projection)."""
    first = sweep.series
    render = result or train_document

    def shown(axis: Any, value: Any) -> Any:
        """A point's value in its axis's display unit; a count (GPUs, parameters) whole."""
        return _whole(axis.display(value)) if axis.key in WHOLE else axis.display(value)

    return {
        "schema": "llamacalc.sweep/1",
        "swept": first.key,
        "unit": "" if first.named else first.axis.display[0],
        "axes": [a.key for a in sweep.axes],
        "points": [
            {
                "value": shown(first, point[0]),
                "values": {a.key: shown(a, v) for a, v in zip(sweep.axes, point, strict=True)},
                "result": render(r),
            }
            for point, r in zip(sweep.points, sweep.results, strict=True)
        ],
    }


_RANGE_COLUMNS = tuple(f"{name}_{end}" for name in RANGE_KEYS.values() for end in ("p10", "p90"))
CSV_FIELDS = (
    "line", "error", "model", "gpu", "precision", "params", "active_params", "tokens", "flops",
    "peak_flops_per_gpu", "mfu", "gpus", "days", "gpu_hours", "price_usd_per_gpu_hour", "cost_usd",
    "power_w_per_gpu", "pue", "carbon_kg_per_kwh", "energy_mwh", "co2_t",
    "reported_gpu_hours", "reported_implied_mfu", "reported_co2_t", *_RANGE_COLUMNS,
)  # fmt: skip


def csv_row(document: Mapping[str, Any], line: int | None = None) -> dict[str, Any]:
    """A train document (or an error object) flattened to CSV_FIELDS: `reported` as reported_*
    columns, each range as its P10 and P90 beside the figure (its P50); assumptions are left out."""
    row = {key: document.get(key) for key in CSV_FIELDS}
    row["line"] = document.get("line", line)
    reported = document.get("reported") or {}
    for key in ("gpu_hours", "implied_mfu", "co2_t"):
        row[f"reported_{key}"] = reported.get(key)
    for name, band in (document.get("ranges") or {}).items():
        row[f"{name}_p10"], row[f"{name}_p90"] = band["p10"], band["p90"]
    return row


def backtest_document(found: Backtest) -> dict[str, Any]:
    """`backtest --json`: schema llamacalc.backtest/2."""
    return {
        "schema": "llamacalc.backtest/2",
        "runs": [
            {
                "run": r.run.point.name,
                "title": r.run.title,
                "organisation": r.run.point.organisation,
                "accelerator": r.run.accelerator,
                "reported_hours": r.run.hours,
                "implied_utilisation": r.implied,
                "p50_utilisation": r.p50,
                "error": r.error,
                "held_out_error": r.held_out_error,
                "inside_p10_p90": r.inside,
                "excluded": r.run.excluded or None,
                "source": r.run.source,
            }
            for r in found.rows
        ],
        "summary": {**found.summary, "runs": int(found.summary["runs"])},  # a count: 41, not 41.0
        "model": {
            "coefficients": dict(found.model.coefficients),
            "size_cap": found.model.size_cap,
            "sigma": found.model.sigma,
        },
    }


def goodput_document(g: Goodput, lost_per_interruption: float, result: TrainResult) -> dict[str, Any]:
    finite = not math.isinf(g.effective_hours)
    return {
        "interruptions": g.interruptions if finite else None,
        "lost_per_interruption_minutes": lost_per_interruption * 60,
        "lost_days": g.lost_hours / 24 if finite else None,
        "effective_days": g.effective_hours / 24 if finite else None,
        "effective_gpu_hours": result.budget.gpu_seconds / HOUR if finite else None,  # the bill with the time lost
        "goodput": g.fraction,
    }


LAYOUT_KEYS = ("tp", "pp", "dp", "cp", "ep", "vp", "micro_batch", "zero", "recompute", "precision")


def layout_entry(c: Candidate) -> dict[str, Any]:
    """One layout: its degrees and choices, step time, throughput, utilisation, memory, breakdown."""
    step, layout = c.step, c.step.layout
    entry: dict[str, Any] = {key: getattr(layout, key) for key in LAYOUT_KEYS}
    entry |= {
        "sequence_parallel": layout.sequence_parallel,
        "step_time_s": step.time,
        "tokens_per_s_per_gpu": step.tokens_per_s_per_gpu,
        "mfu": step.mfu,
        "hfu": step.hfu,
        "memory_gib_per_gpu": c.memory.total / 2**30,
        "fits": c.fits,
        "breakdown": {f"{key}_s": value for key, value in step.parts.items()},
        "memory_gib": {
            key: value / 2**30
            for key, value in (
                ("weights", c.memory.weights),
                ("gradients", c.memory.gradients),
                ("optimizer", c.memory.optimizer),
                ("activations", c.memory.activations or 0.0),
                ("buffers", c.memory.buffers),
            )
        },  # fmt: skip
    }
    if layout.precision != "bf16":
        entry["mfu_of_precision_peak"] = step.mfu_of_precision
    return entry


def layout_document(r: LayoutResult) -> dict[str, Any]:
    """`layout --json`: schema llamacalc.layout/1; the layouts that fit, best first."""
    assert r.hardware.memory is not None
    return {
        "schema": "llamacalc.layout/1",
        "model": r.model.name,
        "gpu": r.hardware.name,
        "cluster": r.cluster.name if r.cluster else None,
        "gpus": r.gpus,
        "gpus_from": r.gpus_from,
        "seq_len": r.seq_len,
        "global_batch": r.global_batch,
        "global_batch_tokens": r.global_batch * r.seq_len,
        "precision": r.precision,
        "fixed": dict(r.fixed),
        "searched": r.tried,
        "gpu_memory_gib": r.hardware.memory / 2**30,
        "allowance_gib": r.allowance / 2**30,
        "layouts": [layout_entry(c) for c in r.layouts],
        "step_model": {"name": r.step_model.name, **_counted_steps(r.step_model.statistics)},
        "notes": list(r.notes),
        "assumptions": assumptions_document(r.assumptions),
    }


def layout_join_document(j: LayoutJoin, result: TrainResult) -> dict[str, Any]:
    """`train --layout --json`'s added keys: the layout, its steady-state MFU, goodput, the band."""
    low, p50, high = j.empirical
    return {
        "layout": layout_entry(j.best) | {"global_batch": j.global_batch, "gpus_from": j.gpus_from},
        "steady_state_mfu": j.steady_in_convention,
        "steady_state_mfu_causal_bf16": j.steady_state_mfu,
        "goodput": goodput_document(j.goodput, j.lost_per_interruption, result),
        "empirical_mfu": {"p10": low, "p50": p50, "p90": high},
        "layout_disagrees_with_empirical": j.disagrees,
    }


def _counted_steps(statistics: Mapping[str, float]) -> dict[str, Any]:
    """A step fit's statistics, the number of steps it was fitted to whole (23, not 23.0)."""
    return {key: _whole(value) if key == "steps" else value for key, value in statistics.items()}


def steps_document(b: StepBacktest) -> dict[str, Any]:
    """`backtest --steps --json`: schema llamacalc.steps/1; each measured step against the model."""
    return {
        "schema": "llamacalc.steps/1",
        "summary": _counted_steps(b.summary()),
        "steps": [
            {
                "name": p.measured.name,
                "group": p.measured.group,
                "gpu": p.measured.gpu,
                "gpus": p.measured.gpus,
                "layout": p.step.layout.label(),
                "measured_tokens_per_s_per_gpu": p.measured.tokens_per_s_per_gpu,
                "predicted_tokens_per_s_per_gpu": p.step.tokens_per_s_per_gpu,
                "error": p.error,
                "held_out_error": p.held_out_error,
                "mfu": p.step.mfu,
            }
            for p in b.rows
        ],
        "pairs": [
            {
                "first": p.first,
                "second": p.second,
                "differ_in": p.what,
                "measured_ratio": p.measured,
                "predicted_ratio": p.predicted,
                "error": p.error,
            }
            for p in b.pairs
        ],  # fmt: skip
    }


def memory_document(m: MemoryEstimate) -> dict[str, Any]:
    """`memory --json`: schema llamacalc.memory/1; bytes per GPU."""
    used = m.used
    return {
        "schema": "llamacalc.memory/1",
        "model": m.model,
        "gpu": m.gpu,
        "layout": m.layout._asdict(),
        "seq_len": m.seq_len,
        "bytes_per_gpu": {
            "weights": used.weights,
            "gradients": used.gradients,
            "optimizer": used.optimizer,
            "activations": used.activations,
            "buffers": used.buffers,
            "total": used.total,
        },
        "gpu_memory_bytes": m.gpu_memory,
        "allowance_bytes": m.allowance,
        "fits": m.fits,
        "min_dp": m.min_dp,
        "min_gpus": m.min_gpus,
        "fewest_gpus": None if m.fewest is None else m.fewest[0],
        "fewest_layout": None if m.fewest is None else m.fewest[1]._asdict(),
        "notes": list(m.notes),
        "assumptions": assumptions_document(m.assumptions),
    }


def efficiency_toml(fit: Fit) -> str:
    """The fitted efficiency model as a preset file: what `calibrate` writes, and what ships."""
    m = fit.model
    stats = m.statistics
    low, high = m.bounds["active_params"]
    peak_low, peak_high = m.bounds["peak"]
    lines = [
        "# End-to-end utilisation model, written by `llamacalc calibrate`: ln u = Σ coefficient · feature",
        "# (llamacalc/efficiency.py). Put this file in a presets folder to use it instead of the shipped one.",
        "",
        '[efficiency."default"]',
        f'title = "End-to-end utilisation fitted to {stats["runs"]:.0f} published runs '
        f'of {stats["organisations"]:.0f} organisations"',
        *(f"{name} = {value!r}" for name, value in m.coefficients.items()),
        *([f"size_cap = {m.size_cap!r}"] if m.size_cap else []),
        f"sigma = {m.sigma!r}",
        f"active_params_range = [{low!r}, {high!r}]",
        f'peak_range = ["{peak_low / 1e12:.6g} TFLOP/s", "{peak_high / 1e12:.6g} TFLOP/s"]',
        *([f"gpus_range = [{m.bounds['gpus'][0]:.0f}, {m.bounds['gpus'][1]:.0f}]"] if "gpus" in m.bounds else []),
        'source = "assumption: fitted by llamacalc calibrate to the runs presets and the model presets with reported '
        "GPU-hours (steady-state and multimodal runs left out, secondary sources at half weight) by Huber regression "
        "of ln u (errors beyond 30% count linearly); terms and size cap chosen by leave-one-organisation-out error; "
        "sigma is that error's spread in ln u\"",
        *_scaling_toml(m),
        "",
        '[efficiency."default".statistics]  # leave-one-organisation-out',
        *(f"{name} = {value:.4g}" for name, value in stats.items()),
    ]
    return "\n".join(lines) + "\n"


def step_model_toml(b: StepBacktest) -> str:
    """The fitted step model as a preset file: what `calibrate --steps` writes, and what ships."""
    m, stats = b.model, b.summary()
    lines = [
        "# The step model's constants (llamacalc/step.py), written by `llamacalc calibrate --steps`. The ring",
        "# latencies are NCCL's; the rest are fitted to the published steps in presets/steps/ by least squares",
        "# on ln(predicted / measured tokens/s per GPU). Put this file in a presets folder to use it instead.",
        "",
        '[performance."step-model"]',
        f'title = "Step model fitted to {stats["steps"]:.0f} published training steps"',
        f"kernel_overhead_us = {m.kernel_overhead * 1e6:.4g}",
        f"latency_up_us = {m.latency_up * 1e6:.4g}",
        f"latency_out_us = {m.latency_out * 1e6:.4g}",
        f"exposed_tp = {m.exposed_tp:.4g}",
        f"sustained = {m.sustained:.4g}",
        f"attention = {m.attention:.4g}",
        'source = "fitted by llamacalc calibrate --steps to the published steps [S38, S7 Table 4]: the GEMM fraction '
        "held over whole steps (sustained), the fused-attention fraction held (attention), the exposed share of TP "
        'communication and a fixed cost per GEMM kernel"',
        "",
        '[performance."step-model".sources]',
        f'latency_up_us = "{m.entry.source_of("latency_up_us")}"',
        f'latency_out_us = "{m.entry.source_of("latency_out_us")}"',
        "",
        '[performance."step-model".statistics]  # in sample, and each source left out and refitted (held_out_*)',
        *(f"{name} = {value:.4g}" for name, value in stats.items()),
    ]
    return "\n".join(lines) + "\n"


def _scaling_toml(m: Efficiency) -> list[str]:
    """The stated loss at scale the fit kept, with its measurements and their sources."""
    if not m.scaling:
        return []
    return [
        f"scaling_from = {m.scaling_from:.0f}",
        "scaling = [  # strong scaling: one model and batch on more GPUs",
        *(
            f"  {{ gpus = [{s.gpus[0]:.0f}, {s.gpus[1]:.0f}], mfu = [{s.mfu[0]!r}, {s.mfu[1]!r}], "
            f"source = {json.dumps(s.source, ensure_ascii=False)} }},"
            for s in m.scaling
        ),
        "]",
        "",
        '[efficiency."default".sources]',
        f"scaling_from = {json.dumps(m.scaling_source, ensure_ascii=False)}",
    ]


# --- the json format: one renderer per result type (output/render.py) ------------------------------


def _dumped(document: Any) -> str:
    return json.dumps(document, allow_nan=False) + "\n"


def _train_extra(report: TrainReport) -> dict[str, Any]:
    """What `train` adds to its run's document: goodput, the layout joined, the serving bill."""
    g, bill = report.goodput, report.serving
    extra = {} if g is None else {"goodput": goodput_document(g.goodput, g.lost_per_interruption, report.result)}
    if report.layout is not None:
        extra |= layout_join_document(report.layout, report.result)
    if bill is not None:
        extra["serving"] = {
            "tokens": _whole(bill.tokens), "flops": bill.flops, "tokens_per_s_per_gpu": bill.tokens_per_s_per_gpu,
            "gpu_hours": bill.gpu_hours, "cost_usd": bill.cost,
        }  # fmt: skip
    return extra


@renders("json", "TrainReport")
def _train_report(report: TrainReport) -> str:
    return train_json(report.result, _train_extra(report) or None) + "\n"


def _with_extra(result: TrainResult, extra: Mapping[str, Any]) -> dict[str, Any]:
    """A run's document with `extra` keys before its assumptions, as `train_json` writes them."""
    document = train_document(result)
    assumptions = document.pop("assumptions")
    return {**document, **extra, "assumptions": assumptions}


@renders("json", "object")
def _json(result: object) -> str:
    """Any result's document (format 'document'), as JSON text."""
    return _dumped(renderer(result, "document")(result))


# The documents themselves (format 'document'): JSON text, CSV rows and the API are made from these.
renders("document", "TrainReport")(lambda report: _with_extra(report.result, _train_extra(report)))
renders("document", "Conventions")(lambda c: _with_extra(c.results[0], {"conventions": conventions(c)}))
renders("json", "Conventions")(lambda c: train_json(c.results[0], {"conventions": conventions(c)}) + "\n")
renders("document", "Compared")(compare_document)
renders("document", "CheckReport")(lambda report: check_document(report.runs))
renders("document", "Sweep")(sweep_document)
renders("document", "OptimalPlan")(optimal_document)
renders("document", "OvertrainingPlan")(lambda plan: overtraining_document(plan.found))
renders("document", "LossComparison")(lambda c: loss_document(c.model, c.reports))
renders("document", "Backtest")(backtest_document)
renders("document", "MemoryEstimate")(memory_document)
renders("document", "LayoutResult")(layout_document)
renders("document", "StepBacktest")(steps_document)
renders("document", "Catalog")(presets_document)
renders("document", "Entry")(entry_document)
renders("document", "Citations")(lambda c: {"schema": "llamacalc.sources/1", "sources": dict(c.references)})
renders("document", "ServeEstimate")(serve_document)
renders("document", "InferencePlan")(inference_document)
renders("document", "Fleet")(fleet_document)


def serving_backtest_document(b: ServingBacktest) -> dict[str, Any]:
    """`backtest --serving --json` (and `serve --backtest --json`): schema llamacalc.serving-backtest/1."""
    c = b.calibration
    return {
        "schema": "llamacalc.serving-backtest/1",
        "summary": b.summary(),
        "calibration": {
            "gemm_fraction_held": 1 / c.compute,
            "hbm_fraction": 1 / c.memory,
            "kernel_s": c.kernel,
            "sigma": c.sigma,
        },  # fmt: skip
        "runs": [
            {
                "name": r.run.name,
                "group": r.run.group,
                "model": r.run.model,
                "gpu": r.run.gpu,
                "precision": r.run.replica.precision,
                "tp": r.run.replica.tp,
                "input_tokens": r.run.input,
                "output_tokens": r.run.output,
                "concurrency": r.run.concurrency,
                "measured_tokens_per_s": r.run.tokens_per_s,
                "predicted_tokens_per_s": r.predicted,
                "error": r.error,
                "held_out_error": r.held_out_error,
            }
            for r in b.rows
        ],
    }


renders("document", "ServingBacktest")(serving_backtest_document)
