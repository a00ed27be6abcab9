"""CSV: a result's document as rows of flat columns, for a spreadsheet or a pipeline.

A result's rows (format 'rows') are its document's records, flattened: nested objects become dotted
columns (`ranges.days.p90`), lists of numbers or names one cell joined by '; '. Runs are written as
`batch --csv` writes them (documents.CSV_FIELDS), so one spreadsheet reads `train`, `compare`,
`sweep` and `batch` alike; a check is one row per limit; any other document is one row per record
of its longest list of records (the models of `optimal --law all`, the runs of a backtest), or one
row. No rich here, and no arithmetic: values are the document's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from llamacalc.output.documents import CSV_FIELDS, csv_row, train_document
from llamacalc.output.render import renderer, renders

if TYPE_CHECKING:
    from llamacalc.estimates.checks import CheckReport
    from llamacalc.estimates.sweep import Sweep
    from llamacalc.estimates.train import Conventions

Row = dict[str, Any]
RUN_COLUMNS = CSV_FIELDS[2:]  # a run's columns, less batch's line and error


def flat(value: Any, prefix: str = "") -> Row:
    """`value` as one row: nested objects under dotted names, a list of scalars as one '; '-joined
    cell, a list of objects under numbered names (`runs.0.name`)."""
    if isinstance(value, Mapping):
        row: Row = {}
        for key, inner in value.items():
            row |= flat(inner, f"{prefix}{key}.")
        return row
    name = prefix.removesuffix(".")
    if isinstance(value, list):
        if all(not isinstance(item, Mapping | list) for item in value):
            return {name: "; ".join("" if item is None else str(item) for item in value)}
        row = {}
        for i, item in enumerate(value):
            row |= flat(item, f"{prefix}{i}.")
        return row
    return {name: value}


@renders("rows", "object")
def _records(result: object) -> list[Row]:
    document = renderer(result, "document")(result)
    lists = [key for key, value in document.items() if isinstance(value, list) and value and _records_only(value)]
    if not lists:
        return [flat(document)]
    key = max(lists, key=lambda k: len(document[k]))
    shared = flat({k: v for k, v in document.items() if k != key and not isinstance(v, Mapping | list)})
    return [{**shared, **flat(record)} for record in document[key]]


def _records_only(items: list[Any]) -> bool:
    return all(isinstance(item, Mapping) for item in items)


def _run(document: Mapping[str, Any]) -> Row:
    row = csv_row(document)
    return {column: row[column] for column in RUN_COLUMNS}


renders("rows", "TrainReport")(lambda report: [_run(renderer(report, "document")(report))])
renders("rows", "Compared")(lambda c: [_run(train_document(r)) for r in c.results])


@renders("rows", "Conventions")
def _conventions(c: Conventions) -> list[Row]:
    return [{"convention": r.resolved.convention, **_run(train_document(r))} for r in c.results]


@renders("rows", "Sweep")
def _sweep(sweep: Sweep) -> list[Row]:
    return [
        {**{f"sweep_{a.key}": a.display(v) for a, v in zip(sweep.axes, point, strict=True)}, **_run(train_document(r))}
        for point, r in zip(sweep.points, sweep.results, strict=True)
    ]


@renders("rows", "CheckReport")
def _checks(report: CheckReport) -> list[Row]:
    document = renderer(report, "document")(report)
    return [{"run": _name(run), **check} for run in document["runs"] for check in run["checks"]]


def _name(run: Mapping[str, Any]) -> str:
    return run["name"] or run["result"]["model"] or "custom"


def csv_text(rows: Iterable[Row]) -> str:
    """Rows as CSV with one header: every column any row has, in the order first seen; booleans as
    JSON writes them, and text a spreadsheet would run as a formula ('=HYPERLINK(...)') quoted
    with a leading apostrophe (OWASP's CSV-injection advice)."""
    rows = [{key: _cell(value) for key, value in flat(row).items()} for row in rows]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@renders("csv", "object")
def _csv(result: object) -> str:
    return csv_text(renderer(result, "rows")(result))
