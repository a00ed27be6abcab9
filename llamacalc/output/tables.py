"""Tables for people, built with rich (imported inside `_table`, so only when a table is drawn).

Each function returns a `Table`; only the CLI prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from llamacalc.errors import LlamacalcError, printable
from llamacalc.inputs import option
from llamacalc.output.documents import (
    compare_document,
    conventions,
    formula,
    goodput_document,
)
from llamacalc.output.numbers import (
    BY_UNIT,
    COUNT,
    DAYS,
    DOLLARS,
    DURATION,
    ENERGY,
    IN_DISPLAY_UNIT,
    MASS,
    PERCENT,
    UNITS,
    Ladder,
    bar,
    count,
    duration,
    energy,
    flops,
    in_one_style,
    margin,
    money,
    percent,
    power,
    price,
    quantity,
    ranged,
    rate,
    scientific,
    significant,
    tonnes,
    whole,
)
from llamacalc.output.render import renderer, renders
from llamacalc.units import BANDWIDTH, DAY, HOUR, MEMORY, MONEY, POWER, PRICE, RATE, parse_quantity

if TYPE_CHECKING:  # types only: `train --json` and `batch` import none of these modules
    from rich.table import Table

    from llamacalc.catalog import Catalog, Citations
    from llamacalc.estimates.backtest import Backtest
    from llamacalc.estimates.checks import Check
    from llamacalc.estimates.fleet import Fleet
    from llamacalc.estimates.layout import LayoutResult
    from llamacalc.estimates.memory import MemoryEstimate
    from llamacalc.estimates.plan import InferencePlan, LossReport, OptimalPlan, Optimum, Overtraining
    from llamacalc.estimates.serve import ServeEstimate, ServingBacktest
    from llamacalc.estimates.steps import StepBacktest
    from llamacalc.estimates.sweep import Sweep
    from llamacalc.estimates.train import Compared, Conventions, LayoutJoin, ServingBill, TrainReport, TrainResult
    from llamacalc.goodput import Goodput
    from llamacalc.inputs import Assumption
    from llamacalc.resolve import Resolved
    from llamacalc.specs import Entry
    from llamacalc.step import Step
    from llamacalc.sweep_setups import Series


def _table(title: str | None = None, *columns: str) -> Table:
    from rich import box
    from rich.table import Table

    class Printable(Table):
        """A table whose cells show control characters from preset files escaped, never acting."""

        def add_row(self, *cells: Any, **options: Any) -> None:
            super().add_row(*(printable(c) if isinstance(c, str) else c for c in cells), **options)

    table = Printable(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):  # folded, never cut with '…': a narrow terminal wraps a name
        table.add_column(column, justify="left" if i == 0 else "right", overflow="fold")
    return table


def train_table(result: TrainResult, assumed: bool = False) -> Table:
    """Estimate beside the publisher's reported figures, in human units; with `assumed`, a line
    naming the assumptions that move it most."""
    s, b, r = result.resolved, result.budget, result.reported
    model = s.model
    title = (
        "Custom model"
        if model is None
        else model.name
        if model.title == model.name
        else f"{model.title} ({model.name})"
    )
    size = []  # what is trained, in the title: the rows are what it costs
    if s.params is not None:
        active = f" ({count(s.active_params)} active)" if s.active_params != s.params else ""
        size.append(f"{count(s.params)}{active} parameters")
    if s.tokens is not None:
        size.append(f"{count(s.tokens)} tokens")
    reported = r is not None
    table = _table(
        f"{title}: {', '.join(size)}" if size else title, "", "estimate", *(["reported"] if reported else [])
    )

    def row(label: str, estimate: str, published: str = "") -> None:
        table.add_row(label, estimate, *([published] if reported else []))

    row("training compute", f"{flops(b.flops)} ({s.convention})")
    row("GPU", f"{s.hardware.name}, {s.precision} peak {rate(s.peak)}", r.gpu or "" if r else "")
    row(
        "MFU",
        _spread(result, "mfu", s.mfu, PERCENT),
        f"{percent(r.implied_mfu)} implied" if r and r.implied_mfu else "",
    )
    row("GPUs", _spread(result, "gpus", b.gpus, whole), whole(r.gpus) if r and r.gpus else "")
    row(
        "wall-clock",
        _spread(result, "seconds", b.seconds, DURATION),
    )
    row(
        "GPU-hours",
        _spread(result, "gpu_seconds", b.gpu_seconds, COUNT, HOUR),
        count(r.gpu_hours) if r and r.gpu_hours else "",
    )
    row("cost", _spread(result, "cost", b.cost, DOLLARS))
    row("energy", _spread(result, "energy", b.energy, ENERGY))
    published_co2 = tonnes(r.co2_t * 1000) if r and r.co2_t else ""
    row("CO2 (location-based)", _spread(result, "co2", b.co2, MASS), published_co2)
    if result.facility_watts is not None:
        row("facility power", power(result.facility_watts))
    notes = [*([note] if (note := _range_note([result])) else []), _jargon([result])]
    if result.cost_parts is not None:
        parts = ", ".join(f"{name} {money(value)}" for name, value in result.cost_parts.items())
        notes.append(f"owned: {parts} (Epoch AI's amortisation)")
    if s.extrapolation:
        notes.append("extrapolated beyond the fitted runs: " + "; ".join(s.extrapolation))
    if r is not None:
        notes.append(f"reported: {r.source}")
    if assumed:
        notes.append(assumed_line(s.assumptions))
    if housed := config_line(s.assumptions):
        notes.append(housed)
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    return table


def _range_note(results: Sequence[TrainResult]) -> str | None:
    """What a range means, in plain words, and what it spreads over: the efficiency model's MFU, the
    price presets' range, or both; None when nothing spreads."""
    mfu = any(r.ranges["mfu"].p10 != r.ranges["mfu"].p90 for r in results)
    bands = {(band.p10, band.p90) for r in results if (band := r.ranges.get("price"))}
    if not bands and not mfu:
        return None
    price = "the GPUs' price ranges"
    if len(bands) == 1:
        ((low, high),) = bands
        price = f"{_price(low)}–{_price(high)}/GPU-h"
    spread = ", ".join([*(["MFU"] if mfu else []), *([price] if bands else [])])
    return f"Ranges (P10–P90): where 8 in 10 runs like this land ({spread})"


def _jargon(results: Sequence[TrainResult]) -> str:
    """The two words of the default output a reader may not know, in one line."""
    six = any(r.resolved.convention == "6nd" for r in results)
    return "MFU: the share of peak GPU speed a run uses" + ("; 6nd: 6 × parameters × tokens FLOP" if six else "")


def _range_caption(table: Table, results: Sequence[TrainResult]) -> None:
    """What the ranges and the jargon mean, and what the config file gave (the same to every run)."""
    housed = config_line(results[0].resolved.assumptions) if results else None
    table.caption = "\n".join(filter(None, [_range_note(results), _jargon(results), housed]))
    table.caption_justify = "left"


def _price(usd_per_second: float) -> str:
    return f"${usd_per_second * HOUR:,.2f}"


def _spread(
    result: TrainResult, key: str, value: float | None, shown: Ladder | Callable[[float], str], per: float = 1.0
) -> str:
    """The figure `value` (`key` of the result's ranges, over `per`) with its P10–P90 range, in one style:
    '109 days (72.4–166 days)', '$129M ($72.4M–$210M)'."""
    band = result.ranges.get(key)
    if value is None:
        return "—"
    if isinstance(shown, Ladder):
        return shown(value / per) if band is None else shown.range(value / per, band.p10 / per, band.p90 / per)
    return (
        shown(value / per) if band is None else ranged(shown(value / per), shown(band.p10 / per), shown(band.p90 / per))
    )


def serving_bill_table(result: TrainResult, bill: ServingBill) -> Table:
    """Training beside serving: the lifetime bill, with its split."""
    b = result.budget
    table = _table(f"Lifetime: training, then serving {count(bill.tokens)} tokens", "", "training", "serving")
    table.add_row("compute", flops(b.flops), flops(bill.flops))
    table.add_row("GPU-hours", count(b.gpu_seconds / HOUR), count(bill.gpu_hours))
    table.add_row("cost", money(b.cost), money(bill.cost))
    table.caption = f"serving at {bill.tokens_per_s_per_gpu:,.0f} output tokens/s per GPU (llamacalc serve, bf16)"
    table.caption_justify = "left"
    return table


