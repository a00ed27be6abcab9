"""Commands for CI and pipelines: `check` (budget gate), `batch` (JSON Lines), `compare`, `sweep`."""

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from llamacalc.cli.app import (
    HARDWARE_INPUTS,
    BriefOpt,
    FieldsOpt,
    JsonOpt,
    PlotOpt,
    PresetsOpt,
    catalog_from,
    commands,
    emit,
    opt,
    run_inputs,
    save,
    train_fields,
    writes_data,
    writes_output,
)
from llamacalc.errors import ExitCode, InputError, prefixed

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
    from llamacalc.estimates.checks import (
        LIMITS,
        MAX_PLAN_BYTES,
        CheckedRun,
        CheckReport,
        evaluate,
        parse_confidence,
        parse_limits,
        read_plan,
    )
    from llamacalc.estimates.train import estimate
    from llamacalc.files import read_text
    from llamacalc.resolve import Resolver

    options = locals()
    limits = {key: options[key] for key in LIMITS if options[key] is not None}
    with prefixed("--confidence"):
        given = parse_confidence(confidence)
    resolver = Resolver(catalog_from(presets))
    if plan is not None:
        if request or limits:
            raise InputError("--plan holds the runs' inputs and limits; give it alone (with --presets, --json)")
        with prefixed("--plan"):
            text = read_text(plan, MAX_PLAN_BYTES)
        runs: list[tuple[str | None, Mapping[str, Any], Mapping[str, float], float]] = [
            (run.name, run.request, run.maxima, given if run.confidence is None else run.confidence)
            for run in read_plan(text, str(plan))
        ]
        if not any(maxima for _, _, maxima, _ in runs):
            raise InputError(f"--plan: '{plan}' sets no limits; add max_cost, max_days, ... to [defaults] or to a run")
    else:
        if not limits:
            raise InputError("no limits: give at least one of " + ", ".join(limit.option for limit in LIMITS.values()))
        runs = [(None, request, parse_limits(limits), given)]
    checked = []
    for name, run_request, maxima, at in runs:
        with prefixed(f"run {name}") if name else contextlib.nullcontext():
            result = estimate(resolver, run_request)
            checked.append(CheckedRun(name, result, evaluate(result, maxima, at)))
    report = CheckReport(tuple(checked))
    emit(report, as_json)
    if github if github is not None else os.environ.get("GITHUB_ACTIONS") == "true":
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
) -> None:
    """Run JSON Lines scenarios from stdin (train option names as keys), one JSON result per line.

    Example: echo '{"model": "llama-3-70b", "gpus": 4096, "mfu": 0.4}' | llamacalc batch
    """
    import csv

    from llamacalc.cli import stream
    from llamacalc.resolve import Resolver

    projection = train_fields(fields)
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
@run_inputs(*HARDWARE_INPUTS)
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
    from llamacalc.estimates.train import Compared, estimate
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
    resolver = Resolver(catalog)
    emit(Compared(tuple(estimate(resolver, {**request, "model": name}) for name in names)), as_json, brief=brief)


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
    import csv

    from llamacalc.estimates.sweep import sweep as swept
    from llamacalc.output import documents
    from llamacalc.resolve import Resolver

    projection = train_fields(fields)
    result = swept(Resolver(catalog_from(presets)), request)
    if plot is not None:
        save(result, "chart", plot, "--plot")
    if as_csv:
        columns = [f"sweep_{a.key}" for a in result.axes]
        names = documents.CSV_FIELDS[2:] if projection is None else tuple(".".join(f) for f in projection)
        writer = csv.DictWriter(sys.stdout, [*columns, *names], lineterminator="\n")
        writer.writeheader()
        for point, run in zip(result.points, result.results, strict=True):
            if projection is None:
                row = documents.csv_row(documents.train_document(run))
            else:
                row = documents.train_fields(run, projection)
            at = {c: a.display(v) for c, a, v in zip(columns, result.axes, point, strict=True)}
            writer.writerow({**at, **{k: row[k] for k in names}})
    elif projection is not None:
        document = documents.sweep_document(result, lambda run: documents.train_fields(run, projection))
        sys.stdout.write(documents.encode(document) + "\n")
    else:
        emit(result, as_json)


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
    """Print the JSON Schema of a --json document (as shipped), or list the schemas.

    Example: llamacalc schema train > train.schema.json
    """
    from importlib import resources

    from llamacalc.errors import did_you_mean

    shipped = resources.files("llamacalc") / "schemas"
    names = sorted(path.name.removesuffix(".json") for path in shipped.iterdir() if path.name.endswith(".json"))
    if name is None:
        sys.stdout.write("\n".join(names) + "\n")
        return
    if name not in names:
        raise InputError(f"NAME: unknown schema '{name}'{did_you_mean(name, names)}; one of {', '.join(names)}")
    sys.stdout.write((shipped / f"{name}.json").read_text(encoding="utf-8"))
