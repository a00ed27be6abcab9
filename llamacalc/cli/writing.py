"""Where a command's output goes: `--format` and its aliases, `-o/--output`, `--svg`, `--html`,
each file complete or not at all; and `emit`, which renders a result to stdout.

Machine output goes to stdout through `json`/`csv`, never through rich."""

import contextlib
import contextvars
import functools
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from llamacalc.cli.group import flush_warnings
from llamacalc.cli.options import Command, choices, opt, with_options
from llamacalc.errors import ExitCode, InputError, LlamacalcError, did_you_mean, flag

FORMATS = (
    "table",
    "json",
    "csv",
    "md",
    "github",
    "junit",
)  # render.STDOUT_FORMATS (a test checks): `--help` loads no renderer
FormatOpt = Annotated[
    str | None,
    opt(
        "Output format: table (default), json, csv, md (Markdown), github (annotations) or junit (XML); "
        "--json is short for --format json.",
        "--format",
        complete=choices(*FORMATS),
    ),
]
# the format the running command was asked for by --format, or None
_FORMAT: contextvars.ContextVar[str | None] = contextvars.ContextVar("_FORMAT", default=None)
OutputOpt = Annotated[
    Path | None, opt("Write the output to this file (complete or not at all) instead of stdout.", "-o", "--output")
]
SvgOpt = Annotated[Path | None, opt("Also save the table as an SVG picture (a report for a doc or a PR).", "--svg")]
HtmlOpt = Annotated[Path | None, opt("Also save the table as an HTML page.", "--html")]
# format -> file: the reports the running command was asked for, written by `emit`
_REPORTS: contextvars.ContextVar[dict[str, Path] | None] = contextvars.ContextVar("_REPORTS", default=None)


def writes_output(command: Command) -> Command:
    """Give a command `-o/--output FILE`: its stdout goes to a temporary file renamed into place on
    success (a finished document, even when a check fails), so a reader never sees half a file; and
    `--svg`/`--html FILE`, the table it prints saved as a report, written the same way."""
    return _writing(command, {"output": OutputOpt, "format": FormatOpt, "svg": SvgOpt, "html": HtmlOpt})


def writes_data(command: Command) -> Command:
    """`-o/--output FILE` alone, for a command that prints data (JSON Lines, TOML), never a table."""
    return _writing(command, {"output": OutputOpt})


def _writing(command: Command, added: Mapping[str, Any]) -> Command:
    @functools.wraps(command)
    def wrapper(**options: Any) -> Any:
        path = options.pop("output")
        reports = {fmt: file for fmt in ("svg", "html") if (file := options.pop(fmt, None)) is not None}
        format = options.pop("format") if "format" in added else None
        plot = {"--plot": options["plot"]} if options.get("plot") else {}  # a command's own chart, saved first
        outputs = plot | {f"--{fmt}": file for fmt, file in reports.items()} | ({"--output": path} if path else {})
        _distinct(outputs)
        _unread(outputs, options, guard_presets="format" in added)  # answers, not presets (calibrate)
        token, chosen = _REPORTS.set(dict(reports)), _FORMAT.set(format)
        try:
            with _atomic_stdout(path) if path is not None else contextlib.nullcontext():
                done = command(**options)
            if unwritten := _REPORTS.get():  # asked for, never written: the command prints no table
                raise LlamacalcError(f"--{next(iter(unwritten))}: this command prints no table to save")
            return done
        finally:
            _REPORTS.reset(token)
            _FORMAT.reset(chosen)

    return with_options(wrapper, command, added, first=False)


def _distinct(files: Mapping[str, Path]) -> None:
    """Refuse two output options naming one file before anything is written: the first would be lost,
    or left behind by a run that then fails."""
    from llamacalc.files import followed

    seen: dict[Path, str] = {}
    for option, path in files.items():
        if str(path) == "-" or not str(path).strip():
            continue
        target = followed(path, option)
        if target in seen and not _special(target):
            raise LlamacalcError(
                f"{option}: '{path}' is written by another option of this command ({seen[target]}); "
                "give each its own file"
            )
        seen[target] = option