def breakdown_table(s: Resolved) -> Table:
    """Training FLOPs by component, with the formula as the title."""
    table = _table(in_one_style(formula(s)), "component", "FLOP/token", "FLOP", "share")
    if s.counted is None:
        return table
    shares, totals = s.counted.shares(), s.flops_by_component
    for component, value in s.counted.components.items():
        total = flops(totals[component]) if component in totals else "—"
        table.add_row(component, scientific(value), total, percent(shares[component]))
    return table


def conventions_table(counted: Conventions) -> Table:
    table = _table("FLOP conventions, side by side", "convention", "FLOP/token", "FLOP", "vs 6nd", "days", "GPU-hours")
    for c in conventions(counted):
        recompute = {None: "", "none": " (no recompute)"}.get(c["recompute"], f" ({c['recompute']} recompute)")
        name = c["convention"] + recompute
        per_token = "—" if c["flops_per_token"] is None else scientific(c["flops_per_token"])
        table.add_row(
            name,
            per_token,
            flops(c["flops"]),
            f"×{significant(c['ratio_to_6nd'])}",
            significant(c["days"]),
            count(c["gpu_hours"]),
        )
    return table


FRACTIONS = frozenset({"mfu"})  # inputs that are shares of a whole: shown as percentages


def _shown(name: str, a: Assumption) -> str:
    if isinstance(a.value, bool) or not isinstance(a.value, int | float):
        return str(a.value)
    if name in FRACTIONS:
        return percent(a.value)
    return whole(a.value) if name == "gpus" else quantity(a.value, a.unit)


SHOWN_ASSUMPTIONS = ("mfu", "gpus", "gpu", "price", "pue", "carbon")  # what moves the answer most, in order


_ASSUMED_AS: dict[str, Callable[[Any], str]] = {
    "mfu": lambda v: f"MFU {percent(v)}", "gpus": lambda v: f"{whole(v)} GPUs", "gpu": str,
    "price": price, "pue": lambda v: f"PUE {v:g}", "carbon": BY_UNIT["kg/kWh"],
}  # fmt: skip


def assumed_line(assumptions: Mapping[str, Assumption]) -> str:
    """One line under the answer: the assumed inputs that move it most, and where to see the rest."""
    assumed = [
        _ASSUMED_AS[name](assumptions[name].value)
        for name in SHOWN_ASSUMPTIONS
        if name in assumptions and assumptions[name].is_assumption and assumptions[name].origin != "user"
    ]
    lead = f"assumed: {', '.join(assumed)}; " if assumed else ""
    return f"{lead}more: --sources"


def config_line(assumptions: Mapping[str, Assumption]) -> str | None:
    """The inputs a config file gave, with the file: a house default never moves an answer unseen."""
    housed = [(name, a) for name, a in assumptions.items() if a.origin == "config"]
    if not housed:
        return None
    where = housed[0][1].source.removesuffix(" [defaults]")
    return f"from {where}: " + ", ".join(f"{name} {_shown(name, a)}" for name, a in housed)


def assumptions_table(assumptions: Mapping[str, Assumption]) -> Table:
    table = _table("Inputs", "input", "value", "from", "source")
    table.caption = "A citation such as [S7]: llamacalc sources S7"
    table.caption_justify = "left"
    table.columns[3].justify = "left"
    for name, a in assumptions.items():
        table.add_row(name, _shown(name, a), a.provenance, a.source)
    return table


def presets_table(catalog: Catalog) -> list[Table]:
    """A table per kind, each preset with its key figures as written in its file (listing parses no
    quantity), so that each kind's columns fit its own names."""
    kinds = [kind for kind, entries in catalog.entries.items() if entries]
    tables = []
    for kind in kinds:
        entries = catalog.entries[kind]
        cited = kind == "sources"  # a citation's title is the reference: the one thing to show
        figures = {name: key_figures(entry) for name, entry in entries.items()}
        stacked = not cited and not _fits(list(entries), list(figures.values()), [e.title for e in entries.values()])
        columns = (
            ("tag", "reference")
            if cited
            else ("name", "title, key figures")
            if stacked
            else ("name", "key figures", "title")
        )
        table = _table(f"{kind} ({len(entries)})", *columns)
        for column in table.columns:
            column.justify = "left"
        table.columns[0].no_wrap = True  # a name is never cut
        cells: list[tuple[str, ...]] = [
            (name, "\n".join(filter(None, [entry.title, figures[name]])))
            if cited or stacked
            else (name, figures[name], entry.title)
            for name, entry in entries.items()
        ]
        for row in cells:
            table.add_row(*row)
        _unbroken(table, *zip(*cells, strict=True))
        if kind == "hardware":
            table.caption = "peak: dense BF16; price: on demand"
            table.caption_justify = "left"
        tables.append(table)
    if len(kinds) > 1:
        tables[-1].caption = "one kind: llamacalc presets KIND; one preset: llamacalc presets show NAME"
        tables[-1].caption_justify = "left"
    return tables


def _fits(*columns: Sequence[str]) -> bool:
    """Whether columns of these cells fit the table's width with nothing cut: every line of each
    column but the last whole (names, figures), the last wrapped between words, and the padding."""
    *whole, wrapped = columns
    lines = sum(max((len(line) for cell in column for line in cell.splitlines()), default=0) for column in whole)
    return lines + _longest_word(wrapped) + 3 * len(columns) + 1 <= width()


def _longest_word(cells: Sequence[str]) -> int:
    return max((len(word) for cell in cells for word in cell.split()), default=0)


def _unbroken(table: Table, *columns: Sequence[str]) -> None:
    """Every column but the last unwrapped, and the last at least as wide as its longest word, so that
    fitting the width wraps it between words; where nothing can (a URL longer than the terminal),
    rich folds as it would."""
    if not _fits(*columns):
        return
    for column in table.columns[:-1]:
        column.no_wrap = True
    table.columns[-1].min_width = _longest_word(columns[-1])


def key_figures(entry: Entry) -> str:
    """What tells one preset of a kind from another, a figure a line (so that none wraps inside): a
    GPU's peak, memory and price, a model's size and tokens, a cluster's GPUs, a run's hours."""
    f = entry.fields

    def figure(key: str, suffix: str = "") -> str | None:
        value = f.get(key)
        if value is None:
            return None
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return f"{count(value) if is_number else _field(entry, key, value)}{suffix}"

    def on(count_key: str, gpu_key: str) -> str:
        n = f.get(count_key)
        return f"{whole(n) if isinstance(n, int) else n} × {f.get(gpu_key)}"

    parts: list[str | None]
    match entry.kind:
        case "models":
            scaled = f"{f['based_on']} × {f.get('compute_scale', '?')} compute" if "based_on" in f else None
            parts = [figure("params", " params"), figure("active_params", " active"), figure("tokens", " tokens")]
            parts.append(scaled)
        case "hardware":
            parts = [figure("peak_bf16"), figure("memory"), figure("price")]
        case "clusters":
            parts = [on("gpus", "gpu"), figure("capex", " capex")]
        case "laws":
            parts = [figure("form")]
        case "runs":
            hours = figure("accelerator_hours")
            parts = [figure("params", " params"), figure("tokens", " tokens")]
            parts.append(hours and f"{hours} h on {f.get('accelerator')}")
        case "serving":
            parts = [str(f.get("model")), on("tp", "accelerator"), figure("tokens_per_s", " tokens/s")]
        case "steps":
            parts = [on("gpus", "gpu"), figure("tokens_per_s_per_gpu", " tokens/s/GPU")]
        case "pricing":
            low_high = f.get("discount")
            parts = [f"{percent(low_high[0], 2)}–{percent(low_high[1], 2)} off" if isinstance(low_high, list) else None]
        case "ownership":
            parts = [figure("electricity"), figure("depreciation_ooms_per_year", " OOM/year")]
        case _:
            parts = []
    return "\n".join(p for p in parts if p)


