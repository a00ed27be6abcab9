"""The batch fast path: every memo, table and hand-written encoder that makes `batch` fast, in one place.

Each trick has a name in TRICKS and says what it buys: a batch's time with it off over all on
(`benchmarks/run.py --without NAME` re-measures one, `--tricks` each). Every one holds a bounded
amount of memory whatever the input, and can be switched off (`switch_off`), to re-measure it or to
rule it out when a result looks wrong. Results are the same with any trick off
(tests/test_fastpath.py): only the time differs. The core reads no environment: the CLI switches off
the names in $LLAMACALC_WITHOUT, once, at start.

This module sits below units (whose parse memo it names) and above output/documents (whose train
document it writes by hand): documents is imported when the first document is written.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from llamacalc.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from llamacalc.estimates.train import Range, TrainResult
    from llamacalc.inputs import Assumption

# What each trick buys: a batch's CPU time with it off over all on, full documents and --fields days,cost_usd
# (3,000 of benchmarks/run.py's scenarios rendered in-process, best of 15 shuffled rounds, 2026-12-06;
# `benchmarks/run.py --tricks` re-measures them on whole processes). Removed as buying under 5%: a
# memo of the layout search's GPU count (1.00x, 1.03x), of cited Assumptions (0.99x, 1.03x), of the
# publisher's figures (1.02x, 1.06x: unread by --fields, so noise) and of the loss per GPU doubling (0.98x, 0.99x).
TRICKS: Mapping[str, str] = {
    "parse": "unit text parsed once per text and kind: 1.17x, 1.30x (pint takes ~1 ms for '3.1 USD/GPU/hour')",
    "model-sides": "a preset's model side (sizes, tokens, FLOPs) counted once: 1.13x, 1.25x",
    "hardware-sides": "one GPU, count, price and model's hardware side resolved once, a new count on it: 1.29x, 1.64x",
    "predictions": "the efficiency model's MFU predicted once per size, peak and count: 1.02x, 1.08x",
    "writer": "train documents and --fields written by hand, each cited figure's JSON once: 1.68x, 1.10x",
    "float-table": "a float written before taken from a table, not repr'd again (a P50 is its figure): 1.19x",
    "projection": "--fields worked out once per command, not per line: 1.07x with --fields",
    "bare-init": "frozen results built without their generated __init__ (a setattr per field): 1.07x, 1.16x",
}
K = TypeVar("K")
V = TypeVar("V")
F = TypeVar("F", bound=Callable[..., Any])
_off: set[str] = set()
_memos: dict[str, list[tuple[dict[str, Any], str, Any, Any]]] = {}  # trick: (globals, name, plain, cached)


def switch_off(*names: str) -> None:
    """Switch tricks off by name, for this process (and the workers it forks)."""
    for name in names:
        if name not in TRICKS:
            raise InputError(f"no fast-path trick '{name}'{did_you_mean(name, TRICKS)}; known: {', '.join(TRICKS)}")
    _off.update(names)
    _rebind()


def switch_on() -> None:
    """Every trick on again (the default)."""
    _off.clear()
    _rebind()


def is_on(name: str) -> bool:
    return name not in _off


class Memo(dict[K, V]):
    """A memo table: a dict that starts afresh when it holds `kept` entries, so a batch's memory stays
    flat, and stores nothing while its trick is off. Reads are a plain dict's; only stores cost more."""

    def __init__(self, trick: str, kept: int) -> None:
        super().__init__()
        self.trick, self.kept = trick, kept

    def __setitem__(self, key: K, value: V) -> None:
        if self.trick in _off:
            return
        if len(self) >= self.kept:
            self.clear()
        super().__setitem__(key, value)


def memo(trick: str, kept: int) -> Callable[[F], F]:
    """A module-level function's memo (functools.lru_cache of `kept` entries). Switching its trick off
    rebinds the module's name to the plain function, so the memo costs nothing to switch."""

    def cached(function: F) -> F:
        remembered = functools.lru_cache(maxsize=kept)(function)
        _memos.setdefault(trick, []).append((function.__globals__, function.__name__, function, remembered))
        return remembered  # type: ignore[return-value]

    return cached


def _rebind() -> None:
    for trick, bound in _memos.items():
        for namespace, name, plain, remembered in bound:
            remembered.cache_clear()
            namespace[name] = plain if trick in _off else remembered


T = TypeVar("T")


def built(cls: type[T], fields: Mapping[str, Any], **more: Any) -> T:
    """A frozen dataclass (Setup, Resolved, TrainResult) from fields already checked, without its
    generated __init__ (trick "bare-init"): that sets each field through object.__setattr__. Fields
    left out keep their class defaults."""
    if "bare-init" in _off:
        return cls(**{**fields, **more})
    made = object.__new__(cls)
    made.__dict__.update(fields, **more)
    return made


# --- the train document, written by hand (trick "writer") -------------------------------------------

