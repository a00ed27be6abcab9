"""Rendering: results as JSON documents (dicts for `json.dumps`) and as rich tables for people.

The only module that uses rich, imported inside the table builders so that `--json` and `batch`
never pay for it. JSON keys name their unit (`cost_usd`, `energy_mwh`); numbers stay numbers.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llamacalc.flops import matmul_params
from llamacalc.units import DAY, HOUR, KWH, MWH

if TYPE_CHECKING:  # types only: `train --json` and `batch` import none of these modules
    from rich.table import Table

    from llamacalc.backtest import Row as BacktestRow
    from llamacalc.catalog import Catalog, Entry
    from llamacalc.checks import Check
    from llamacalc.goodput import Goodput
    from llamacalc.memory import Layout, Memory
    from llamacalc.plan import LossReport, OptimalPlan, Overtraining
    from llamacalc.scaling import Split
    from llamacalc.scenario import Assumption, Scenario, TrainResult
    from llamacalc.sweep import Series

TRAIN_SCHEMA = "llamacalc.train/1"


# --- numbers for people -------------------------------------------------------------------------

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def count(value: float | None) -> str:
    """405.85e9 -> '405.9B', 15.6e12 -> '15.6T', 16384 -> '16,384'."""
    if value is None:
        return "—"
    if value < 1e5:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.3g}"
    if value >= 1e15:
        return f"{value:.3g}"
    for scale, suffix in _SCALES:
        if value >= scale:
            return f"{value / scale:,.4g}{suffix}"
    return f"{value:,.0f}"


def flops(value: float) -> str:
    return f"{value:.2e} FLOP".replace("e+", "e")


def money(usd: float | None) -> str:
    """'$80.0M', '$1.23B', '$950'."""
    if usd is None:
        return "—"
    for scale, suffix in _SCALES:
        if usd >= scale:
            return f"${usd / scale:,.4g}{suffix}"
    return f"${usd:,.2f}"


def duration(seconds: float) -> str:
    days = seconds / DAY
    if days >= 1:
        return f"{days:,.1f} days"
    return f"{seconds / HOUR:,.1f} hours"


def energy(joules: float | None) -> str:
    if joules is None:
        return "—"
    mwh = joules / MWH
    if mwh >= 1000:
        return f"{mwh / 1000:,.3g} GWh"
    return f"{mwh:,.3g} MWh" if mwh >= 1 else f"{joules / KWH:,.3g} kWh"


def tonnes(kg: float | None) -> str:
    if kg is None:
        return "—"
    t = kg / 1000
    return f"{t:,.0f} t" if t >= 100 else f"{t:,.3g} t"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction:.1%}"


def rate(flop_per_s: float) -> str:
    return f"{flop_per_s / 1e12:,.1f} TFLOP/s"


# --- JSON documents -----------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _scaled(value: float | None, unit: float) -> float | None:
    return None if value is None else value / unit


def assumptions_document(assumptions: Mapping[str, Assumption]) -> dict[str, Any]:
    return {name: _assumption_dict(a) for name, a in assumptions.items()}


def train_document(result: TrainResult, assumptions: bool = True) -> dict[str, Any]:
    """The `train --json` document: schema llamacalc.train/1 (`assumptions` last)."""
    s, b, r = result.scenario, result.budget, result.reported
    document = {
        "schema": TRAIN_SCHEMA,
        "model": s.model.name if s.model else None,
        "gpu": s.hardware.name,
        "precision": s.precision,
        "params": s.params,
        "active_params": s.active_params,
        "tokens": s.tokens,
        "flops": b.flops,
        "flops_convention": s.convention,
        "flops_per_token": None if s.per_token is None else sum(s.per_token.values()),
        "peak_flops_per_gpu": s.peak,
        "mfu": s.mfu,
        "gpus": b.gpus,
        "days": b.seconds / DAY,
        "gpu_hours": b.gpu_seconds / HOUR,
        "price_usd_per_gpu_hour": _scaled(s.price, 1 / HOUR),
        "cost_usd": _finite(b.cost),
        "power_w_per_gpu": s.power,
        "pue": s.pue,
        "carbon_kg_per_kwh": s.carbon * KWH,
        "energy_mwh": _scaled(b.energy, MWH),
        "co2_t": _scaled(b.co2, 1000),
        "reported": None
        if r is None
        else {
            "gpu": r.gpu,
            "gpus": r.gpus,
            "gpu_hours": r.gpu_hours,
            "co2_t": r.co2_t,
            "implied_mfu": r.implied_mfu,
            "source": r.source,
        },
    }
    if assumptions:
        document["assumptions"] = assumptions_document(s.assumptions)
    return document


def train_json(result: TrainResult, extra: Mapping[str, Any] | None = None) -> str:
    """`train_document(result)` (plus `extra` keys before the assumptions) as JSON text, the same
    bytes as json.dumps gives, built faster: the assumptions are most of each document and repeat
    across a batch, so each one's JSON is encoded once and reused.
    """
    head = _encode({**train_document(result, assumptions=False), **(extra or {})})
    body = ", ".join(
        f'"{name}": {_encode(_assumption_dict(a)) if a.origin == "user" else _cited_json(a)}'
        for name, a in result.scenario.assumptions.items()
    )
    return f'{head[:-1]}, "assumptions": {{{body}}}}}'


_encode = json.JSONEncoder(allow_nan=False).encode  # json.dumps(allow_nan=False) builds an encoder per call


@functools.lru_cache(maxsize=1024)  # preset and default figures: few, repeated, with long sources
def _cited_json(a: Assumption) -> str:
    return _encode(_assumption_dict(a))


def _assumption_dict(a: Assumption) -> dict[str, Any]:
    return {"value": a.value, "unit": a.unit, "origin": a.origin, "assumption": a.is_assumption, "source": a.source}


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


# --- tables for people --------------------------------------------------------------------------


def _table(title: str | None = None, *columns: str) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def train_table(result: TrainResult) -> Table:
    """Estimate beside the publisher's reported figures, in human units."""
    s, b, r = result.scenario, result.budget, result.reported
    title = f"{s.model.title} ({s.model.name})" if s.model else "Custom model"
    reported = r is not None
    table = _table(title, "", "estimate", *(["reported"] if reported else []))

    def row(label: str, estimate: str, published: str = "") -> None:
        table.add_row(label, estimate, *([published] if reported else []))

    if s.params is not None:
        active = f" ({count(s.active_params)} active)" if s.active_params != s.params else ""
        row("parameters", count(s.params) + active)
    if s.tokens is not None:
        row("tokens", count(s.tokens))
    row("training compute", f"{flops(b.flops)} ({s.convention})")
    row("GPU", f"{s.hardware.name}, {s.precision} peak {rate(s.peak)}", r.gpu or "" if r else "")
    row("MFU", percent(s.mfu), f"{percent(r.implied_mfu)} implied" if r and r.implied_mfu else "")
    row("GPUs", count(b.gpus), count(r.gpus) if r and r.gpus else "")
    row("wall-clock", duration(b.seconds))
    row("GPU-hours", count(b.gpu_seconds / HOUR), count(r.gpu_hours) if r and r.gpu_hours else "")
    row("cost", money(b.cost))
    row("energy", energy(b.energy))
    row("CO2 (location-based)", tonnes(b.co2), tonnes(r.co2_t * 1000) if r and r.co2_t else "")
    if r is not None:
        table.caption = f"reported: {r.source}"
        table.caption_justify = "left"
    return table