def entry_table(entry: Entry) -> Table:
    if entry.kind == "sources":  # a citation tag: the reference is the whole entry
        table = _table(f"[{entry.name}] ({entry.path.name})", "")
        table.show_header = False
        table.add_row(entry.title)
        return table
    cited: dict[str, str] = {}  # each source given once: a later figure from it names the first

    def once(key: str, source: str) -> str:
        if not source:
            return ""
        first = cited.setdefault(source, key)
        return source if first == key else f"as {first}"

    rows = []
    for key, value in entry.fields.items():
        if key in ("source", "sources", "title"):
            continue
        if isinstance(value, dict):
            for sub, subvalue in value.items():  # a table's own source is a source: a row only if unused
                if sub != "source":
                    rows.append(
                        (f"{key}.{sub}", _written(subvalue), once(f"{key}.{sub}", str(value.get("source", ""))))
                    )
                elif str(subvalue) not in cited:
                    rows.append((f"{key}.{sub}", "", once(f"{key}.{sub}", str(subvalue))))
        else:
            source = entry.source_of(key) if key in entry.figures else ""
            rows.append((key, _field(entry, key, value), once(key, source)))
    stacked = not _fits(*([row[i] for row in rows] for i in range(3)))  # the source under its value
    title = f"{entry.title} ({entry.kind}.{entry.name}, {entry.path.name})"
    table = _table(title, "field", "value, source") if stacked else _table(title, "field", "value", "source")
    for column in table.columns:
        column.justify = "left"
    table.columns[0].no_wrap = True  # a field's name is never cut
    cells = [(key, f"{shown}\n{source}".strip()) if stacked else (key, shown, source) for key, shown, source in rows]
    for row in cells:
        table.add_row(*row)
    _unbroken(table, *zip(*cells, strict=True))
    return table


# Preset fields holding a quantity: shown in the one number style (1,978.9 TFLOP/s, 3.35 TB/s, $3.00/GPU-h).
QUANTITY_FIELDS = {
    "peak_bf16": RATE, "peak_fp8": RATE, "peak_int8": RATE, "memory": MEMORY, "bandwidth": BANDWIDTH,
    "power": POWER, "price": PRICE, "price_range": PRICE, "purchase_price": MONEY, "capex": MONEY,
}  # fmt: skip


def _field(entry: Entry, key: str, value: Any) -> str:
    """A preset's field for people: a quantity in the one number style, else as written."""
    kind = QUANTITY_FIELDS.get(key) if entry.kind in ("hardware", "clusters") else None
    if kind is None:
        return _written(value)
    try:
        values = [parse_quantity(v, kind) for v in (value if isinstance(value, list) else [value])]
    except (LlamacalcError, ValueError, TypeError):
        return _written(value)
    return "–".join(quantity(v, kind.unit) for v in values)


def _written(value: Any) -> str:
    """A preset's value as written in its file, for people: lists joined, numbers with separators."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_written(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_written(v)}" for k, v in value.items())
    if isinstance(value, int | float):
        return f"{value:,}" if abs(value) >= 1e4 else f"{value:g}"
    return str(value)


_BOUND_BY = {
    "compute": "compute",
    "money": "money binds",
    "time": "GPUs × days bind",
    "money and time": "money spent within the deadline",
}


def optimal_table(plan: OptimalPlan) -> Table:
    table = _table(
        f"Compute-optimal models for {flops(plan.flops)} ({_BOUND_BY[plan.binding]})",
        "",
        *(o.law.name for o in plan.optima),
    )
    rows: list[tuple[str, Any]] = [
        ("parameters", lambda o: count(o.split.params)),
        ("tokens", lambda o: count(o.split.tokens)),
        ("tokens / parameter", lambda o: significant(o.split.tokens_per_param)),
        ("predicted loss", lambda o: "no loss law" if o.split.loss is None else f"{o.split.loss:.4f}"),
        ("GPUs", lambda o: f"{whole(o.train.budget.gpus)} {o.train.resolved.hardware.name}"),
        ("MFU", lambda o: _spread(o.train, "mfu", o.train.resolved.mfu, PERCENT)),
        ("wall-clock", lambda o: _spread(o.train, "seconds", o.train.budget.seconds, DURATION)),
        ("GPU-hours", lambda o: _spread(o.train, "gpu_seconds", o.train.budget.gpu_seconds, COUNT, HOUR)),
        ("cost", lambda o: _spread(o.train, "cost", o.train.budget.cost, DOLLARS)),
        ("energy", lambda o: _spread(o.train, "energy", o.train.budget.energy, ENERGY)),
        ("CO2", lambda o: _spread(o.train, "co2", o.train.budget.co2, MASS)),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(o) for o in plan.optima))
    _range_caption(table, [o.train for o in plan.optima])
    if not plan.sources:  # the answer first: the assumptions in a line, every input behind --sources
        table.caption = "\n".join(filter(None, [str(table.caption or ""), assumed_line(plan.assumptions)]))
        table.caption_justify = "left"
    return table


def fleet_tables(f: Fleet) -> list[Table]:
    """The fleet's price of a GPU-hour first, bracketed: the capex's rate, what that capex covers,
    and the purchase price's rate as the lower bound; then each model's share of a fleet-year."""
    gpu = f.hardware.name
    table = _table(f"{f.cluster.title} ({f.cluster.name}) as an owned fleet", "", "value")
    if f.capex_rate is not None:
        energy = ", energy" if f.capex_rate.energy else ""
        table.add_row("$/GPU-hour on capex", f"${f.capex_rate.total * HOUR:,.2f} (capex over GPUs and life{energy})")
    if f.owned is not None:
        table.add_row("$/GPU-hour, lower bound", f"${f.owned.total * HOUR:,.2f} (purchase price, networking, energy)")
    table.add_row("GPUs", f"{whole(f.cluster.gpus)} {gpu}")
    if f.capex is not None and f.capex_per_gpu is not None:
        table.add_row("capex", f"{money(f.capex)} ({money(f.capex_per_gpu)} per GPU)")
    if f.facility_watts is not None:
        table.add_row("facility power", power(f.facility_watts))
    table.add_row(f"{gpu} hours a year", count(f.gpu_hours_per_year))
    notes = []
    if f.capex is not None:
        given = ", spread as if it bought the fleet whole" if f.capex_given else ""
        notes.append(f"capex covers: {f.cluster.entry.source_of('capex')}{given}")
        if f.owned is not None and f.capex_rate is not None and f.capex_rate.total < f.owned.total:
            notes.append("the capex is less than the GPUs' purchase price: its rate is below the lower bound")
    else:
        notes.append("no capex in the preset: --capex gives the rate of what was spent")
    if f.owned is not None:
        notes.append(
            f"lower bound: {gpu}'s purchase price with its server share, and cluster networking (Epoch AI's "
            "method); a capex that paid for buildings and other servers too gives an upper bound"
        )
    notes.append(f"depreciation: {f.depreciation}")
    if housed := config_line(f.assumptions):
        notes.append(housed)
    if not f.sources:
        notes.append("more: --sources")
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    shares = _table(f"Each run's share of a fleet-year ({gpu} GPU-hours)", "model", "GPU-hours", "share")
    shares.columns[0].no_wrap = True  # a name is never cut: the ranges wrap whole beside it
    for s in f.shares:
        hours = s.gpu_hours
        shown = (
            f"{count(hours.p50)}, reported"
            if s.reported
            else ranged(count(hours.p50), count(hours.p10), count(hours.p90))
        )
        shares.add_row(s.model, shown, percent(s.share.p50, 2))
    shares.caption = (
        "reported: the publisher's GPU-hours; else llamacalc's estimate at the model's own scale, with the range "
        "8 in 10 runs like it land in (P10–P90, from the efficiency model's error on published runs left out "
        "of its fit)"
    )
    shares.caption_justify = "left"
    return [table, shares, *([assumptions_table(f.assumptions)] if f.sources else [])]


def _tp_fabric(e: ServeEstimate) -> str:
    """Where a replica's TP all-reduces run: the scale-up fabric, or the network past its domain."""
    hardware, tp = e.setting.hardware, e.setting.tp
    if not e.over_network:
        return f"over {hardware.name}'s scale-up fabric"
    domain = f"{hardware.scale_up_domain}-GPU " if hardware.scale_up_domain else ""
    return f"over the network (TP {tp} spans more than {hardware.name}'s {domain}scale-up domain)"


