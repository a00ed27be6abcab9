"""Errors llamacalc reports to users, and the exit codes they map to.

Every expected failure is a `LlamacalcError`; anything else reaching the CLI is a bug (exit 3).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes: the contract CI jobs rely on."""

    OK = 0
    CHECK_FAILED = 1  # a budget limit was exceeded, or a batch line failed
    BAD_INPUT = 2  # usage error, bad value, bad preset
    INTERNAL = 3  # a bug in llamacalc


class LlamacalcError(Exception):
    """A problem with what the user asked for; the message is shown as one line.

    The core names an input by `named(key)`, not by how a caller spells it: `str(error)` spells it
    as the command line does ('--mfu'), `error.in_names()` as the Python API does ('mfu')."""

    def __str__(self) -> str:
        text = super().__str__()
        return _NAMED.sub(lambda m: flag(m[1]), text) if _MARK in text else text

    def in_names(self) -> str:
        """The message with each input named as the Python API names it."""
        return _NAMED.sub(lambda m: m[1], super().__str__())


class InputError(LlamacalcError, ValueError):
    """A bad option value or a conflicting combination of options."""


class UnitError(InputError):
    """A quantity that does not parse, or has the wrong dimension."""


class PresetError(InputError):
    """A preset that is unknown, malformed, or fails validation."""


_MARK, _END = "\x1e", "\x1f"  # ASCII record and unit separators: never in a message otherwise
_NAMED = re.compile(f"{_MARK}([^{_MARK}{_END}]*){_END}")


def figure(value: float) -> str:
    """A number in a message as people read it: 10,000,000, 0.01, 1e15 and 1e-6 (never 1e+15 or 1e-06)."""
    if abs(value) < 1e9 and value == int(value):
        return f"{value:,.0f}"
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{value:.3g}")


def named(key: str) -> str:
    """Input `key` as a message names it, to be spelled by whoever shows the message (see
    LlamacalcError): the core does not know the command line's spelling of its inputs."""
    return f"{_MARK}{key}{_END}"


def flag(key: str) -> str:
    """The command-line spelling of an input: 'active_params' -> '--active-params', 'model' -> 'MODEL'."""
    return "MODEL" if key == "model" else "--" + key.replace("_", "-")


def prefixed(prefix: str, error: type[InputError] = InputError) -> _Prefixed:
    """Re-raise an InputError from inside as `error("<prefix>: <message>")`: the option, preset field
    or plan run it concerns goes in front of what was wrong with it."""
    return _Prefixed(prefix, error)


class _Prefixed:
    """`prefixed`'s context, a class rather than a generator: a batch line parses inside it, and a
    generator-based context costs ~3× as much to enter and leave as this one."""

    __slots__ = ("prefix", "error")

    def __init__(self, prefix: str, error: type[InputError]) -> None:
        self.prefix, self.error = prefix, error

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, cause: BaseException | None, trace: object) -> None:
        if isinstance(cause, InputError):  # its text as raised: inputs still named, not yet spelled
            raise self.error(f"{self.prefix}: {Exception.__str__(cause)}") from None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix naming the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# C0 and C1 controls (but tab and newline), and the Unicode ones that move or reorder text: the
# bidi embeddings, overrides and isolates (U+202E shows 'txt.exe' as 'exe.txt'), marks, and the line
# and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
# A line GitHub's runner reads as a workflow command: '::name::' or the older '##[name]', after any
# leading whitespace (the runner trims any, Unicode's too). Written by a run name, it could fail a job or mask a log.
_COMMAND = re.compile(r"^([^\S\n]*)(::|##\[)", re.M)


def printable(text: str) -> str:
    """Text from files and options made safe for a terminal and a CI log: control characters (an ESC
    that would clear the screen, a NUL, a bidi override) shown escaped, '\\x1b', instead of acting,
    and no line of it able to begin a workflow command."""
    return inert(_CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text))


def inert(text: str) -> str:
    """`text` with the first character of any line that would begin a workflow command ('::error::',
    '##[error]') escaped as '\\x3a' or '\\x23': shown, never run by a CI runner reading the log."""
    return _COMMAND.sub(lambda m: f"{m[1]}\\x{ord(m[2][0]):02x}{m[2][1:]}", text)