def formula(s: Scenario) -> str:
    """The scenario's FLOP count as its formula, with the numbers substituted."""
    if s.per_token is None or s.tokens is None:
        return f"C = {flops(s.flops)} (compute_scale × the baseline's C)"
    per_token = sum(s.per_token.values())
    total = f"{per_token:.4g} FLOP/token × D {count(s.tokens)} = {flops(s.flops)}"
    if s.convention == "6nd":
        return f"C = 6 × N {count(s.active_params)} × D {count(s.tokens)} = {flops(s.flops)}"
    arch = s.model.arch if s.model else None
    assert arch is not None  # only counted from an architecture
    seq = s.assumptions["seq_len"].value
    weights = s.per_token["attention/qkvo"] + s.per_token["mlp"] + s.per_token["unembedding"]
    factor = round(weights / sum(matmul_params(arch).values()))
    score = round(s.per_token["attention/scores"] / (arch.layers * arch.heads * arch.head_dim * seq))
    return (
        f"C = ({factor} × N_matmul {count(sum(matmul_params(arch).values()))} + {score} × L {arch.layers} × "
        f"d_attn {arch.heads * arch.head_dim:,} × T {count(seq)}) = {total}"
    )


def breakdown_table(s: Scenario) -> Table:
    """Training FLOPs by component, with the formula as the title."""
    table = _table(formula(s), "component", "FLOP/token", "FLOP", "share")
    table.min_width = len(table.title or "")  # keep the formula on one line where the terminal allows
    per_token = s.per_token or {}
    total = sum(per_token.values()) or 1.0
    for component, value in per_token.items():
        table.add_row(component, f"{value:.4g}", flops(value * (s.tokens or 0)), percent(value / total))
    return table