def serve_table(e: ServeEstimate) -> Table:
    """What a buyer asks first ($/M tokens, tokens/s per user), then the load behind it."""
    s, at = e.setting, e.load
    targets = [
        f"TPOT ≤ {_seconds(e.max_tpot)}" if e.max_tpot else "",
        f"TTFT ≤ {_seconds(e.max_ttft)}" if e.max_ttft else "",
    ]
    load = (
        f"the highest load meeting {' and '.join(t for t in targets if t)}"
        if e.max_tpot or e.max_ttft
        else ("the most that fit" if at.concurrency == e.max_concurrency else "as asked")
    )
    table = _table(
        f"Serving {e.model} on {s.tp} × {s.hardware.name} ({s.precision}, KV cache {s.kv}"
        f"{f', EP {s.ep}' if s.ep > 1 else ''}): {count(s.input)} in / {count(s.output)} out per request",
        "",
        "value",
    )
    usd = e.usd_per_million_tokens
    if usd is not None:
        table.add_row("cost per million output tokens", ranged(*(_usd(usd[k]) for k in ("p50", "p10", "p90"))))
    table.add_row("tokens/s per user", f"{significant(at.tokens_per_s_per_user)} (TPOT {_seconds(at.tpot)})")
    table.add_row("time to first token", _seconds(at.ttft))
    band = e.tokens_per_s
    table.add_row("output tokens/s, replica", ranged(count(band["p50"]), count(band["p10"]), count(band["p90"])))
    table.add_row("output tokens/s per GPU", count(e.tokens_per_s_per_gpu))
    most = "" if at.concurrency == e.max_concurrency else f";\nat most {whole(e.max_concurrency)} fit"
    table.add_row("concurrency", f"{whole(at.concurrency)} requests\n({load}{most})")
    if e.gpus is not None and e.tokens_per_day is not None:
        g = e.gpus
        shown = whole(g["p50"]) if g["p10"] == g["p90"] else f"{whole(g['p50'])} ({whole(g['p10'])}–{whole(g['p90'])})"
        table.add_row(f"GPUs for {count(e.tokens_per_day)} tokens/day", shown)
    parts = e.parts
    table.add_row(
        "one iteration (TPOT)",
        "\n".join([*(f"{name} {_seconds(value)}" for name, value in parts.items() if value > 0), f"{e.bound}-bound"]),
    )
    table.add_row(
        "weights, KV cache per token",
        f"{significant(e.weight_bytes / 1e9)} GB, {significant(e.kv_bytes_per_token / 1e3)} kB",
    )
    table.add_row("KV cache holds", f"{count(e.kv_tokens)} tokens")
    c = e.calibration
    table.caption = (
        f"Continuous batching, prefill chunked beside decode; compute and HBM traffic of each kernel from the "
        f"architecture, TP all-reduces {_tp_fabric(e)}. Fitted to {c.runs} published runs "
        f"(TensorRT-LLM, NIM): compute at {1 / c.compute:.0%} of the measured GEMM ceiling (half of it at "
        f"{c.half_rate:.0f} tokens), HBM at {1 / c.memory:.0%} of its peak, {c.kernel * 1e6:.1f} µs a kernel; "
        "(P10–P90) from each run's error left out of the fit. "
        f"{s.precision.upper()} peak {e.peak / 1e12:,.0f} TFLOP/s dense per GPU: {e.peak_source}."
        + (f" Extrapolated: {s.hardware.name} is not among the runs." if e.extrapolated else "")
        + (f"\n{housed}" if (housed := config_line(e.assumptions)) else "")
    )
    table.caption_justify = "left"
    return table


def _usd(value: float) -> str:
    return f"${value:,.3g}" if value < 100 else f"${value:,.0f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1e3:,.3g} ms" if value < 1 else f"{value:,.3g} s"


def inference_table(plan: InferencePlan) -> Table:
    first = plan.found[0]
    objective = "cost" if plan.by_cost else "compute"
    table = _table(
        f"Loss {first.target:g} at the least training + inference {objective}, for {count(plan.served)} "
        "inference tokens",
        "",
        *(f.law.name for f in plan.found),
    )
    table.add_row("parameters", *(count(f.params) for f in plan.found))
    table.add_row("training tokens", *(count(f.tokens) for f in plan.found))
    table.add_row("tokens / parameter", *(significant(f.tokens / f.params) for f in plan.found))
    table.add_row("training compute", *(flops(f.flops(f.params, f.tokens)[0]) for f in plan.found))
    table.add_row("inference compute", *(flops(f.flops(f.params, f.tokens)[1]) for f in plan.found))
    if plan.by_cost:
        table.add_row("training, serving cost", *(" + ".join(money(v) for v in f.dollars() or ()) for f in plan.found))
    table.add_row("compute-optimal model, same loss", *(count(f.baseline_params) for f in plan.found))
    table.add_row("its training tokens", *(count(f.baseline_tokens) for f in plan.found))
    if plan.by_cost:
        table.add_row("its lifetime cost", *(money(sum(f.dollars(baseline=True) or ())) for f in plan.found))
    else:
        table.add_row(
            "its lifetime compute", *(flops(sum(f.flops(f.baseline_params, f.baseline_tokens))) for f in plan.found)
        )
    table.add_row(f"lifetime {objective} saved", *(percent(f.saving) for f in plan.found))
    table.caption = f"Sardana et al. 2024: minimise lifetime {objective} subject to L(N, D) = the target loss" + (
        f"; {plan.serving_basis}" if plan.serving_basis else ""
    )
    table.caption_justify = "left"
    return table


def loss_table(title: str, reports: Sequence[LossReport]) -> Table:
    first = reports[0]
    table = _table(
        f"{title}: {count(first.params)} parameters on {count(first.tokens)} tokens "
        f"({significant(first.tokens_per_param)} tokens/parameter), {flops(first.flops)}",
        "",
        *(r.law.name for r in reports),
    )

    def loss_text(value: float | None) -> str:
        return "no loss law" if value is None else f"{value:.4f}"

    table.add_row("predicted loss", *(loss_text(r.loss) for r in reports))
    table.add_row("optimal parameters at this compute", *(count(r.optimal.params) for r in reports))
    table.add_row("optimal tokens", *(count(r.optimal.tokens) for r in reports))
    table.add_row("optimal tokens / parameter", *(significant(r.optimal.tokens_per_param) for r in reports))
    table.add_row("optimal loss", *(loss_text(r.optimal.loss) for r in reports))
    table.add_row("loss above optimal", *("—" if r.gap is None else f"{r.gap:+.4f}" for r in reports))
    table.add_row(
        "inference tokens that make it optimal",
        *("—" if r.inference_tokens is None else count(r.inference_tokens) for r in reports),
    )
    return table


def overtraining_table(found: Sequence[Overtraining]) -> Table:
    first = found[0]
    table = _table(f"{count(first.params)} parameters to loss {first.target:g}", "", *(o.law.name for o in found))
    table.add_row("tokens needed", *(count(o.tokens) for o in found))
    table.add_row("tokens / parameter", *(significant(o.tokens / o.params) for o in found))
    table.add_row("training compute", *(flops(o.flops) for o in found))
    table.add_row("compute-optimal model for this loss", *(count(o.optimal.params) for o in found))
    table.add_row("its tokens", *(count(o.optimal.tokens) for o in found))
    table.add_row("its compute", *(flops(o.optimal.flops) for o in found))
    table.add_row("extra compute for the smaller model", *(f"{o.extra_compute:+.0%}" for o in found))
    return table


SHOWN_CHECKS = 100  # rows a check table draws: past them, the failing checks and a count (all in --json)


def check_table(runs: Sequence[tuple[str | None, TrainResult, Sequence[Check]]]) -> Table:
    """Each run's limits, pass or FAIL; a plan past SHOWN_CHECKS checks shows its failing ones first, says
    how many it leaves out, and where every one is (a 10,000-run plan checks in seconds, not in drawing)."""
    table = _table("Budget check", "run", "limit", "value", "maximum", "margin", "")
    rows = [(name, result, c) for name, result, checks in runs for c in checks]
    shown = rows if len(rows) <= SHOWN_CHECKS else [row for row in rows if not row[2].passed][:SHOWN_CHECKS]
    last = None
    for name, result, c in shown:
        label = name or (result.resolved.model.name if result.resolved.model else "custom")
        figure = IN_DISPLAY_UNIT[c.limit.figure]
        at = "" if c.confidence == 0.5 else f" (P{c.confidence * 100:.3g})"
        table.add_row(
            "" if label == last else label, c.limit.label, figure(c.value) + at, figure(c.maximum),
            margin(c.margin, c.ratio), "pass" if c.passed else "FAIL",
        )  # fmt: skip
        last = label
    if len(shown) < len(rows):
        failing = sum(not c.passed for _, _, c in rows)
        failed_runs = sum(any(not c.passed for c in checks) for _, _, checks in runs)
        verdict = (
            f"{failed_runs:,} runs fail {failing:,} checks; shown: "
            f"{'the first ' if len(shown) < failing else ''}{len(shown):,} failing"
            if failing
            else "every check passes"
        )
        table.caption = f"{len(runs):,} runs, {len(rows):,} checks: {verdict}. Every check: --json"
        table.caption_justify = "left"
    if runs and (housed := config_line(runs[0][1].resolved.assumptions)):
        table.caption = "\n".join(filter(None, [str(table.caption or ""), housed]))
        table.caption_justify = "left"
    return table