encode = json.JSONEncoder(allow_nan=False).encode  # json.dumps(allow_nan=False) builds an encoder per call
_FLOATS: Memo[float, str] = Memo("float-table", 1 << 13)  # floats already written, and their JSON
_text_json = functools.lru_cache(maxsize=1024)(encode)  # units and sources: a few strings, on every line
_documents: Any = None  # llamacalc.output.documents, once the first document is written
_HEAD: tuple[tuple[str, Callable[[TrainResult], Any], bool], ...] = ()


def train_json(result: TrainResult, extra: Mapping[str, Any] | None = None) -> str:
    """`documents.train_document(result)` (plus `extra` keys before the assumptions) as JSON text, the
    same bytes as json.dumps gives, built faster for a batch: each value is written by `_value_json`,
    and each cited assumption's JSON is encoded once."""
    head = _HEAD or _head()
    parts = [key + (get(result) if written else _value_json(get(result))) for key, get, written in head]
    parts += [f"{_text_json(key)}: {encode(value)}" for key, value in (extra or {}).items()]
    whole = _documents.WHOLE
    body = ", ".join(
        f'"{name}": {_user_json(a, name in whole) if a.origin == "user" else _cited_json(a, name in whole)}'
        for name, a in result.resolved.assumptions.items()
    )
    return f'{{{", ".join(parts)}, "assumptions": {{{body}}}}}'


def _head() -> tuple[tuple[str, Callable[[TrainResult], Any], bool], ...]:
    """The keys train_json writes before the assumptions (which come last, after any extra keys): each
    one's JSON key, and a getter of its value, or of its JSON text already written (`written`)."""
    global _documents, _HEAD
    from llamacalc.output import documents

    _documents = documents
    written: Mapping[str, Callable[[TrainResult], str]] = {
        "ranges": lambda t: _ranges_json(t.ranges),
        "reported": lambda t: _reported_json(t.reported),  # the same on every line of one model
    }
    _HEAD = tuple(
        (f"{json.dumps(key)}: ", written.get(key, get), key in written)
        for key, get in documents.TRAIN_KEYS.items()
        if key != "assumptions"
    )
    return _HEAD


def _value_json(value: Any) -> str:
    """`value` as json.dumps(allow_nan=False) writes it; a float from `_FLOATS` when written before."""
    kind = type(value)
    if kind is float:
        text = _FLOATS.get(value)
        if text is None:
            if not math.isfinite(value):
                return encode(value)  # raises, as json.dumps does
            text = repr(value)
            if value:  # 0.0 and -0.0 are one key, written apart
                _FLOATS[value] = text
        return text
    if kind is int:
        return repr(value)
    if kind is str:
        return _text_json(value)
    if value is None:
        return "null"
    return encode(value) if value != [] else "[]"  # no extrapolation, on most lines


def _ranges_json(ranges: Mapping[str, Range]) -> str:
    """The document's "ranges" as JSON: 24 floats a line, each P50 already written as the figure itself."""
    parts = []
    for key, band in ranges.items():
        p10, p50, p90 = _documents._in_json_units(band, key)
        parts.append(
            f'"{_documents.RANGE_KEYS[key]}": {{"p10": {_value_json(p10)}, "p50": {_value_json(p50)}, '
            f'"p90": {_value_json(p90)}}}'
        )
    return "{" + ", ".join(parts) + "}"


@functools.lru_cache(maxsize=256)
def _reported_json(reported: Any) -> str:
    return encode(_documents._reported(reported))


@functools.lru_cache(maxsize=1024)  # preset and default figures: few, repeated, with long sources
def _cited_json(a: Assumption, whole: bool) -> str:
    return encode(_documents._assumption_dict(a, whole))


def _user_json(a: Assumption, whole: bool) -> str:
    """A user's input as JSON: a number (new on every line) written directly, its unit and source
    encoded once; a name (a GPU, a precision) repeats, so is encoded once whole. A count that is whole
    by nature (`whole`: parameters, tokens, GPUs) is written as an integer."""
    value = a.value
    if type(value) not in (int, float) or not math.isfinite(value):
        return _cited_json(a, whole) if isinstance(value, str) else encode(_documents._assumption_dict(a, whole))
    if whole:
        value = round(value)
    flag = "true" if a.is_assumption else "false"
    return (
        f'{{"value": {value!r}, "unit": {_text_json(a.unit)}, "origin": "user", "assumption": {flag}, '
        f'"source": {_text_json(a.source)}}}'
    )


def fields_json(names: tuple[str, ...], values: Sequence[Any]) -> str:
    """Values at --fields paths as a JSON object, the same bytes as json.dumps: plain numbers (what a
    pipeline usually asks for) written into a frame made once, anything else through the encoder."""
    for value in values:
        if type(value) is not float and type(value) is not int or not math.isfinite(value):
            return encode(dict(zip(names, values, strict=True)))
    return _frame(names) % tuple(values)


@functools.lru_cache(maxsize=8)
def _frame(names: tuple[str, ...]) -> str:
    """{"days": %r, "cost_usd": %r}"""
    return "{" + ", ".join(encode(name).replace("%", "%%") + ": %r" for name in names) + "}"