def _unread(outputs: Mapping[str, Path], options: Mapping[str, Any], guard_presets: bool) -> None:
    """Refuse an output that would replace a file the command reads: a file option or argument
    (`check --plan p.toml -o p.toml`, `compare mine.toml -o mine.toml`), the config file, or, from a
    command that prints answers (`presets`) rather than presets (`calibrate -o folder/efficiency.toml`),
    a preset in a presets folder. Files are compared as the kernel knows them (device and inode), so
    no link or spelling gets past."""
    targets = {option: _identity(path) for option, path in outputs.items() if str(path).strip() not in ("", "-")}
    targets = {option: found for option, found in targets.items() if found is not None}
    if not targets:
        return
    read: dict[tuple[int, int], str] = {}
    for name, value in options.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, Path | str) and (found := _identity(Path(item))) is not None:
                read[found] = f"the file {flag(name)} reads" if isinstance(item, Path) else "a file this command reads"
    from llamacalc.cli.catalogs import house_defaults, preset_places

    try:
        if (where := house_defaults().where) and (found := _identity(Path(where))) is not None:
            read[found] = "the config file llamacalc reads"
        places = preset_places(options.get("presets")) if guard_presets else []
        folders = [(label, path) for label, path in places if label != "shipped"]
    except LlamacalcError:  # a bad config file: the command says so itself, if it reads it
        folders = []
    for option, found in targets.items():
        if found in read:
            raise LlamacalcError(f"{option}: '{outputs[option]}' is {read[found]}; write the output elsewhere")
        target = outputs[option].resolve()
        for label, folder in folders:
            if target.suffix == ".toml" and folder.resolve() in target.parents:
                raise LlamacalcError(
                    f"{option}: '{outputs[option]}' is a preset in a folder llamacalc reads ({label}); "
                    "write the output elsewhere"
                )


def _identity(path: Path) -> tuple[int, int] | None:
    """A regular file's device and inode, or None (no such file, or not a regular file)."""
    try:
        status = path.stat()
    except (OSError, ValueError):
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None


def _special(target: Path) -> bool:
    """Whether `target` is a device or a FIFO, which two outputs may share (/dev/null)."""
    return target.exists() and not target.is_file()


@contextlib.contextmanager
def _atomic_stdout(path: Path, option: str = "--output") -> Iterator[None]:
    """Stdout into `path`, complete or not at all, by the rules of `files`: a regular file is replaced
    by a finished temporary file; a device, a FIFO or /dev/stdout is written through; '-' is stdout.
    The temporary file goes on every exit path, SIGTERM, SIGHUP and SIGQUIT included."""
    from llamacalc.files import Replacement, followed, open_special

    if str(path) == "-":
        yield
        return
    if not str(path).strip():
        raise LlamacalcError(f"{option}: expected a file name, got ''")
    target = followed(path, option)  # no loop, no other user's link in /tmp
    through = open_special(path, option)
    if through is not None:  # /dev/null, a FIFO, a terminal: nothing to replace
        with _redirected(open(through, "w", encoding="utf-8")):
            yield
        return
    if target.is_dir():
        raise LlamacalcError(f"{option}: '{path}' is a folder; name a file in it")
    if not target.parent.is_dir():
        raise LlamacalcError(f"{option}: folder '{target.parent}' does not exist; create it first")
    replacement = Replacement(target, option)
    finished = False
    try:
        with _redirected(replacement.stream, close=False):
            try:
                yield
                finished = True
            except typer.Exit as done:
                finished = done.exit_code in (ExitCode.OK, ExitCode.CHECK_FAILED)  # a complete document either way
                raise
    finally:
        replacement.commit() if finished else replacement.discard()