def conventions_document(results: Sequence[TrainResult]) -> dict[str, Any]:
    """`train --flops all --json`: schema llamacalc.flops/1, each convention's count and its budget."""
    base = results[0].budget.flops
    return {
        "schema": "llamacalc.flops/1",
        "model": results[0].scenario.model.name if results[0].scenario.model else None,
        "conventions": [
            {
                "convention": r.scenario.convention,
                "recompute": r.scenario.assumptions["recompute"].value
                if "recompute" in r.scenario.assumptions
                else None,
                "flops_per_token": None if r.scenario.per_token is None else sum(r.scenario.per_token.values()),
                "per_token": dict(r.scenario.per_token or {}),
                "flops": r.budget.flops,
                "ratio_to_6nd": r.budget.flops / base,
                "days": r.budget.seconds / DAY,
                "gpu_hours": r.budget.gpu_seconds / HOUR,
                "formula": formula(r.scenario),
            }
            for r in results
        ],
    }


def conventions_table(results: Sequence[TrainResult]) -> Table:
    doc = conventions_document(results)
    table = _table("FLOP conventions, side by side", "convention", "FLOP/token", "FLOP", "vs 6nd", "days", "GPU-hours")
    for c in doc["conventions"]:
        recompute = {None: "", "none": " (no recompute)"}.get(c["recompute"], f" ({c['recompute']} recompute)")
        name = c["convention"] + recompute
        per_token = "—" if c["flops_per_token"] is None else f"{c['flops_per_token']:.4g}"
        table.add_row(
            name, per_token, flops(c["flops"]), f"×{c['ratio_to_6nd']:.3f}", f"{c['days']:,.1f}", count(c["gpu_hours"])
        )
    return table


def _shown(a: Assumption) -> str:
    if a.unit == "FLOP/s":
        return rate(a.value)
    if a.unit == "FLOP":
        return flops(a.value)
    if isinstance(a.value, int | float) and not isinstance(a.value, bool):
        text = count(a.value) if a.value >= 1e5 or isinstance(a.value, int) else f"{a.value:.4g}"
        return f"{text} {a.unit}".strip()
    return str(a.value)


def assumptions_table(assumptions: Mapping[str, Assumption]) -> Table:
    table = _table("Inputs", "input", "value", "from", "source")
    table.columns[3].justify = "left"
    for name, a in assumptions.items():
        origin = "assumption" if a.is_assumption and a.origin != "user" else a.origin
        table.add_row(name, _shown(a), origin, a.source)
    return table


def presets_table(catalog: Catalog) -> Table:
    table = _table(None, "kind", "name", "title")
    table.columns[1].justify = table.columns[2].justify = "left"
    for kind, entries in catalog.entries.items():
        for name, entry in entries.items():
            table.add_row(kind, name, entry.title)
    return table


def entry_table(entry: Entry) -> Table:
    table = _table(f"{entry.title} ({entry.kind}.{entry.name}, {entry.path.name})", "field", "value", "source")
    table.columns[1].justify = table.columns[2].justify = "left"
    for key, value in entry.fields.items():
        if key in ("source", "sources", "title"):
            continue
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                table.add_row(f"{key}.{sub}", str(subvalue), "" if sub == "source" else value.get("source", ""))
        else:
            source = entry.source_of(key) if key in entry.figures else ""
            table.add_row(key, str(value), source)
    return table


# --- scaling-law planning -----------------------------------------------------------------------


