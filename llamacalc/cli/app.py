"""The typer app: error handling, the shared option types, and writing output.

The CLI (this package) is the only code that imports typer: it parses, calls the core, renders.
Exit codes are `errors.ExitCode`: 0 ok, 1 a budget check or batch line failed, 2 bad input,
3 internal error. Machine output goes to stdout through `json`; messages go to stderr.
"""

import contextlib
import contextvars
import dataclasses
import errno
import functools
import inspect
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, cast

import typer
from typer.core import TyperGroup

from llamacalc import __version__
from llamacalc.errors import ExitCode, InputError, LlamacalcError, did_you_mean, prefixed, printable

if TYPE_CHECKING:
    from llamacalc.catalog import Catalog
    from llamacalc.house import House

PROG = "llamacalc"


class _Closed:
    """A standard stream the caller closed: reading or writing it is an OSError naming it."""

    def __init__(self, name: str) -> None:
        self.name, self.buffer, self.encoding = name, self, "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "closed by the caller", self.name)

    read = read1 = readline = write = lambda self, *args: self.fileno()  # noqa: E731

    def flush(self) -> None:
        return None


def _fail(message: str, code: ExitCode) -> NoReturn:
    one_line = printable(message).replace("\n", " ").replace("\t", " ")
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    sys.exit(code)


GLOBAL_FLAGS = ("-q", "--quiet")


def _global_first(argv: list[str]) -> list[str]:
    """Global flags are accepted anywhere (`llamacalc train X -q`): moved before the subcommand."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a in GLOBAL_FLAGS]
    return flags + [a for i, a in enumerate(argv) if not (i < end and a in GLOBAL_FLAGS)]


class _Group(TyperGroup):
    """Runs the app, mapping every failure to one stderr line and an `ExitCode`."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        kwargs.setdefault("prog_name", PROG)
        given = list(kwargs.pop("args", None) or (args[0] if args else sys.argv[1:]))
        kwargs["args"], args = _global_first(given), ()
        # A standard stream closed by the caller (`>&-`): its descriptor held on /dev/null, so no file
        # opened later takes its number, and its use an error naming it (stderr: written nowhere).
        for name in ("stdin", "stdout", "stderr"):
            if getattr(sys, name) is None:
                os.open(os.devnull, os.O_RDWR)
                setattr(sys, name, open(os.devnull, "w") if name == "stderr" else _Closed(name))  # noqa: SIM115
        for stream in (sys.stdout, sys.stderr):  # an ASCII or Latin-1 terminal gets escapes, not a crash
            encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
            if encoding != "utf8" and hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        try:
            from llamacalc.files import check_output_names

            check_output_names(given, ("-o", "--output", "--svg", "--html", "--plot"))  # 'out/': a Path drops the '/'
            if without := os.environ.get("LLAMACALC_WITHOUT"):  # benchmarks/run.py --without: a trick off
                from llamacalc import fastpath

                fastpath.switch_off(*without.split(","))
            code = super().main(*args, **kwargs)
            sys.stdout.flush()  # a full disk is reported here, not ignored at exit
        except LlamacalcError as error:
            _fail(str(error), ExitCode.BAD_INPUT)
        except OSError as error:  # the environment, not llamacalc: a full disk, a name too long
            name = str(error.filename or "")
            where = f" '{name if len(name) <= 80 else name[:50] + '…' + name[-20:]}'" if name else " the output"
            _fail(f"cannot use{where}: {error.strerror or error}", ExitCode.BAD_INPUT)
        except typer.TyperException as error:  # click's usage errors, through typer's public base class
            ctx = getattr(error, "ctx", None)
            hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
            _fail(error.format_message().rstrip(".") + hint, ExitCode.BAD_INPUT)  # type: ignore[attr-defined]
        except typer.Abort:
            _fail("aborted", ExitCode.BAD_INPUT)
        except Exception:
            if os.environ.get("LLAMACALC_DEBUG"):
                traceback.print_exc()
            _fail(
                "internal error — this is a bug; please report it with the command line "
                "(set LLAMACALC_DEBUG=1 for a traceback)",
                ExitCode.INTERNAL,
            )
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    # Commands are built from their functions only when invoked: typer turns every parameter of
    # every command into a click option up front, and that was a fifth of `--help`'s time.
    def list_commands(self, ctx: Any) -> list[str]:
        names = {*super().list_commands(ctx), *_lazy_commands()}
        rank = {name: i for i, name in enumerate(HELP_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        names = self.list_commands(ctx)
        if args and args[0] not in names and not args[0].startswith("-"):
            raise LlamacalcError(f"No such command '{args[0]}'{did_you_mean(args[0], names)}; see 'llamacalc --help'")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, name: str) -> Any:
        info = _lazy_commands().get(name)
        if name not in self.commands and info is not None:
            self.commands[name] = typer.main.get_command_from_info(
                info, pretty_exceptions_short=True, rich_markup_mode=None
            )
        return super().get_command(ctx, name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of `--help`, from each function's docstring, without building it."""
        rows = []
        for name in self.list_commands(ctx):
            info = _lazy_commands().get(name)
            built = super().get_command(ctx, name) if info is None else None
            if built is not None:
                rows.append((name, built.get_short_help_str(formatter.width)))
            elif info is not None:
                doc = inspect.getdoc(info.callback) or ""
                rows.append((name, doc.split("\n\n")[0].replace("\n", " ")))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`| head -1`): not an error. Silence the final flush too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(ExitCode.OK) from None


app = typer.Typer(
    cls=_Group,
    name=PROG,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


commands = typer.Typer()  # the command modules register here; _Group builds them on demand


HELP_ORDER = (
    "train", "optimal", "loss", "serve", "fleet", "check", "batch", "compare", "sweep", "backtest", "calibrate",
    "memory", "layout", "presets", "sources", "schema",
)  # fmt: skip


def _lazy_commands() -> dict[str, Any]:
    """The registered commands by name, not yet built."""
    return {
        info.name or typer.main.get_command_name(info.callback.__name__): info
        for info in commands.registered_commands
        if info.callback is not None
    }


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


_settings = {"quiet": False}


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("-V", "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print no warnings (errors still go to stderr).")
    ] = False,
) -> None:
    """Training compute, GPUs, days, GPU-hours, cost, energy and CO2 of LLM runs.

    Exit codes: 0 ok, 1 a budget check or batch line failed, 2 bad input, 3 internal error.
    Tables for people; --json for machines (batch always writes JSON Lines); -o FILE writes a file.
    """
    _settings["quiet"] = quiet
    if ctx.invoked_subcommand is None:  # a bare `llamacalc` asks for help
        sys.stdout.write(ctx.get_help() + "\n")