@contextlib.contextmanager
def _redirected(handle: Any, close: bool = True) -> Iterator[None]:
    """sys.stdout to `handle` (closed after, unless not `close`), with SIGTERM, SIGHUP and SIGQUIT
    raised as an exit so cleanup runs."""
    import signal

    saved, sys.stdout = sys.stdout, handle
    caught = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    main = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, _terminated) for signum in caught} if main else {}
    try:
        yield
    finally:
        sys.stdout = saved
        if close:
            handle.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def emit(
    result: object,
    as_json: bool,
    fields: "tuple[tuple[str, ...], ...] | None" = None,
    as_csv: bool = False,
    brief: bool = False,
) -> None:
    """Write a command's result to stdout in the format asked for (`--format`, or `--json`; `--brief`: one
    line), a train document projected to `fields` if given; save the reports asked for (`--svg`, `--html`).
    Written by us, not rich: rich exits 1 on a closed pipe."""
    from llamacalc.output.render import formats, has_renderer, render

    if not isinstance(getattr(type(result), "SCHEMA", None), str):  # a result type declares its document's schema
        raise LookupError(f"{type(result).__name__} declares no SCHEMA")
    format = output_format(as_json, as_csv)
    if brief:
        if format != "table" or fields is not None:
            raise InputError("--brief prints one line for people: drop --json, --csv, --format and --fields")
        if not has_renderer(result, "brief"):
            raise InputError("--brief: this answer has no one-line form; drop --brief")
        format = "brief"
    if not has_renderer(result, format):  # the formats on offer found only then: each loads its module
        raise InputError(f"--format: this command writes {', '.join(formats(result))}; got '{format}'")
    reports = _REPORTS.get() or {}
    for fmt, path in reports.items():
        save(result, fmt, path, f"--{fmt}")
    reports.clear()
    flush_warnings()
    if fields is None:
        sys.stdout.write(render(result, format))
        return
    from llamacalc.output.documents import encode
    from llamacalc.output.fields import project
    from llamacalc.output.render import renderer
    from llamacalc.output.rows import csv_text

    projected = project(renderer(result, "document")(result), fields)
    if format == "csv":
        sys.stdout.write(csv_text([projected]))
    elif format in ("json", "table"):  # --fields alone: a projected document is JSON
        sys.stdout.write(encode(projected) + "\n")
    else:
        raise InputError(f"--fields projects a document: use it with --json or --format csv, not '{format}'")


def output_format(as_json: bool = False, as_csv: bool = False) -> str:
    """The stdout format asked for: `--format`, or its aliases `--json` and `--csv`; a table by default."""
    chosen = _FORMAT.get()
    chosen = chosen.lower() if chosen is not None and chosen.lower() in FORMATS else chosen  # JSON, MD
    if chosen is not None and chosen not in FORMATS:
        hint = " (did you mean 'md'?)" if chosen.lower() == "markdown" else did_you_mean(chosen, FORMATS)
        raise InputError(f"--format: expected one of {', '.join(FORMATS)}, got '{chosen}'{hint}")
    aliases = [name for name, given in (("json", as_json), ("csv", as_csv)) if given]
    if len(aliases) > 1:
        raise InputError("--json and --csv: choose one output format")
    if chosen is not None and aliases and aliases[0] != chosen:
        raise InputError(f"--{aliases[0]} and --format {chosen}: choose one output format")
    return chosen or (aliases[0] if aliases else "table")


def save(result: object, format: str, path: Path, option: str) -> None:
    """`result` rendered in `format` into the file `path`, complete or not at all."""
    from llamacalc.output.render import render

    if format == "chart" and path.suffix.lower() != ".svg":
        raise LlamacalcError(
            f"{option}: llamacalc draws SVG; name the file .svg (got '{path}'), then convert if needed"
        )
    text = render(result, format)
    with _atomic_stdout(path, option):  # no other output option names this file: `_distinct` saw to it
        sys.stdout.write(text)