def _split_document(split: Split) -> dict[str, Any]:
    return {
        "params": split.params,
        "tokens": split.tokens,
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


def optimal_table(plan: OptimalPlan) -> Table:
    table = _table(
        f"Compute-optimal models for {flops(plan.flops)} ({plan.basis})", "", *(o.law.name for o in plan.optima)
    )
    rows: list[tuple[str, Any]] = [
        ("parameters", lambda o: count(o.split.params)),
        ("tokens", lambda o: count(o.split.tokens)),
        ("tokens / parameter", lambda o: f"{o.split.tokens_per_param:.1f}"),
        ("predicted loss", lambda o: "no loss law" if o.split.loss is None else f"{o.split.loss:.4f}"),
        ("GPUs", lambda o: f"{count(o.train.budget.gpus)} {o.train.scenario.hardware.name}"),
        ("wall-clock", lambda o: duration(o.train.budget.seconds)),
        ("GPU-hours", lambda o: count(o.train.budget.gpu_seconds / HOUR)),
        ("cost", lambda o: money(o.train.budget.cost)),
        ("energy", lambda o: energy(o.train.budget.energy)),
        ("CO2", lambda o: tonnes(o.train.budget.co2)),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(o) for o in plan.optima))
    return table


def loss_document(model: str | None, reports: Sequence[LossReport]) -> dict[str, Any]:
    """The `loss --json` document: schema llamacalc.loss/1."""
    first = reports[0]
    return {
        "schema": "llamacalc.loss/1",
        "model": model,
        "params": first.params,
        "tokens": first.tokens,
        "tokens_per_param": first.tokens / first.params,
        "flops": first.flops,
        "laws": [
            {"law": r.law.name, "loss": r.loss, "optimal": _split_document(r.optimal), "loss_gap": r.gap}
            for r in reports
        ],
    }


def loss_table(title: str, reports: Sequence[LossReport]) -> Table:
    first = reports[0]
    table = _table(
        f"{title}: {count(first.params)} parameters on {count(first.tokens)} tokens "
        f"({first.tokens / first.params:.1f} tokens/parameter), {flops(first.flops)}",
        "",
        *(r.law.name for r in reports),
    )

    def loss_text(value: float | None) -> str:
        return "no loss law" if value is None else f"{value:.4f}"

    table.add_row("predicted loss", *(loss_text(r.loss) for r in reports))
    table.add_row("optimal parameters at this compute", *(count(r.optimal.params) for r in reports))
    table.add_row("optimal tokens", *(count(r.optimal.tokens) for r in reports))
    table.add_row("optimal tokens / parameter", *(f"{r.optimal.tokens_per_param:.1f}" for r in reports))
    table.add_row("optimal loss", *(loss_text(r.optimal.loss) for r in reports))
    table.add_row("loss above optimal", *("—" if r.gap is None else f"{r.gap:+.4f}" for r in reports))
    return table


def overtraining_document(found: Sequence[Overtraining]) -> dict[str, Any]:
    """The `optimal --params N --loss L --json` document: schema llamacalc.overtrain/1."""
    return {
        "schema": "llamacalc.overtrain/1",
        "params": found[0].params,
        "target_loss": found[0].target,
        "laws": [
            {
                "law": o.law.name,
                "tokens": o.tokens,
                "tokens_per_param": o.tokens / o.params,
                "flops": o.flops,
                "optimal": _split_document(o.optimal),
                "extra_compute": o.extra_compute,
            }
            for o in found
        ],
    }


def overtraining_table(found: Sequence[Overtraining]) -> Table:
    first = found[0]
    table = _table(f"{count(first.params)} parameters to loss {first.target:g}", "", *(o.law.name for o in found))
    table.add_row("tokens needed", *(count(o.tokens) for o in found))
    table.add_row("tokens / parameter", *(f"{o.tokens / o.params:,.0f}" for o in found))
    table.add_row("training compute", *(flops(o.flops) for o in found))
    table.add_row("compute-optimal model for this loss", *(count(o.optimal.params) for o in found))
    table.add_row("its tokens", *(count(o.optimal.tokens) for o in found))
    table.add_row("its compute", *(flops(o.optimal.flops) for o in found))
    table.add_row("extra compute for the smaller model", *(f"{o.extra_compute:+.0%}" for o in found))
    return table


# --- budget checks, comparisons, sweeps, CSV ----------------------------------------------------


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
                    "maximum": c.maximum,
                    "value": c.value,
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


