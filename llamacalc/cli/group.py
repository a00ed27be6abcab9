"""The typer app: the command group, its global flags, and every failure as one line and an exit code.

The CLI (this package) is the only code that imports typer: it parses, calls the core, renders.
Exit codes are `errors.ExitCode`: 0 ok, 1 a budget check or batch line failed, 2 bad input,
3 internal error. Messages go to stderr, one line each.
"""

import contextlib
import errno
import inspect
import os
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from llamacalc import __version__
from llamacalc.errors import ExitCode, LlamacalcError, did_you_mean, flag, printable

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
    _WARNINGS.clear()
    one_line = printable(message).replace("\n", " ").replace("\t", " ")
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    sys.exit(code)


def _blamed(message: str, argv: list[str]) -> str:
    """The message with each option the user did not type, but the config file gave to this run,
    named as the file's key: the value to fix is in the file (`--gpus 64.5` was `team.toml [defaults]
    gpus`)."""
    from llamacalc.cli.catalogs import house_defaults

    try:
        house = house_defaults()
    except LlamacalcError:  # the config file itself is what failed
        return message
    typed = {arg.partition("=")[0] for arg in argv if arg.startswith("--")}
    for key in house.used:
        spelled = flag(key)
        if spelled not in typed:
            message = re.sub(rf"{re.escape(spelled)}(?![\w-])", f"{house.where} [defaults] {key}", message)
    return message


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
            flush_warnings()
            sys.stdout.flush()  # a full disk is reported here, not ignored at exit
        except LlamacalcError as error:
            _fail(_blamed(str(error), given), ExitCode.BAD_INPUT)
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


_WARNINGS: list[str] = []  # held until the answer is written: a refused command says one line, its error


def warn(messages: Sequence[str]) -> None:
    """Warn about the answer: written with it (flush_warnings), dropped if the command then fails."""
    if not _settings["quiet"]:
        _WARNINGS.extend(f"{PROG}: warning: {printable(message)}\n" for message in messages)


def flush_warnings() -> None:
    """Write the warnings held, once: before the answer, on stderr."""
    sys.stderr.write("".join(_WARNINGS))
    _WARNINGS.clear()


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
