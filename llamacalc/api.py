"""The Python API: the commands as functions, for notebooks and scripts.

    >>> import llamacalc
    >>> run = llamacalc.train("llama-3.1-405b", gpus=16384)
    >>> run.days, run.ranges.days.p90
    >>> best = llamacalc.layout("llama-3.1-405b", gpus=16384, global_batch=2048).layouts[0]

Keyword names are the inputs' names (`gpus`, `mfu`, `price`, `global_batch`, `tp`, ...); values are
numbers or unit strings, as on the command line. Each function returns a `Document`: the command's
`--json` document with attribute access (`to_dict()` gives it back exactly), computed by the same
estimate and the same renderer as the CLI, so the two cannot drift. Bad input raises
`llamacalc.InputError` (a ValueError) with the CLI's one-line message.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from llamacalc.errors import InputError

__all__ = ["Document", "InputError", "backtest_steps", "layout", "memory", "train"]


class Document(Mapping[str, Any]):
    """A JSON document with attribute access: `doc.ranges.days.p90` is `doc["ranges"]["days"]["p90"]`."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrapped(self._data[name])
        except KeyError:
            raise AttributeError(f"no '{name}' in this document; it has {', '.join(self._data)}") from None

    def __getitem__(self, key: str) -> Any:
        return _wrapped(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Document({self._data.get('schema', '')!r}, keys={list(self._data)})"

    def to_dict(self) -> dict[str, Any]:
        """The document exactly as `--json` prints it."""
        return json.loads(json.dumps(self._data))


def _wrapped(value: Any) -> Any:
    if isinstance(value, dict):
        return Document(value)
    if isinstance(value, list):
        return [_wrapped(item) for item in value]
    return value


def _input_names(function: Callable[..., Document]) -> Callable[..., Document]:
    """Errors that name inputs as the API spells them (`mfu`), not as the CLI does (`--mfu`)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Document:
        try:
            return function(*args, **kwargs)
        except InputError as error:
            raise InputError(_FLAG.sub(lambda m: m[1].replace("-", "_"), str(error))) from None

    return wrapper


_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def _catalog(presets: Iterable[str | Path] | None) -> Any:
    from llamacalc.catalog import load_catalog, shipped_presets_dir

    return load_catalog([shipped_presets_dir(), *(Path(p) for p in presets or ())])


def _document(result: object) -> Document:
    from llamacalc.output.render import render

    return Document(json.loads(render(result, "json")))


@_input_names
def train(model: str | None = None, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """A run's compute, GPUs, days, GPU-hours, cost, energy and CO2 (`llamacalc train --json`).

    `layout='auto'` or `'tp8,pp16,dp128'` takes the utilisation from the step model, with goodput."""
    from llamacalc.estimates.train import TrainReport, estimate, with_layout
    from llamacalc.resolve import Resolver

    catalog = _catalog(presets)
    plan, batch = inputs.pop("layout", None), inputs.pop("global_batch", None)
    request = {key: value for key, value in {"model": model, **inputs}.items() if value is not None}
    _known(request, _TRAIN_INPUTS, "train")
    if plan is not None:
        result, joined = with_layout(catalog, Resolver(catalog), request, str(plan), batch)
        return _document(TrainReport(result, layout=joined))
    return _document(TrainReport(estimate(Resolver(catalog), request)))


@_input_names
def layout(
    model: str | None = None, *, top: int = 5, presets: Iterable[str | Path] | None = None, **inputs: Any
) -> Document:
    """The fastest parallel layouts that fit, best first (`llamacalc layout --json`)."""
    from llamacalc.estimates.layout import estimate_layout

    request = {"model": model, **inputs}
    _known(request, _LAYOUT_INPUTS, "layout")
    return _document(estimate_layout(_catalog(presets), request, keep=top))


@_input_names
def memory(model: str | None = None, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """Training memory per GPU under a layout (`llamacalc memory --json`)."""
    from llamacalc.estimates.memory import estimate_memory

    _known(inputs, _MEMORY_INPUTS, "memory")
    text = {key: None if value is None else str(value) for key, value in inputs.items()}
    return _document(estimate_memory(_catalog(presets), model, text.pop("params", None), text.pop("gpu", None), **text))


@_input_names
def backtest_steps(*, presets: Iterable[str | Path] | None = None, held_out: bool = True) -> Document:
    """The step model against the published step times (`llamacalc backtest --steps --json`)."""
    from llamacalc.estimates.steps import backtest_steps as run

    return _document(run(_catalog(presets), held_out=held_out))


_TRAIN_INPUTS = frozenset(
    {
        "model", "params", "active_params", "tokens", "gpu", "gpus", "days", "cluster", "mfu", "precision",
        "price", "pricing", "life", "power", "pue", "carbon", "flops", "recompute", "seq_len",
    }
)  # fmt: skip
_LAYOUT_INPUTS = frozenset(
    {
        "model", "params", "gpu", "gpus", "cluster", "global_batch", "seq_len", "precision", "tp", "pp", "dp", "cp",
        "ep", "vp", "micro_batch", "zero", "recompute",
    }
)  # fmt: skip
_MEMORY_INPUTS = frozenset(
    {"params", "gpu", "tp", "pp", "ep", "dp", "cp", "vp", "zero", "micro_batch", "seq_len", "recompute"}
)


def _known(given: Mapping[str, Any], known: frozenset[str], command: str) -> None:
    from llamacalc.errors import did_you_mean

    for key in given:
        if key not in known:
            raise InputError(
                f"{command}: unknown input '{key}'{did_you_mean(key, sorted(known))}; "
                f"expected one of {', '.join(sorted(known))}"
            )