_LIMIT_FORMAT = {
    "max_cost": money,
    "max_days": lambda days: duration(days * DAY),
    "max_gpus": count,
    "max_gpu_hours": count,
    "max_energy": lambda mwh: energy(mwh * MWH),
    "max_co2": lambda t: tonnes(t * 1000),
    "max_flops": flops,
}


def check_table(runs: Sequence[tuple[str | None, TrainResult, Sequence[Check]]]) -> Table:
    table = _table("Budget check", "run", "limit", "value", "maximum", "margin", "")
    for name, result, checks in runs:
        label = name or (result.scenario.model.name if result.scenario.model else "custom")
        for c in checks:
            shown = _LIMIT_FORMAT[c.limit.key]
            status = "pass" if c.passed else "FAIL"
            margin = f"{c.margin:+.1%}" if c.margin >= -1 else f"{c.value / c.maximum:,.3g}× the limit"
            table.add_row(label, c.limit.label, shown(c.value), shown(c.maximum), margin, status)
            label = ""
    return table


RATIO_KEYS = ("params", "active_params", "tokens", "flops", "gpu_hours", "days", "cost_usd", "energy_mwh", "co2_t")


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


def compare_document(results: Sequence[TrainResult]) -> dict[str, Any]:
    """The `compare --json` document: schema llamacalc.compare/1; ratios are to the first model."""
    documents = [train_document(r) for r in results]
    first = documents[0]
    return {
        "schema": "llamacalc.compare/1",
        "models": documents,
        "ratios": [{"model": d["model"], **{key: _ratio(d[key], first[key]) for key in RATIO_KEYS}} for d in documents],
    }


def compare_table(results: Sequence[TrainResult]) -> Table:
    doc = compare_document(results)
    names = [d["model"] or "custom" for d in doc["models"]]
    table = _table("Comparison (ratios to the first column)", "", *names)
    rows: list[tuple[str, str, Any]] = [
        ("parameters", "params", count),
        ("active parameters", "active_params", count),
        ("tokens", "tokens", count),
        ("training compute", "flops", flops),
        ("MFU", "mfu", percent),
        ("GPUs", "gpus", count),
        ("GPU-hours", "gpu_hours", count),
        ("wall-clock", "days", lambda d: duration(d * DAY)),
        ("cost", "cost_usd", money),
        ("energy", "energy_mwh", lambda mwh: energy(mwh * MWH)),
        ("CO2", "co2_t", lambda t: tonnes(t * 1000)),
    ]
    for label, key, shown in rows:
        cells = []
        for d, r in zip(doc["models"], doc["ratios"], strict=True):
            value = d[key]
            text = "—" if value is None else shown(value)
            ratio = r.get(key)
            cells.append(text if ratio is None or d is doc["models"][0] else f"{text} (×{ratio:,.3g})")
        table.add_row(label, *cells)
    return table


def sweep_document(series: Series, results: Sequence[TrainResult]) -> dict[str, Any]:
    """The `sweep --json` document: schema llamacalc.sweep/1."""
    return {
        "schema": "llamacalc.sweep/1",
        "swept": series.key,
        "unit": series.axis.unit,
        "points": [
            {"value": series.display(v), "result": train_document(r)}
            for v, r in zip(series.values, results, strict=True)
        ],
    }


_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: float | None, largest: float, width: int = 14) -> str:
    """A horizontal bar of `width` characters at full scale, in eighths of a character."""
    if value is None or largest <= 0:
        return ""
    eighths = max(1, round(8 * width * value / largest))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def _axis_value(series: Series, value: float) -> str:
    shown = series.display(value)
    if series.key == "mfu":
        return percent(shown)
    text = count(shown) if series.axis.unit in ("", "days") and shown >= 1 else f"{shown:.4g}"
    return f"{text} {series.axis.unit}".strip()


def sweep_table(series: Series, results: Sequence[TrainResult]) -> Table:
    """The sweep as rows, with bars plotting days and cost against the swept input."""
    longest = max(r.budget.seconds for r in results)
    costs = [r.budget.cost for r in results]
    dearest = max((c for c in costs if c is not None), default=0.0)
    table = _table(f"Sweep over --{series.key.replace('_', '-')}", series.key, "GPUs", "days", "", "cost", "")
    table.columns[3].justify = table.columns[5].justify = "left"
    for value, result in zip(series.values, results, strict=True):
        b = result.budget
        table.add_row(
            _axis_value(series, value),
            count(b.gpus),
            f"{b.seconds / DAY:,.1f}",
            bar(b.seconds, longest),
            money(b.cost),
            bar(b.cost, dearest),
        )
    return table


