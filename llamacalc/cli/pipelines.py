"""Commands for CI and pipelines: `check` (budget gate), `batch` (JSON Lines), `compare`, `sweep`."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from llamacalc.cli.catalogs import catalog_from
from llamacalc.cli.group import commands
from llamacalc.cli.options import (
    BriefOpt,
    FieldsOpt,
    JsonOpt,
    PlotOpt,
    PresetsOpt,
    opt,
    run_inputs,
    train_fields,
)
from llamacalc.cli.writing import emit, output_format, save, writes_data, writes_output
from llamacalc.errors import ExitCode, InputError
from llamacalc.inputs import HARDWARE_KEYS

CsvOpt = Annotated[bool, typer.Option("--csv", help="Write CSV with a header row instead of JSON.")]


def _limit(example: str) -> Any:
    return opt(f"Fail (exit 1) above this, e.g. {example}.")


@commands.command()
@writes_output
@run_inputs()
def check(
    request: dict[str, Any],
    max_cost: Annotated[str | None, _limit("'5 MUSD'")] = None,
    max_days: Annotated[str | None, _limit("90")] = None,
    max_gpus: Annotated[str | None, _limit("20000")] = None,
    max_gpu_hours: Annotated[str | None, _limit("3M")] = None,
    max_energy: Annotated[str | None, _limit("'20 GWh'")] = None,
    max_co2: Annotated[str | None, _limit("'5000 t'")] = None,
    max_flops: Annotated[str | None, _limit("1e25")] = None,
    max_power: Annotated[str | None, _limit("'150 MW' (the cluster's draw at TDP)")] = None,
    confidence: Annotated[
        str, opt("Chance each figure must have of staying under its limit: 0.9 checks the P90, 0.5 the estimate.")
    ] = "0.5",
    plan: Annotated[Path | None, opt("TOML plan file of named runs with their inputs and max_* limits.")] = None,
    github: Annotated[
        bool | None,
        typer.Option(
            "--github/--no-github",
            help="Also write GitHub Actions annotations, and the step summary to $GITHUB_STEP_SUMMARY "
            "[default: when GITHUB_ACTIONS=true].",
            show_default=False,
        ),
    ] = None,
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a run (or a plan of runs) against budget limits: exit 0 if all pass, 1 if any fails.

    Example: llamacalc check llama-3.1-405b --max-cost "100 MUSD" --max-days 90 --confidence 0.9
    """
    from llamacalc.check_setups import LIMITS, MAX_PLAN_BYTES, check_setup
    from llamacalc.estimates.checks import check_for
    from llamacalc.files import read_text
    from llamacalc.resolve import Resolver

    options = locals()
    limits = {key: options[key] for key in LIMITS if options[key] is not None}
    given = None if plan is None else (lambda: read_text(plan, MAX_PLAN_BYTES), str(plan))
    report = check_for(Resolver(catalog_from(presets)), check_setup(request, limits, confidence, given))
    emit(report, as_json)
    annotate = github if github is not None else os.environ.get("GITHUB_ACTIONS") == "true"
    if annotate and output_format(as_json) != "github":  # --format github already wrote them, on stdout
        _to_github(report)
    if not report.passed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


@commands.command()
@writes_data
def batch(
    presets: PresetsOpt = None,
    as_csv: CsvOpt = False,
    jobs: Annotated[
        int | None, typer.Option(help="Worker processes for large inputs [default: CPU count, ≤ 8].", min=1, max=64)
    ] = None,
    fields: FieldsOpt = None,
    format: Annotated[
        str | None, opt("json (JSON Lines, the default) or csv; --csv is short for --format csv.", "--format")
    ] = None,
) -> None:
    """Run JSON Lines scenarios from stdin (train option names as keys), one JSON result per line.

    Example: echo '{"model": "llama-3-70b", "gpus": 4096, "mfu": 0.4}' | llamacalc batch
    """
    import csv

    from llamacalc.cli import stream
    from llamacalc.resolve import Resolver

    projection = train_fields(fields)
    if format not in (None, "json", "csv"):
        raise InputError(f"--format: batch writes json (JSON Lines) or csv, got '{format}'")
    if format == "json" and as_csv:
        raise InputError("--csv and --format json: choose one output format")
    as_csv = as_csv or format == "csv"
    if sys.stdin.isatty():
        raise InputError("batch reads JSON Lines on stdin; pipe a file in (llamacalc batch < scenarios.jsonl)")
    resolver = Resolver(catalog_from(presets))
    if as_csv:
        csv.writer(sys.stdout, lineterminator="\n").writerow(stream.columns(projection))
        sys.stdout.flush()  # the rows go to the byte stream beneath
    failed = False
    for data, chunk_failed in stream.results(resolver, as_csv, jobs or stream.default_jobs(), projection):
        failed |= chunk_failed
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    if failed:
        raise typer.Exit(ExitCode.CHECK_FAILED)