def compare_table(compared: Compared) -> Table:
    results = compared.results
    doc = compare_document(compared)
    names = [d["model"] or "custom" for d in doc["models"]]
    table = _table("Comparison (ratios to the first column)", "", *names)
    rows: list[tuple[str, str, Callable[[TrainResult], str]]] = [
        ("parameters", "params", lambda r: count(r.resolved.params)),
        ("active parameters", "active_params", lambda r: count(r.resolved.active_params)),
        ("tokens", "tokens", lambda r: count(r.resolved.tokens)),
        ("training compute", "flops", lambda r: flops(r.budget.flops)),
        ("MFU", "mfu", lambda r: _spread(r, "mfu", r.resolved.mfu, PERCENT)),
        ("GPUs", "gpus", lambda r: _spread(r, "gpus", r.budget.gpus, whole)),
        ("GPU-hours", "gpu_hours", lambda r: _spread(r, "gpu_seconds", r.budget.gpu_seconds, COUNT, HOUR)),
        ("wall-clock", "days", lambda r: _spread(r, "seconds", r.budget.seconds, DURATION)),
        ("cost", "cost_usd", lambda r: _spread(r, "cost", r.budget.cost, DOLLARS)),
        ("energy", "energy_mwh", lambda r: _spread(r, "energy", r.budget.energy, ENERGY)),
        ("CO2", "co2_t", lambda r: _spread(r, "co2", r.budget.co2, MASS)),
    ]
    for label, key, shown in rows:
        cells = []
        for result, d, r in zip(results, doc["models"], doc["ratios"], strict=True):
            text = "—" if d[key] is None else shown(result)
            ratio = r.get(key)
            cells.append(text if ratio is None or d is doc["models"][0] else f"{text} ×{significant(ratio)}")
        table.add_row(label, *cells)
    _range_caption(table, results)
    return table


def axis_value(series: Series, value: Any) -> str:
    shown = series.display(value)
    if series.named:
        return str(shown)
    if series.key == "mfu":
        return percent(shown)
    if series.key == "gpus":
        return whole(shown)
    text = count(shown) if series.axis.display[0] in ("", "days") and shown >= 1 else f"{shown:.4g}"
    return f"{text} {series.axis.display[0]}".strip()


SWEEP_BAR = 10  # characters at full scale: two bars and two ranges fit 80 columns


def sweep_table(sweep: Sweep) -> Table:
    """The sweep as rows with days and cost and their P10-P90; one input also gets bars plotting
    them against it (a grid's rows, the last input fastest, mix two inputs: no bars)."""
    results = sweep.results
    keys = [a.key for a in sweep.axes]
    plotted = len(keys) == 1
    counted = "gpus" not in keys  # a swept GPU count is its own column already
    columns = (*(["GPUs"] if counted else []), "days", *([""] if plotted else []), "cost", *([""] if plotted else []))
    table = _table(f"Sweep over {' × '.join(map(option, keys))}", *keys, *columns)
    for axis, column in zip(sweep.axes, table.columns, strict=False):
        column.justify = "left" if axis.named else "right"
    longest = max(r.budget.seconds for r in results)
    dearest = max((r.budget.cost for r in results if r.budget.cost is not None), default=0.0)
    if plotted:
        table.columns[-1].justify = table.columns[-3].justify = "left"
    for point, result in zip(sweep.points, results, strict=True):
        b = result.budget
        days = _spread(result, "seconds", b.seconds, DAYS)
        cost = _spread(result, "cost", b.cost, DOLLARS)
        shown = (
            (days, bar(b.seconds, longest, SWEEP_BAR), cost, bar(b.cost, dearest, SWEEP_BAR))
            if plotted
            else (days, cost)
        )
        table.add_row(
            *(axis_value(a, v) for a, v in zip(sweep.axes, point, strict=True)),
            *([_spread(result, "gpus", b.gpus, whole)] if counted else []),
            *shown,
        )
    _range_caption(table, results)
    return table


def backtest_table(found: Backtest) -> Table:
    """Each run's reported hours against the model; 80 columns wide (organisations are in --json)."""

    def err(value: float | None) -> str:
        return "—" if value is None else f"{value:+.0%}"

    table = _table(
        "Backtest: the efficiency model against published runs (error = estimated / reported hours − 1)",
        "run", "hours", "implied", "P50", "error", "held out", "band",
    )  # fmt: skip
    for column in table.columns[1:]:
        column.no_wrap = True
    for r in found.rows:
        p = r.run.point
        inside = "excl." if r.run.excluded else ("yes" if r.inside else "no")
        table.add_row(
            p.name, count(r.run.hours), percent(r.implied), percent(r.p50), err(r.error),
            err(r.held_out_error), inside,
        )  # fmt: skip
    s = found.summary
    table.caption = (
        f"Held out (each organisation's runs predicted by a fit without them), {s['runs']:.0f} runs: "
        f"{s['within_30_percent']:.0%} within ±30% of the reported hours, median |error| {s['median_abs_error']:.0%}; "
        f"the P10–P90 band holds {s['p10_p90_coverage']:.0%} of them and spans ×{s['p90_over_p10']:.2f}. "
        f"In sample: mean |error| {s['in_sample_mean_abs_error']:.0%}. 'excl.': left out of the fit "
        "(steady-state hours without downtime, or multimodal tokens; --json gives the reason)."
    )
    table.caption_justify = "left"
    return table