CSV_FIELDS = (
    "line", "error", "model", "gpu", "precision", "params", "active_params", "tokens", "flops",
    "peak_flops_per_gpu", "mfu", "gpus", "days", "gpu_hours", "price_usd_per_gpu_hour", "cost_usd",
    "power_w_per_gpu", "pue", "carbon_kg_per_kwh", "energy_mwh", "co2_t",
    "reported_gpu_hours", "reported_implied_mfu", "reported_co2_t",
)  # fmt: skip


def csv_row(document: Mapping[str, Any], line: int | None = None) -> dict[str, Any]:
    """A train document (or an error object) flattened to CSV_FIELDS; assumptions are left out."""
    row = {key: document.get(key) for key in CSV_FIELDS}
    row["line"] = document.get("line", line)
    reported = document.get("reported") or {}
    for key in ("gpu_hours", "implied_mfu", "co2_t"):
        row[f"reported_{key}"] = reported.get(key)
    return row


# --- backtest -------------------------------------------------------------------------------------


def _error(estimate: float | None, reported: float | None) -> float | None:
    return None if estimate is None or not reported else estimate / reported - 1


def backtest_document(rows: Sequence[BacktestRow]) -> dict[str, Any]:
    """`backtest --json`: schema llamacalc.backtest/1."""
    from llamacalc.backtest import mean_abs_error

    def summary(attribute: str) -> float | None:
        return mean_abs_error([(getattr(r, attribute), r.reported_gpu_hours) for r in rows])

    return {
        "schema": "llamacalc.backtest/1",
        "runs": [
            {
                "model": r.model.name,
                "gpu": r.gpu,
                "reported_gpu_hours": r.reported_gpu_hours,
                "implied_mfu": r.implied_mfu,
                "flat_gpu_hours": r.flat_gpu_hours,
                "flat_error": _error(r.flat_gpu_hours, r.reported_gpu_hours),
                "default_mfu": r.default_mfu,
                "default_gpu_hours": r.default_gpu_hours,
                "default_error": _error(r.default_gpu_hours, r.reported_gpu_hours),
                "leave_one_out_error": _error(r.leave_one_out_gpu_hours, r.reported_gpu_hours),
                "reported_co2_t": r.reported_co2_t,
                "co2_t_at_reported_gpu_hours": r.co2_t_at_reported_gpu_hours,
                "co2_error": _error(r.co2_t_at_reported_gpu_hours, r.reported_co2_t),
                "source": r.model.reported.source if r.model.reported else "",
            }
            for r in rows
        ],
        "mean_abs_error": {
            "flat": summary("flat_gpu_hours"),
            "default": summary("default_gpu_hours"),
            "leave_one_out": summary("leave_one_out_gpu_hours"),
            "co2": mean_abs_error([(r.co2_t_at_reported_gpu_hours, r.reported_co2_t or 0) for r in rows]),
        },
    }


def backtest_table(rows: Sequence[BacktestRow]) -> Table:
    doc = backtest_document(rows)

    def err(value: float | None) -> str:
        return "—" if value is None else f"{value:+.0%}"

    table = _table(
        "Backtest: estimate vs reported GPU-hours (BF16 dense peak; errors = estimate / reported − 1)",
        "model", "reported", "implied MFU", "flat 40%", "default", "default MFU", "leave-1-out", "CO2",
    )  # fmt: skip
    table.columns[0].no_wrap = True
    for run in doc["runs"]:
        table.add_row(
            run["model"], count(run["reported_gpu_hours"]), percent(run["implied_mfu"]), err(run["flat_error"]),
            err(run["default_error"]), percent(run["default_mfu"]), err(run["leave_one_out_error"]),
            err(run["co2_error"]),
        )  # fmt: skip
    means = doc["mean_abs_error"]
    table.add_row(
        "mean |error|", "", "", _abs(means["flat"]), _abs(means["default"]), "", _abs(means["leave_one_out"]),
        _abs(means["co2"]),
    )  # fmt: skip
    table.caption = (
        "Before: one flat 40% MFU for every run. After (default): today's default, the size fit on H100 (fitted to the "
        "dense Llama 3/3.1 runs, so in-sample for those: leave-one-out refits without the run it predicts) and "
        "40% elsewhere (Llama 2 ran on A100). CO2: reported GPU-hours × TDP × PUE 1.09 × 0.367 kg/kWh."
    )
    table.caption_justify = "left"
    return table