@commands.command()
@writes_output
@run_inputs(*HARDWARE_KEYS)
def compare(
    request: dict[str, Any],
    models: Annotated[list[str], typer.Argument(help="Model presets, or preset files whose models to include.")],
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
    brief: BriefOpt = False,
) -> None:
    """Models side by side, each column with its ratio to the first.

    Example: llamacalc compare llama-3.1-405b llama-4-projected --cluster meta-24k
    """
    from llamacalc.estimates.train import compared
    from llamacalc.resolve import Resolver

    files = [Path(m) for m in models if m.endswith(".toml")]
    catalog = catalog_from([*(presets or ()), *files])
    names: list[str] = []
    for name in models:
        if name.endswith(".toml"):
            path = Path(name).resolve()
            found = [e.name for e in catalog.entries["models"].values() if e.path.resolve() == path]
            if not found:
                raise InputError(f"MODELS: '{name}' holds no [models.*] presets")
            names.extend(found)
        else:
            names.append(name)
    emit(compared(Resolver(catalog), names, request), as_json, brief=brief)


@commands.command()
@writes_output
@run_inputs()
def sweep(
    request: dict[str, Any],
    presets: PresetsOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    fields: FieldsOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Vary one input (or two: a grid) over start:stop:step (xF multiplies) or a list a,b,c.

    Example: llamacalc sweep llama-3.1-405b --gpus 1024:65536:x2 --gpu h100-sxm,b200
    """
    from llamacalc.estimates.sweep import sweep as swept
    from llamacalc.output import documents
    from llamacalc.output.rows import csv_text
    from llamacalc.resolve import Resolver
    from llamacalc.sweep_setups import sweep_setup

    projection = train_fields(fields)
    format = output_format(as_json, as_csv)
    result = swept(Resolver(catalog_from(presets)), sweep_setup(request))
    if plot is not None:
        save(result, "chart", plot, "--plot")
    if projection is None:
        emit(result, as_json, as_csv=as_csv)
    elif format == "csv":
        runs = [documents.train_fields(run, projection) for run in result.results]
        at = ({f"sweep_{a.key}": a.display(v) for a, v in zip(result.axes, p, strict=True)} for p in result.points)
        sys.stdout.write(csv_text({**a, **run} for a, run in zip(at, runs, strict=True)))
    elif format in ("json", "table"):  # --fields alone: projected documents are JSON
        document = documents.sweep_document(result, lambda run: documents.train_fields(run, projection))
        sys.stdout.write(documents.encode(document) + "\n")
    else:
        raise InputError(f"--fields projects each run's document: use it with --json or --csv, not --format {format}")


def _to_github(report: Any) -> None:
    """Annotations on stderr, where Actions reads workflow commands too, so that stdout (and -o)
    carry only the document; the summary appended to the step's summary file when Actions names one,
    under the rules of every output file (no other user's symlink, no FIFO without a reader)."""
    from pathlib import Path

    from llamacalc.files import append_text
    from llamacalc.output.render import render

    sys.stderr.write(render(report, "github"))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        append_text(Path(summary), render(report, "markdown"), "GITHUB_STEP_SUMMARY")


@commands.command()
def schema(
    name: Annotated[str | None, typer.Argument(help="A document's schema, e.g. train; none lists them.")] = None,
) -> None:
    """Print the JSON Schema of a --json document, whole (what it refers to bundled in), or list them.

    Example: llamacalc schema check > check.schema.json
    """
    import json
    from importlib import resources

    from llamacalc.errors import did_you_mean

    shipped = resources.files("llamacalc") / "schemas"
    docs = {
        path.name.removesuffix(".json"): json.loads(path.read_text(encoding="utf-8"))
        for path in shipped.iterdir()
        if path.name.endswith(".json")
    }
    names = sorted(docs)
    if name is None:
        sys.stdout.write("\n".join(names) + "\n")
        return
    if name not in names:
        raise InputError(f"NAME: unknown schema '{name}'{did_you_mean(name, names)}; one of {', '.join(names)}")
    sys.stdout.write(json.dumps(_bundled(name, docs), indent=2, ensure_ascii=False) + "\n")


def _bundled(name: str, docs: Mapping[str, Any]) -> dict[str, Any]:
    """Schema `name` with every shipped schema it refers to, in turn, embedded under "$defs" with its
    own "$id" (JSON Schema 2020-12 §9.3.1, bundling): a validator follows its references without a
    registry. The shipped files refer to each other by "$id" (urn:llamacalc:train:1)."""
    by_id = {doc["$id"]: key for key, doc in docs.items()}
    embedded: dict[str, Any] = {}
    pending = [docs[name]]
    while pending:
        for uri in _references(pending.pop()):
            key = by_id.get(uri.partition("#")[0])
            if key is not None and key != name and key not in embedded:
                embedded[key] = docs[key]
                pending.append(docs[key])
    root = dict(docs[name])
    if embedded:
        root["$defs"] = {**root.get("$defs", {}), **embedded}
    return root


def _references(node: Any) -> list[str]:
    """Every "$ref" in a schema, at any depth."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [uri for value in node.values() for uri in _references(value)]
    if isinstance(node, list):
        return [uri for value in node for uri in _references(value)]
    return []