def _abs(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def goodput_table(g: Goodput, lost_per_interruption: float, result: TrainResult, source: str) -> Table:
    doc = goodput_document(g, lost_per_interruption, result)
    table = _table("Goodput: interruptions at the Llama 3 405B run's failure rate", "", "value")
    if doc["effective_days"] is None:
        table.add_row("effective wall-clock", "never finishes")
    else:
        table.add_row("expected interruptions", count(doc["interruptions"]))
        table.add_row("wall-clock lost", duration(doc["lost_days"] * DAY))
        table.add_row("effective wall-clock", duration(doc["effective_days"] * DAY))
        table.add_row("effective GPU-hours", count(doc["effective_gpu_hours"]))
    table.add_row("goodput", percent(doc["goodput"]))
    table.add_row("lost per interruption", f"{doc['lost_per_interruption_minutes']:.1f} min")
    table.caption = source
    table.caption_justify = "left"
    return table


_GIB = 2.0**30


def memory_table(m: MemoryEstimate) -> Table:
    layout = m.layout
    title = (
        f"Training memory per GPU: TP {layout.tp} × PP {layout.pp} × DP {layout.dp}"
        f"{' × EP ' + str(layout.ep) if layout.ep > 1 else ''}, ZeRO-{layout.zero}, "
        f"micro-batch {layout.micro_batch}, recompute {layout.recompute}"
        f"{', CP ' + str(layout.cp) if layout.cp > 1 else ''}{', VP ' + str(layout.vp) if layout.vp > 1 else ''}"
    )
    table = _table(title, "", "GiB")
    used = m.used
    for key, value in (
        ("weights", used.weights), ("gradients", used.gradients), ("optimizer", used.optimizer),
        ("activations", used.activations), ("ZeRO-3 buffers", used.buffers), ("total", used.total),
    ):  # fmt: skip
        if key != "ZeRO-3 buffers" or value:
            table.add_row(key, "—" if value is None else f"{value / _GIB:,.1f}")
    table.add_row(f"{m.gpu} memory", f"{m.gpu_memory / _GIB:,.1f}")
    table.add_row("less the allowance", f"{(m.gpu_memory - m.allowance) / _GIB:,.1f}")
    table.add_row("fits", "yes" if m.fits else "NO")
    at_layout = "none: what ZeRO cannot shard exceeds the GPU" if m.min_gpus is None else whole(m.min_gpus)
    table.add_row("fewest GPUs at this TP, PP, ZeRO", at_layout)
    if m.fewest is None:
        fewest = "none"
    else:
        gpus, best = m.fewest
        fewest = f"{whole(gpus)} (TP {best.tp} × PP {best.pp} × DP {best.dp})"
    table.add_row("fewest GPUs at all (ZeRO-3, full recompute, TP ≤ 8)", fewest)
    table.caption = (
        f"Activations: the first pipeline stage under 1F1B, from the architecture (Korthikanti et al. 2022), with "
        f"PP micro-batches in flight (more when interleaved) unless --global-batch says fewer. "
        f"Allowance: {m.allowance_source.removeprefix('assumption: ')} (an assumption). `layout` searches the "
        "layouts that fit, with their step times."
    ) + (f"\n{housed}" if (housed := config_line(m.assumptions)) else "")
    table.caption_justify = "left"
    return table


PART_NAMES = {
    "compute": "compute", "tp": "TP collectives", "cp": "CP ring", "ep": "EP all-to-all",
    "pp": "PP sends", "bubble": "pipeline bubble", "dp": "DP sync", "optimizer": "optimizer step",
}  # fmt: skip
SHORT_PARTS = {"tp": "TP", "cp": "CP", "ep": "EP", "pp": "PP", "bubble": "bubble", "dp": "DP", "optimizer": "optim."}


def _layout_label(step: Step) -> str:
    """'tp8 pp16 dp128 vp4 mb2 z3 full': the degrees above one, the micro-batch above one, ZeRO stage,
    recomputation."""
    layout = step.layout
    parts = [f"tp{layout.tp}", f"pp{layout.pp}", f"dp{layout.dp}"]
    parts += [f"{key}{getattr(layout, key)}" for key in ("cp", "ep", "vp") if getattr(layout, key) > 1]
    parts += [f"mb{layout.micro_batch}"] if layout.micro_batch > 1 else []
    parts.append(f"z{layout.zero}")
    if layout.recompute != "none":
        parts.append(layout.recompute)
    return " ".join(parts)


def _lost(step: Step) -> str:
    """What takes the most time beside compute, and its share of the step."""
    key = step.lost()
    share = step.parts[key] / step.time
    return "—" if share < 0.005 else f"{SHORT_PARTS[key]} {share:.0%}"


def layout_table(r: LayoutResult) -> Table:
    """The layouts that fit, best first: 80 columns at most, no cell wrapped."""
    title = (
        f"{r.model.title}: {whole(r.global_batch)} sequences of {whole(r.seq_len)} tokens a step on "
        f"{whole(r.gpus)} {r.hardware.name}, {r.precision}"
    )
    table = _table(title, "layout", "s/step", "tok/s/GPU", "MFU", "GiB", "lost to")
    for column in table.columns[1:]:  # figures never wrap; a long layout wraps between its degrees
        column.no_wrap = True
    for c in r.layouts:
        step = c.step
        table.add_row(
            _layout_label(step), f"{step.time:,.2f}", count(step.tokens_per_s_per_gpu, 3),
            percent(step.mfu), f"{c.memory.total / _GIB:,.1f}", _lost(step),
        )  # fmt: skip
    assert r.hardware.memory is not None
    fixed = ", ".join(f"{key} {value}" for key, value in r.fixed.items()) or "nothing"
    table.caption = (
        f"Best first. MFU: model FLOPs (causal attention) over the dense BF16 peak, as Llama 3 reports it"
        f"{' (an FP8 run is also given over the FP8 peak below)' if r.precision != 'bf16' else ''}. GiB: the busiest "
        f"stage, of {(r.hardware.memory - r.allowance) / _GIB:,.1f} usable. Layout: TP, PP, DP, and CP "
        "(context), EP (experts), VP (virtual stages), mb (micro-batch) where above 1; z: ZeRO stage (1 shards "
        "the optimizer, 2 the gradients too, 3 the weights too); full or selective: recomputation. Lost to: the "
        f"largest part of the step beside compute. GPUs from {r.gpus_from}; fixed: {fixed}; "
        f"{whole(r.tried)} layouts tried."
    )
    table.caption_justify = "left"
    return table


def step_breakdown_table(r: LayoutResult) -> Table:
    """Where the best layout's step and memory go, side by side."""
    best = r.best
    step, memory = best.step, best.memory
    table = _table(
        f"The best layout's step ({step.time:,.2f} s) and memory per GPU", "time", "s", "share", "memory", "GiB"
    )
    table.columns[3].justify = "left"
    for column in table.columns:
        column.no_wrap = True
    times = [(PART_NAMES[key], value) for key, value in step.parts.items() if value >= 5e-4]
    spaces = [
        (name, value)
        for name, value in (
            ("weights", memory.weights), ("gradients", memory.gradients), ("optimizer", memory.optimizer),
            ("activations", memory.activations or 0.0), ("ZeRO-3 buffers", memory.buffers),
            ("total", memory.total), ("kept aside", r.allowance),
        )
        if value >= 0.05 * _GIB or name in ("total", "kept aside")
    ]  # fmt: skip
    for i in range(max(len(times), len(spaces))):
        name, seconds = times[i] if i < len(times) else ("", None)
        space, size = spaces[i] if i < len(spaces) else ("", None)
        table.add_row(
            name, "" if seconds is None else f"{seconds:,.3f}", "" if seconds is None else percent(seconds / step.time),
            space, "" if size is None else f"{size / _GIB:,.1f}",
        )  # fmt: skip
    fp8 = f"; MFU over the FP8 peak {percent(step.mfu_of_precision)}" if step.layout.precision == "fp8" else ""
    notes = "; ".join(note.removeprefix("assumption: ") for note in r.notes)
    table.caption = f"HFU {percent(step.hfu)} of the BF16 peak (recomputation counted){fp8}. Assumed: {notes}." + (
        f"\n{housed}" if (housed := config_line(r.assumptions)) else ""
    )
    table.caption_justify = "left"
    return table


def layout_join_table(j: LayoutJoin, result: TrainResult) -> Table:
    """`train --layout`: the physical answer (layout, steady state, goodput) beside the empirical band."""
    step = j.best.step
    s = result.resolved
    table = _table("Layout: the step model's utilisation, times goodput", "", "value")
    for column in table.columns:
        column.no_wrap = True
    table.add_row("layout", _layout_label(step))
    table.add_row("step", f"{step.time:,.2f} s for {whole(j.global_batch)} sequences")
    table.add_row("tokens/s per GPU", count(step.tokens_per_s_per_gpu, 3))
    table.add_row(f"steady-state MFU ({s.convention})", percent(j.steady_in_convention))
    table.add_row("goodput (interruptions)", percent(j.goodput.fraction))
    table.add_row("end-to-end MFU", percent(j.end_to_end_mfu))
    low, p50, high = j.empirical
    table.add_row("empirical band (P10–P90)", f"{percent(low)}–{percent(high)}, P50 {percent(p50)}")
    verdict = (
        "the layout and the empirical band disagree: the layout's MFU lies outside the band. The layout's is what "
        "a well-tuned stack reaches (it is fitted to NVIDIA's and Meta's published steps); the band is what "
        "published runs reached end to end, stalls and all: plan on the band unless your stack is that tuned"
        if j.disagrees
        else "the layout's MFU lies inside the empirical band"
    )
    table.caption = (
        f"{verdict}. Steady state: {percent(step.mfu)} of the dense BF16 peak with causal attention FLOPs (the "
        f"step model's own measure); lost most to {_lost(step)}. GPUs from {j.gpus_from}. Goodput: the Llama 3 "
        f"405B failure rate [S7], {j.lost_per_interruption * 60:.0f} min lost per interruption (restart and half "
        "a checkpoint interval)."
    )
    table.caption_justify = "left"
    return table


def steps_backtest_table(b: StepBacktest) -> Table:
    """Each published step against the step model (layouts in --json), then the paired ratios."""
    table = _table(
        "Backtest: the step model against published training steps (tokens/s per GPU)",
        "step", "measured", "model", "error", "held out",
    )  # fmt: skip
    for column in table.columns:
        column.no_wrap = True
    for p in b.rows:
        held = p.held_out_error
        table.add_row(
            p.measured.name, count(p.measured.tokens_per_s_per_gpu, 3),
            count(p.step.tokens_per_s_per_gpu, 3), f"{p.error:+.0%}", "—" if held is None else f"{held:+.0%}",
        )  # fmt: skip
    s = b.summary()
    held_out = (
        f"; each source left out and refitted: median {s['held_out_median_abs_error']:.1%}, "
        f"largest {s['held_out_max_abs_error']:.0%}"
        if "held_out_median_abs_error" in s
        else ""
    )
    pairs = "; ".join(
        f"{p.first} / {p.second} ({p.what}): {p.measured:.2f} vs {p.predicted:.2f}, {p.error:+.0%}" for p in b.pairs
    )
    table.caption = (
        f"{s['steps']:.0f} steps: median |error| {s['median_abs_error']:.1%}, largest {s['max_abs_error']:.0%}, "
        f"{s['within_25pct']:.0%} within ±25%{held_out}. Steps that differ in one thing, measured ratio vs "
        f"the model's: {pairs}."
    )
    table.caption_justify = "left"
    return table


# --- the table format: one renderer per result type (output/render.py) -----------------------------


MIN_WIDTH, DEFAULT_WIDTH = 20, 80
TABLE_WIDTH = 60  # below this, a table is a key: value list
MIN_PROSE = 30  # a last column narrower than this is no place for prose: a key: value list instead
STYLED: ContextVar[bool] = ContextVar("STYLED", default=False)  # styles kept off a terminal: for reports
WIDTH: ContextVar[int | None] = ContextVar("WIDTH", default=None)  # a report's fixed width, else the terminal's


def width() -> int:
    """The columns tables are drawn in: a report's fixed width, else the terminal's (or COLUMNS);
    COLUMNS=0 or a tiny terminal gets 80, as a readable table beats none."""
    if (fixed := WIDTH.get()) is not None:
        return fixed
    from rich.console import Console

    columns = Console().width
    return columns if columns >= MIN_WIDTH else DEFAULT_WIDTH


def text(*tables: Table) -> str:
    """Tables as the terminal shows them: its width (or COLUMNS), colour unless NO_COLOR or a dumb
    terminal (NO_COLOR drops every style, bold included: rich alone keeps bold); a pipe gets none.
    No line ends in a space."""
    from rich.console import Console
    from rich.table import Table as RichTable

    plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    console = Console(  # text is never markup
        highlight=False, markup=False, color_system="truecolor" if STYLED.get() else None if plain else "auto"
    )
    console.width = columns = width()
    with console.capture() as captured:
        for table in tables:
            for part in drawn(table, columns):
                console.print(part, soft_wrap=not isinstance(part, RichTable))
    return _TRAILING.sub(r"\1", captured.get())


_TRAILING = re.compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$", re.M)  # spaces before a line's end (or its last styles)


def _len(text: str) -> int:
    """The columns `text` takes on a terminal (a CJK character takes two)."""
    from rich.cells import cell_len

    return cell_len(text)


def atoms(cell: str) -> list[str]:
    """`cell` cut where a line may break: at spaces, except inside a figure ('32.7 GWh', '(21.5–49.7 GWh)',
    '0.367 kg CO2/kWh'), whose number keeps its unit. A cell's own newlines are kept as empty atoms."""
    found: list[str] = []
    for n, line in enumerate(cell.split("\n")):
        if n:
            found.append("")
        words = [w for w in line.split(" ") if w]
        i = 0
        while i < len(words):
            atom = words[i]
            i += 1
            while i < len(words) and (taken := _unit_after(atom, words[i:])):
                atom = " ".join([atom, *words[i : i + taken]])
                i += taken
            found.append(atom)
    return found


def _unit_after(word: str, rest: Sequence[str]) -> int:
    """How many of `rest`'s words are the unit of the number that `word` ends with (0: none)."""
    if not word.rstrip(")").rstrip("%")[-1:].isdigit() and not re.search(r"\d[KMBT]?$", word):
        return 0
    for unit in _UNIT_WORDS:
        taken = rest[: len(unit)]
        if len(taken) == len(unit) and [*taken[:-1], taken[-1].rstrip(").,;:")] == list(unit):
            return len(unit)
    return 0


_UNIT_WORDS = sorted((tuple(u.split(" ")) for u in (*UNITS, "kg CO2/kWh")), key=len, reverse=True)


def wrapped(cell: str, room: int, indent: str = "") -> list[str]:
    """`cell` in lines of at most `room` characters, broken only between atoms; an atom longer than a
    whole line (a long URL) is the one thing folded. Lines after the first start with `indent`."""
    lines: list[str] = []
    line = cell[: len(cell) - len(cell.lstrip(" "))]  # a list's own indent, kept
    for atom in atoms(cell):
        if atom == "":  # the cell's own line break
            lines.append(line)
            line = indent
            continue
        if line.strip() and _len(line) + 1 + _len(atom) > room:
            lines.append(line)
            line = indent
        line = f"{line} {atom}" if line.strip() else line + atom
        while _len(line) > room > len(indent):
            lines.append(line[:room])
            line = indent + line[room:]
    return [*lines, line]


def _cells(table: Table) -> list[list[str]]:
    """The table's rows, each cell as plain text."""
    columns = [[c if isinstance(c, str) else getattr(c, "plain", str(c)) for c in col.cells] for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def drawn(table: Table, columns: int) -> list[Any]:
    """What prints `table` in `columns`, no name or figure ever cut: its title, the table with whole cells
    wrapped between atoms, and its caption; a table too wide for that is stacked in parts, each
    repeating the first column; below TABLE_WIDTH columns, or when even one value column cannot fit beside
    the first, a key: value list."""
    from rich.text import Text

    title = (
        [] if not table.title else [Text(line, style="bold") for line in wrapped(printable(str(table.title)), columns)]
    )
    caption = [] if not table.caption else wrapped(printable(str(table.caption)), columns)
    rows = _cells(table)
    headers = [str(c.header) if table.show_header else "" for c in table.columns]
    columns_cells = [[header, *(row[i] for row in rows)] for i, header in enumerate(headers)]
    least = [
        max(
            (_len(a) for n, cell in enumerate(cells) for a in ([cell] if column.no_wrap and n else atoms(cell))),
            default=0,
        )
        for column, cells in zip(table.columns, columns_cells, strict=True)
    ]
    parts = _parts(least, columns) if columns >= TABLE_WIDTH else None
    room = columns - sum(least[:-1]) - 3 * len(least) - 1  # what a last column of prose (sources, URLs) could have
    if parts is None and columns >= TABLE_WIDTH and room >= MIN_PROSE:
        least[-1], parts = room, [list(range(len(least)))]  # its longer atoms (a URL) fold, and only those
    if parts is None:
        return [
            *title,
            *([""] if title else []),
            *_records(headers, rows, columns),
            *([""] if caption else []),
            *caption,
        ]
    natural = [max((_len(line) for cell in cells for line in cell.split("\n")), default=0) for cells in columns_cells]
    bodies = []
    for part in parts:
        widths = _widths([least[i] for i in part], [natural[i] for i in part], columns - 3 * len(part) - 1)
        body = _table(None, *("\n".join(wrapped(headers[i], room)) for i, room in zip(part, widths, strict=True)))
        body.show_header = table.show_header
        for column, i, room in zip(body.columns, part, widths, strict=True):
            column.justify, column.no_wrap = table.columns[i].justify, True
            column.width = room
        for row in rows:
            body.add_row(*("\n".join(wrapped(row[i], room)) for i, room in zip(part, widths, strict=True)))
        bodies.append(body)
    return [*title, *bodies, *caption]


def _parts(least: Sequence[int], columns: int) -> list[list[int]] | None:
    """The table's columns in as few parts as fit `columns`, each beside the first column and as even as
    they can be (one part when all fit); None when a value column cannot fit beside the first."""

    def fits(part: Sequence[int]) -> bool:
        return least[0] + sum(least[i] for i in part) + 3 * (len(part) + 1) + 1 <= columns

    values = list(range(1, len(least)))
    if not values:
        return [[0]]
    if not all(fits([i]) for i in values):
        return None
    for many in range(1, len(values) + 1):
        size = -(-len(values) // many)
        parts = [values[i : i + size] for i in range(0, len(values), size)]
        if all(fits(part) for part in parts):
            return [[0, *part] for part in parts]
    return None


def _widths(least: Sequence[int], natural: Sequence[int], room: int) -> list[int]:
    """Each column's width: its natural width, the value columns with the most to spare narrowed first
    until they fit `room`, then the first (row labels read best whole); never below a longest atom."""
    widths = [max(a, b) for a, b in zip(least, natural, strict=True)]
    for candidates in (range(1, len(widths)), range(len(widths))):
        while sum(widths) > room:
            spare = max(candidates, key=lambda i: widths[i] - least[i], default=None)
            if spare is None or widths[spare] <= least[spare]:
                break
            widths[spare] -= 1
    return widths


def _records(headers: Sequence[str], rows: Sequence[Sequence[str]], columns: int) -> list[str]:
    """The rows as a key: value list: each row's first cell, then its other cells under their headers (a
    cell under no header follows the one before it); a two-column row on one line."""
    lines: list[str] = []
    for row in rows:
        fields: list[list[str]] = []
        for header, cell in zip(headers[1:], row[1:], strict=True):
            if not cell:
                continue
            if header or not fields:
                fields.append([header, cell])
            else:
                fields[-1][1] += f" {cell}"
        key = f"{headers[0]}: {row[0]}" if headers[0] and row[0] else row[0]
        if len(fields) <= 1:  # one figure: on the key's line, its header needless
            value = " ".join(cell for _, cell in fields)
            lines += wrapped(f"{key}: {value}" if key else value, columns, "    ")
            continue
        if key:
            lines += wrapped(key, columns, "    ")
        for header, cell in fields:
            lines += wrapped(f"  {header}: {cell}" if header else f"  {cell}", columns, "      ")
    return lines


@renders("table", "object")
def _text(result: object) -> str:
    """Any result's tables, drawn for the terminal."""
    return text(*views(result))


def views(result: object) -> list[Table]:
    """The tables that show `result`: the terminal's text and the reports are drawn from these."""
    tables: list[Table] = renderer(result, "tables")(result)
    return tables


@renders("tables", "TrainReport")
def _train_report(report: TrainReport) -> list[Table]:
    result, g = report.result, report.goodput
    shown = [train_table(result, assumed=not report.sources)]
    if report.explain:
        shown.append(breakdown_table(result.resolved))
    if report.serving is not None:
        shown.append(serving_bill_table(result, report.serving))
    if g is not None:
        shown.append(goodput_table(g.goodput, g.lost_per_interruption, result, g.source))
    if report.layout is not None:
        shown.append(layout_join_table(report.layout, result))
    return [*shown, *([assumptions_table(result.resolved.assumptions)] if report.sources else [])]


@renders("tables", "Conventions")
def _conventions(c: Conventions) -> list[Table]:
    breakdowns = [breakdown_table(r.resolved) for r in c.results] if c.explain else []
    return [conventions_table(c), *breakdowns]


renders("tables", "Compared")(lambda c: [compare_table(c)])
renders("tables", "CheckReport")(lambda report: [check_table(report.runs)])
renders("tables", "Sweep")(lambda sweep: [sweep_table(sweep)])
renders("tables", "OptimalPlan")(
    lambda plan: [optimal_table(plan), *([assumptions_table(plan.assumptions)] if plan.sources else [])]
)
renders("tables", "OvertrainingPlan")(lambda plan: [overtraining_table(plan.found)])
renders("tables", "LossComparison")(lambda c: [loss_table(c.title, c.reports)])
renders("tables", "Backtest")(lambda found: [backtest_table(found)])
renders("tables", "MemoryEstimate")(lambda m: [memory_table(m)])
renders("tables", "LayoutResult")(lambda r: [layout_table(r), step_breakdown_table(r)])
renders("tables", "StepBacktest")(lambda b: [steps_backtest_table(b)])
renders("tables", "Catalog")(presets_table)
renders("tables", "Entry")(lambda entry: [entry_table(entry)])


@renders("tables", "Citations")
def _citations(c: Citations) -> list[Table]:
    table = _table("Sources (cited as [tag] in presets and output)", "tag", "reference")
    table.columns[1].justify = "left"
    for tag, reference in c.references.items():
        table.add_row(tag, reference)
    return [table]


renders("tables", "ServeEstimate")(lambda e: [serve_table(e)])
renders("tables", "InferencePlan")(lambda plan: [inference_table(plan)])
renders("tables", "Fleet")(fleet_tables)


def serving_backtest_table(b: ServingBacktest) -> Table:
    """Each published serving run against the serving model, in sample and with its source left out."""
    table = _table(
        "Backtest: the serving model against published serving runs (output tokens/s of a replica)",
        "run", "load", "measured", "model", "error", "held out",
    )  # fmt: skip
    for column in table.columns[1:]:
        column.no_wrap = True
    for r in b.rows:
        m = r.run
        table.add_row(
            m.name, f"{m.concurrency:,}", count(m.tokens_per_s, 3), count(r.predicted, 3), f"{r.error:+.0%}",
            f"{r.held_out_error:+.0%}",
        )  # fmt: skip
    s, c = b.summary(), b.calibration
    table.caption = (
        f"{s['runs']:.0f} runs: median |error| {s['median_abs_error']:.1%}, largest {s['max_abs_error']:.0%}, "
        f"{s['within_30pct']:.0%} within ±30%. Each source table left out and refitted (held out): median "
        f"{s['held_out_median_abs_error']:.1%}, largest {s['held_out_max_abs_error']:.0%}; each run left out: median "
        f"{s['left_out_median_abs_error']:.1%}, largest {s['left_out_max_abs_error']:.0%}; each model left out: "
        f"median {s['model_held_out_median_abs_error']:.1%}, largest {s['model_held_out_max_abs_error']:.0%}; each "
        f"GPU left out: median {s['gpu_held_out_median_abs_error']:.1%}, largest {s['gpu_held_out_max_abs_error']:.0%}"
        ". Fitted: compute at "
        f"{1 / c.compute:.0%} of the measured GEMM ceiling (half of it at {c.half_rate:.0f} tokens), HBM at "
        f"{1 / c.memory:.0%} of its peak, {c.kernel * 1e6:.1f} µs per kernel."
    )
    table.caption_justify = "left"
    return table


renders("tables", "ServingBacktest")(lambda b: [serving_backtest_table(b)])


# --- the brief format: one line, fit for a commit message or a chat (`--brief`) --------------------


def _run_name(result: TrainResult) -> str:
    s = result.resolved
    return f"{s.model.title if s.model else 'Custom model'} on {whole(result.budget.gpus)} {s.hardware.name}"


@renders("brief", "TrainReport")
def _brief_train(report: TrainReport) -> str:
    """'Llama 3.1 405B on 16,384 h100-sxm: 109 days (71.8–166 days), $129M ($71.9M–$214M), 32.7 GWh'."""
    r, b = report.result, report.result.budget
    figures = [_spread(r, "seconds", b.seconds, DURATION), _spread(r, "cost", b.cost, DOLLARS), energy(b.energy)]
    ranged_ = any(band.p10 != band.p90 for key, band in r.ranges.items() if key in ("seconds", "cost"))
    return f"{_run_name(r)}: {', '.join(f for f in figures if f != '—')}{_BRIEF_RANGES if ranged_ else ''}\n"


_BRIEF_RANGES = " (8 in 10 runs land in the ranges)"


@renders("brief", "Compared")
def _brief_compare(compared: Compared) -> str:
    """Each run's days and cost, medians: 'Llama 3 8B on 512 h100-sxm: 66.4 days, $2.45M; …'."""
    runs = [
        f"{_run_name(r)}: {', '.join(f for f in (duration(r.budget.seconds), money(r.budget.cost)) if f != '—')}"
        for r in compared.results
    ]
    return "; ".join(runs) + " (medians)\n"


@renders("brief", "OptimalPlan")
def _brief_optimal(plan: OptimalPlan) -> str:
    """'2.95e24 FLOP, 8.48 days on 16,384 h100-sxm, $10.0M: epoch 167B parameters on 2.95T tokens; …' (the
    bill once when every law's is the same, medians)."""

    def bill(o: Optimum) -> str:
        b = o.train.budget
        shown = (f"{duration(b.seconds)} on {whole(b.gpus)} {o.train.resolved.hardware.name}", money(b.cost))
        return ", ".join(f for f in shown if f != "—")

    bills = {bill(o) for o in plan.optima}
    shared = f", {next(iter(bills))}" if len(bills) == 1 else ""
    laws = [
        f"{o.law.name} {count(o.split.params)} parameters on {count(o.split.tokens)} tokens"
        + ("" if shared else f", {bill(o)}")
        for o in plan.optima
    ]
    return f"{flops(plan.flops)}{shared}: {'; '.join(laws)} (medians)\n"