def _abs(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


# --- goodput and memory ---------------------------------------------------------------------------


def goodput_document(g: Goodput, lost_per_interruption: float, result: TrainResult) -> dict[str, Any]:
    finite = not math.isinf(g.effective_hours)
    return {
        "interruptions": g.interruptions if finite else None,
        "lost_per_interruption_minutes": lost_per_interruption * 60,
        "lost_days": g.lost_hours / 24 if finite else None,
        "effective_days": g.effective_hours / 24 if finite else None,
        "effective_gpu_hours": g.effective_hours * result.budget.gpus if finite else None,
        "goodput": g.fraction,
    }


def goodput_table(g: Goodput, lost_per_interruption: float, result: TrainResult, source: str) -> Table:
    doc = goodput_document(g, lost_per_interruption, result)
    table = _table("Goodput: interruptions at the Llama 3 405B run's failure rate", "", "value")
    if doc["effective_days"] is None:
        table.add_row("effective wall-clock", "never finishes")
    else:
        table.add_row("expected interruptions", f"{doc['interruptions']:,.0f}")
        table.add_row("wall-clock lost", f"{doc['lost_days']:,.1f} days")
        table.add_row("effective wall-clock", f"{doc['effective_days']:,.1f} days")
        table.add_row("effective GPU-hours", count(doc["effective_gpu_hours"]))
    table.add_row("goodput", percent(doc["goodput"]))
    table.add_row("lost per interruption", f"{doc['lost_per_interruption_minutes']:.1f} min")
    table.min_width = 72
    table.caption = source
    table.caption_justify = "left"
    return table


_GIB = 2.0**30


def memory_document(
    model: str | None,
    layout: Layout,
    used: Memory,
    hbm: float,
    gpu: str,
    min_dp: int | None,
    fewest: tuple[int, Layout] | None,
) -> dict[str, Any]:
    """`memory --json`: schema llamacalc.memory/1; bytes per GPU."""
    return {
        "schema": "llamacalc.memory/1",
        "model": model,
        "gpu": gpu,
        "layout": dict(vars(layout)),
        "bytes_per_gpu": {
            "weights": used.weights,
            "gradients": used.gradients,
            "optimizer": used.optimizer,
            "activations": used.activations,
            "total": used.total,
        },
        "gpu_memory_bytes": hbm,
        "fits": used.total <= hbm,
        "min_dp": min_dp,
        "min_gpus": None if min_dp is None else min_dp * layout.tp * layout.pp,
        "fewest_gpus": None if fewest is None else fewest[0],
        "fewest_layout": None if fewest is None else dict(vars(fewest[1])),
    }


def memory_table(doc: Mapping[str, Any]) -> Table:
    layout = doc["layout"]
    title = (
        f"Training memory per GPU: TP {layout['tp']} × PP {layout['pp']} × DP {layout['dp']}"
        f"{' × EP ' + str(layout['ep']) if layout['ep'] > 1 else ''}, ZeRO-{layout['zero']}, "
        f"micro-batch {layout['micro_batch']}, recompute {layout['recompute']}"
    )
    table = _table(title, "", "GiB")
    for key, value in doc["bytes_per_gpu"].items():
        table.add_row(key, "—" if value is None else f"{value / _GIB:,.1f}")
    table.add_row(f"{doc['gpu']} memory", f"{doc['gpu_memory_bytes'] / _GIB:,.1f}")
    table.add_row("fits", "yes" if doc["fits"] else "NO")
    at_layout = "none: what ZeRO cannot shard exceeds the GPU" if doc["min_gpus"] is None else count(doc["min_gpus"])
    table.add_row("fewest GPUs at this TP, PP, ZeRO", at_layout)
    fewest = doc["fewest_layout"]
    table.add_row(
        "fewest GPUs at all (ZeRO-3, full recompute, TP ≤ 8)",
        "none"
        if fewest is None
        else f"{count(doc['fewest_gpus'])} (TP {fewest['tp']} × PP {fewest['pp']} × DP {fewest['dp']})",
    )
    return table