def opt(help: str, *names: str, complete: Callable[[str], list[str]] | None = None) -> Any:
    return typer.Option(*names, help=help, show_default=False, autocompletion=complete)


def presets_named(kind: str, *extra: str) -> Callable[[str], list[str]]:
    """Shell completion of a preset name of `kind` (the user's own included), plus fixed choices."""

    def complete(incomplete: str) -> list[str]:
        try:
            names = catalog_from(None).names(kind)
        except LlamacalcError:  # a broken preset folder: complete what is fixed
            names = []
        return [name for name in (*names, *extra) if name.startswith(incomplete)]

    return complete


def choices(*values: str) -> Callable[[str], list[str]]:
    return lambda incomplete: [value for value in values if value.startswith(incomplete)]


# The `train` inputs, shared by every command that plans a run (names match scenario.REQUEST_KEYS).
ModelArg = Annotated[
    str | None,
    typer.Argument(
        help="Model preset, e.g. llama-3.1-405b.", show_default=False, autocompletion=presets_named("models")
    ),
]
ParamsOpt = Annotated[str | None, opt("Total parameters, e.g. 405B.")]
ActiveOpt = Annotated[str | None, opt("Active parameters per token (MoE), e.g. 17B.")]
TokensOpt = Annotated[str | None, opt("Training tokens, e.g. 15.6T.")]
GpuOpt = Annotated[
    str | None, opt("Accelerator preset [default: the model's, else h100-sxm].", complete=presets_named("hardware"))
]
GpusOpt = Annotated[str | None, opt("GPU count, e.g. 16384 or 16K: gives the days.")]
DaysOpt = Annotated[str | None, opt("Wall-clock target, e.g. 54 or '3 weeks': gives the GPUs.")]
ClusterOpt = Annotated[str | None, opt("Cluster preset: sets GPU type and count.", complete=presets_named("clusters"))]
MfuOpt = Annotated[
    str | None,
    opt(
        "Model FLOPs utilisation, e.g. 0.4 or 40% [default: the efficiency model's fit to size, GPU and scale; "
        "0.197 in fp8; --layout takes it from the step model]."
    ),
]
PrecisionOpt = Annotated[
    str | None, opt("bf16 or fp8: the dense peak MFU refers to [default: bf16].", complete=choices("bf16", "fp8"))
]
ServingPrecisionOpt = Annotated[
    str | None,
    opt("Weights and KV cache served in bf16, fp8 or int8 [default: bf16].", complete=choices("bf16", "fp8", "int8")),
]
PriceOpt = Annotated[str | None, opt("Price per GPU-hour, e.g. '2.5 USD/h' [default: the GPU preset's].")]
PricingOpt = Annotated[
    str | None,
    opt(
        "on-demand (the GPU preset's cloud price), reserved-1y, reserved-3y, spot (tiers off it) or owned "
        "(hardware amortised, networking, energy) [default: on-demand].",
        complete=choices("on-demand", "reserved-1y", "reserved-3y", "spot", "owned"),
    ),
]
LifeOpt = Annotated[
    str | None, opt("With --pricing owned: straight-line life, e.g. '5.5 years' [default: Epoch's rate].")
]
PowerOpt = Annotated[str | None, opt("Power per GPU, e.g. 700W [default: the GPU's TDP].")]
PueOpt = Annotated[str | None, opt("Data-centre PUE, >= 1 [default: 1.09].")]
CarbonOpt = Annotated[str | None, opt("Grid carbon intensity, e.g. '0.38 kg/kWh' [default: 0.367].")]
FlopsOpt = Annotated[
    str | None,
    opt(
        "FLOP convention: 6nd, palm, megatron, hardware, or all [default: 6nd].",
        complete=choices("6nd", "palm", "megatron", "hardware", "all"),
    ),
]
RecomputeOpt = Annotated[
    str | None,
    opt(
        "With --flops hardware: activation recomputation none, selective or full.",
        complete=choices("none", "selective", "full"),
    ),
]
SeqLenOpt = Annotated[str | None, opt("Training sequence length for attention FLOPs [default: the preset's].")]
ConfigOpt = Annotated[
    Path | None,
    opt(
        "A Hugging Face config.json as the model (27 families: Llama 1-4, Mistral and Mistral 3, Mixtral, Qwen 2-3, "
        "Qwen 2.5-VL and MoE, Gemma 1-3, Phi-1.5 to 3, DeepSeek V2-V3, Granite, OLMo 2, GPT-NeoX, Falcon, StarCoder 2, "
        "StableLM, Cohere; a multimodal config's text model)."
    ),
]
PresetsOpt = Annotated[
    list[Path] | None,
    opt("Extra directory of *.toml presets (repeatable; also $LLAMACALC_PRESETS, a path list).", "--presets"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
BriefOpt = Annotated[
    bool, typer.Option("--brief", help="Print one line, the answer, fit for a commit message or a chat.")
]
SourcesOpt = Annotated[
    bool, typer.Option("--sources", help="Show every input: its value, where it came from, and its source.")
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        help="Only these keys of each run's JSON (implies --json), dotted when nested: days,cost_usd,ranges.days.p90",
    ),
]


def train_fields(text: str | None) -> "tuple[tuple[str, ...], ...] | None":
    """--fields checked against the shipped train schema, before any work; None without it."""
    if text is None:
        return None
    import json
    from importlib import resources

    from llamacalc.output.fields import parse

    schema = json.loads((resources.files("llamacalc") / "schemas" / "train.json").read_text(encoding="utf-8"))
    return parse(text, schema)


def preset_places(dirs: Sequence[Path] | None) -> list[tuple[str, Path]]:
    """Where presets come from, in order (later ones override): shipped, the user's folder (if it
    exists), the config file's folders, $LLAMACALC_PRESETS, --presets; each with what named it, for
    errors and `presets --paths`."""
    from llamacalc.catalog import shipped_presets_dir

    config = _config_home() / "presets"
    env = [Path(p) for p in os.environ.get("LLAMACALC_PRESETS", "").split(os.pathsep) if p]
    house = house_defaults()
    return [
        ("shipped", shipped_presets_dir()),
        *([("user folder", config)] if config.is_dir() else []),
        *((f"{house.where}: presets", path) for path in house.presets),
        *(("LLAMACALC_PRESETS", path) for path in env),
        *(("--presets", path) for path in dirs or ()),
    ]


# What an error about a preset folder blames: the option, the variable or the default that named it.
PLACE_NAMES = {"shipped": "the shipped presets", "user folder": "the default presets folder"}


def catalog_from(dirs: Sequence[Path] | None) -> "Catalog":
    """The presets of every place, later ones overriding earlier ones, with the house defaults."""
    from llamacalc.catalog import load_catalog

    places = preset_places(dirs)
    for named, path in places[1:]:
        if not (path.is_dir() or path.is_file()):
            raise LlamacalcError(f"{named}: '{path}' is not a readable directory (or file) of *.toml presets")
    catalog = load_catalog([path for _, path in places], [PLACE_NAMES.get(named, named) for named, _ in places])
    house = house_defaults()
    return dataclasses.replace(catalog, house=house.checked(catalog)) if house.defaults else catalog


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "llamacalc"


@functools.cache
def house_defaults() -> "House":
    """The config file's house defaults: $LLAMACALC_CONFIG (which must exist), else config.toml in
    the user's config folder (if it exists), else none."""
    from llamacalc.files import read_text
    from llamacalc.house import MAX_CONFIG_BYTES, NO_HOUSE, house

    named = os.environ.get("LLAMACALC_CONFIG")
    if named == os.devnull:  # the way to run without the user's config
        return NO_HOUSE
    path = Path(named) if named else _config_home() / "config.toml"
    if not named and not path.is_file():
        return NO_HOUSE
    with prefixed("LLAMACALC_CONFIG" if named else str(path)):
        text = read_text(path, MAX_CONFIG_BYTES)
    return house(text, str(path))


def with_config(catalog: "Catalog", path: Path, model: str | None, tokens: str | None) -> tuple["Catalog", str]:
    """The catalog plus the model of a Hugging Face config.json file, and that model's name."""
    import json

    from llamacalc.files import read_text
    from llamacalc.hf_config import MAX_CONFIG_BYTES, config_entry

    if model is not None:
        raise LlamacalcError("--config and MODEL conflict: the config.json is the model")
    if tokens is None:
        raise LlamacalcError("--config needs --tokens: a config.json gives the architecture, not the training data")
    with prefixed("--config"):
        text = read_text(path, MAX_CONFIG_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise LlamacalcError(f"--config: '{path}' is not JSON: {error}") from None
    entry = config_entry(data, path, tokens)
    return catalog.including(entry), entry.name


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


PlotOpt = Annotated[Path | None, opt("Also draw the result as a chart: an SVG file.", "--plot")]


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


def _special(target: Path) -> bool:
    """Whether `target` is a device or a FIFO, which two outputs may share (/dev/null)."""
    return target.exists() and not target.is_file()


def warn(messages: Sequence[str]) -> None:
    if _settings["quiet"]:
        return
    for message in messages:
        sys.stderr.write(f"{PROG}: warning: {printable(message)}\n")


# Every `train` input as an option, in help order; keys are scenario.REQUEST_KEYS.
RUN_OPTIONS: Mapping[str, Any] = {
    "model": ModelArg, "params": ParamsOpt, "active_params": ActiveOpt, "tokens": TokensOpt,
    "gpu": GpuOpt, "gpus": GpusOpt, "days": DaysOpt, "cluster": ClusterOpt, "mfu": MfuOpt,
    "precision": PrecisionOpt, "price": PriceOpt, "pricing": PricingOpt, "life": LifeOpt, "power": PowerOpt,
    "pue": PueOpt, "carbon": CarbonOpt, "flops": FlopsOpt, "recompute": RecomputeOpt, "seq_len": SeqLenOpt,
}  # fmt: skip
HARDWARE_INPUTS = (  # inputs.HARDWARE_KEYS, spelled out: `--help` does not load the inputs table (a test checks)
    "gpu", "gpus", "days", "cluster", "mfu", "precision", "price", "pricing", "life", "power", "pue", "carbon",
)  # fmt: skip

Command = TypeVar("Command", bound=Callable[..., Any])


def run_inputs(*names: str) -> Callable[[Command], Command]:
    """Give a command the named `train` inputs as options (all by default); it gets them as `request`.

    One declaration of each input for every command that plans a run: typer reads the options from
    the wrapper's signature, and the command receives `request`, a dict of the given ones.
    """
    chosen = names or tuple(RUN_OPTIONS)

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def wrapper(**options: Any) -> Any:
            request = {name: options.pop(name) for name in chosen}
            return command(request={k: v for k, v in request.items() if v is not None}, **options)

        added = {name: RUN_OPTIONS[name] for name in chosen}
        return _with_options(wrapper, command, added, first=True, replacing="request")

    return decorate


def _with_options(
    wrapper: Callable[..., Any], command: Command, added: Mapping[str, Any], *, first: bool, replacing: str = ""
) -> Command:
    """`wrapper` with the signature typer reads options from: `added` (name -> annotated type, default
    None) before or after the command's own parameters, less the one the wrapper supplies."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    own = [p.replace(kind=keyword) for name, p in inspect.signature(command).parameters.items() if name != replacing]
    new = [inspect.Parameter(name, keyword, default=None, annotation=kind) for name, kind in added.items()]
    wrapper.__signature__ = inspect.Signature([*new, *own] if first else [*own, *new])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**added, **command.__annotations__}
    return cast(Command, wrapper)


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
        _distinct(plot | {f"--{fmt}": file for fmt, file in reports.items()} | ({"--output": path} if path else {}))
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

    return _with_options(wrapper, command, added, first=False)


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


def main() -> None:
    """Console-script entry point. A run ended by a signal leaves at once once its own clean-up (the
    temporary output file, the worker processes) is done: the interpreter's exit would otherwise join
    the process pool's threads, which can wait on workers already terminated."""
    try:
        app()
    except SystemExit as end:
        if isinstance(end.code, int) and end.code > 128:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(end.code)
        raise
