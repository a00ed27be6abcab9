"""The Python API: the commands as functions, for notebooks and scripts.

    >>> import llamacalc
    >>> run = llamacalc.train("llama-3.1-405b", gpus=16384)
    >>> run.days, run.ranges.days.p90
    >>> best = llamacalc.layout("llama-3.1-405b", gpus=16384, global_batch=2048).layouts[0]
    >>> llamacalc.check("llama-3.1-405b", max_cost="100 MUSD", confidence=0.9).passed
    >>> [r["days"] for r in llamacalc.batch({"model": "llama-3-8b", "gpus": g} for g in (256, 512))]

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

__all__ = [
    "Document", "InputError", "backtest_steps", "batch", "check", "compare", "fleet", "layout", "loss", "memory",
    "optimal", "serve", "train",
]  # fmt: skip


class Document(Mapping[str, Any]):
    """A JSON document with attribute access: `doc.ranges.days.p90` is `doc["ranges"]["days"]["p90"]`."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a document is read-only: '{name}' is the answer as computed; ask again to change it")

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
        _checked_types(function.__name__, args, kwargs)
        try:
            return function(*args, **kwargs)
        except InputError as error:  # the core names inputs; what resolve spells as flags is read back
            raise InputError(_in_names(error.in_names())) from None

    return wrapper


_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def _in_names(message: str) -> str:
    """A message as the API words it: each flag that resolve.py or a batch line spelled ('--seq-len')
    named as its keyword ('seq_len')."""
    return _FLAG.sub(lambda m: m[1].replace("-", "_"), message)


def _checked_types(command: str, args: tuple[Any, ...], inputs: Mapping[str, Any]) -> None:
    """Values as the command line has them, numbers or text, refused as InputError otherwise: a list,
    a dict or an integer no float holds would fail deep inside with a TypeError or an OverflowError."""
    from llamacalc.units import MAX_FLOAT_INT

    for name in args:
        if not isinstance(name, str):
            raise InputError(f"{command}: expected a preset name, got {type(name).__name__} {name!r:.40}")
    for key, value in inputs.items():
        if key == "presets":
            if isinstance(value, str | Path) or not isinstance(value, Iterable | None):
                raise InputError("presets: expected a list of folders or files, e.g. ['~/team-presets']")
        elif key in ("plan", "config"):
            if not isinstance(value, str | Path | None):
                raise InputError(f"{key}: expected the path of a file, got {type(value).__name__}")
        elif key in _SWITCHES:
            if not isinstance(value, bool):
                raise InputError(f"{key}: expected True or False, got {type(value).__name__} {value!r:.40}")
        elif key == "top":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
                raise InputError(f"top: expected a whole number of layouts from 1 to 1000, got {value!r:.40}")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            raise InputError(
                f"{key}: expected a number or text such as '2.5 USD/h', got {type(value).__name__} {value!r:.40}"
            )
        elif isinstance(value, int) and abs(value) > MAX_FLOAT_INT:
            raise InputError(f"{key}: a number of {len(str(value))} digits (too large)")


def _catalog(presets: Iterable[str | Path] | None) -> Any:
    from llamacalc.catalog import load_catalog, shipped_presets_dir

    return load_catalog([shipped_presets_dir(), *(Path(p) for p in presets or ())])


def _document(result: object) -> Document:
    from llamacalc.output.render import render

    return Document(json.loads(render(result, "json")))


@_input_names
def train(
    model: str | None = None,
    *,
    presets: Iterable[str | Path] | None = None,
    config: str | Path | None = None,
    vision: bool = False,
    goodput: bool = False,
    **inputs: Any,
) -> Document:
    """A run's compute, GPUs, days, GPU-hours, cost, energy and CO2 (`llamacalc train --json`).

    `layout='auto'` or `'tp8,pp16,dp128'` (with `global_batch`) takes the utilisation from the step
    model, with goodput; `goodput=True` (with `checkpoint_every` and `restart`) adds interruptions;
    `inference_tokens` the serving bill after; `config` a Hugging Face config.json as the model
    (`vision=True`: its vision tower counted in the total)."""
    from llamacalc.estimates.train import train_for
    from llamacalc.resolve import Resolver
    from llamacalc.setups import train_extras

    extra = {key: inputs.pop(key, None) for key in _TRAIN_EXTRAS}
    request = {key: value for key, value in {"model": model, **inputs}.items() if value is not None}
    _known(request, _TRAIN_INPUTS, "train")
    extras = train_extras(extra["layout"], extra["global_batch"], goodput, extra["checkpoint_every"],
                          extra["restart"], extra["inference_tokens"])  # fmt: skip
    catalog = _catalog(presets)
    if config is not None or vision:
        from llamacalc.hf_config import with_config

        given = None if config is None else Path(config)
        catalog, request["model"] = with_config(
            catalog, given, request.pop("model", None), request.get("tokens"), vision
        )
    return _document(train_for(Resolver(catalog), request, extras))


_TRAIN_EXTRAS = ("layout", "global_batch", "checkpoint_every", "restart", "inference_tokens")
_SWITCHES = ("vision", "goodput", "held_out")  # the keywords that are True or False


@_input_names
def layout(
    model: str | None = None,
    *,
    top: int = 5,
    presets: Iterable[str | Path] | None = None,
    config: str | Path | None = None,
    **inputs: Any,
) -> Document:
    """The fastest parallel layouts that fit, best first (`llamacalc layout --json`); `config` a Hugging
    Face config.json as the model."""
    from llamacalc.estimates.layout import estimate_layout
    from llamacalc.resolve import Resolver
    from llamacalc.setups import READS, layout_setup

    request = {"model": model, **inputs}
    _known(request, frozenset(READS["layout"]), "layout")
    catalog = _catalog(presets)
    if config is not None:
        from llamacalc.hf_config import with_config

        catalog, request["model"] = with_config(catalog, Path(config), model, "1T")
    return _document(estimate_layout(catalog, layout_setup(Resolver(catalog), request), keep=top))


@_input_names
def memory(model: str | None = None, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """Training memory per GPU under a layout (`llamacalc memory --json`)."""
    from llamacalc.estimates.memory import estimate_memory
    from llamacalc.setups import READS, memory_setup

    _known(inputs, frozenset(READS["memory"]), "memory")
    return _document(estimate_memory(memory_setup(_resolver(presets), model, inputs)))


@_input_names
def backtest_steps(*, presets: Iterable[str | Path] | None = None, held_out: bool = True) -> Document:
    """The step model against the published step times (`llamacalc backtest --steps --json`)."""
    from llamacalc.estimates.steps import backtest_steps as run

    return _document(run(_catalog(presets), held_out=held_out))


@_input_names
def optimal(*, law: str = "epoch", presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """The compute-optimal model for a budget (`compute`, `days` on `gpus`, or `budget`), or with
    `params` and `loss` the tokens to over-train to a loss (`llamacalc optimal --json`)."""
    from llamacalc.estimates.plan import optimal_for
    from llamacalc.inputs import HARDWARE_KEYS
    from llamacalc.plan_setups import PLAN_INPUTS, optimal_setup

    _known(inputs, frozenset(HARDWARE_KEYS) | set(PLAN_INPUTS), "optimal")
    resolver = _resolver(presets)
    return _document(optimal_for(resolver, optimal_setup(resolver, {**inputs, "law": law})))


@_input_names
def loss(model: str | None = None, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """Each law's predicted loss of N parameters on D tokens (`llamacalc loss --json`); inputs
    `params`, `tokens` and `law`."""
    from llamacalc.estimates.plan import loss_for
    from llamacalc.plan_setups import loss_setup

    _known(inputs, frozenset({"params", "tokens", "law"}), "loss")
    law = inputs.get("law") or "epoch"
    catalog = _catalog(presets)
    return _document(
        loss_for(catalog, loss_setup(catalog, model, inputs.get("params"), inputs.get("tokens"), str(law)))
    )


@_input_names
def serve(model: str, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """A model served under load: TTFT, TPOT, tokens/s, $/M tokens (`llamacalc serve --json`)."""
    from llamacalc.estimates.serve import estimate_serve
    from llamacalc.setups import READS, serve_setup

    _known(inputs, frozenset(READS["serve"]), "serve")
    resolver = _resolver(presets)
    return _document(estimate_serve(resolver.catalog, serve_setup(resolver, model, inputs)))


@_input_names
def compare(*models: str, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """Models side by side under the same inputs (`llamacalc compare --json`)."""
    from llamacalc.estimates.train import compared

    _known(inputs, _TRAIN_INPUTS - {"model"}, "compare")
    return _document(compared(_resolver(presets), models, inputs))


@_input_names
def check(
    model: str | None = None,
    *,
    plan: str | Path | None = None,
    confidence: Any = 0.5,
    presets: Iterable[str | Path] | None = None,
    **inputs: Any,
) -> Document:
    """A run (or a TOML plan file of runs) against `max_cost`, `max_days`, ... (`llamacalc check --json`);
    `.passed` says whether every limit holds."""
    from llamacalc.check_setups import LIMITS, MAX_PLAN_BYTES, check_setup
    from llamacalc.estimates.checks import check_for
    from llamacalc.files import read_text

    limits = {key: inputs.pop(key) for key in list(inputs) if key in LIMITS}
    request = {key: value for key, value in {"model": model, **inputs}.items() if value is not None}
    _known(request, _TRAIN_INPUTS, "check")
    given = None if plan is None else (lambda: read_text(Path(plan), MAX_PLAN_BYTES), str(plan))
    return _document(check_for(_resolver(presets), check_setup(request, limits, confidence, given)))


@_input_names
def fleet(cluster: str, *, presets: Iterable[str | Path] | None = None, **inputs: Any) -> Document:
    """A cluster as owned capacity: $/GPU-hour, power, GPU-hours a year (`llamacalc fleet --json`)."""
    from llamacalc.estimates.fleet import fleet as fleet_view
    from llamacalc.setups import READS, fleet_setup

    _known(inputs, frozenset(READS["fleet"]), "fleet")
    resolver = _resolver(presets)
    return _document(fleet_view(resolver, fleet_setup(resolver, cluster, inputs)))


def batch(
    requests: Iterable[Mapping[str, Any]], *, presets: Iterable[str | Path] | None = None
) -> Iterator[dict[str, Any]]:
    """One result per request, in order, as `llamacalc batch` writes its lines: a train document, or
    `{"line": N, "error": "..."}` for a request that fails (the others go on)."""
    from llamacalc.estimates.batch import run_line
    from llamacalc.output.documents import train_json

    if isinstance(requests, str | bytes | Mapping) or not isinstance(requests, Iterable):
        raise InputError(f"batch: expected an iterable of dicts of inputs, got {type(requests).__name__}")
    resolver = _resolver(presets)
    for number, request in enumerate(requests, start=1):
        if not isinstance(request, Mapping):
            yield {"line": number, "error": f"expected a dict of train inputs, got {type(request).__name__}"}
            continue
        try:
            line = json.dumps(dict(request), allow_nan=False)
        except (TypeError, ValueError) as error:
            yield {"line": number, "error": f"not a request of numbers and text: {error}"}
            continue
        found = run_line(resolver, number, line)
        if isinstance(found, dict):  # an error object: its message names inputs as the API does
            yield {**found, "error": _in_names(found["error"])}
        else:
            yield json.loads(train_json(found))


def _resolver(presets: Iterable[str | Path] | None) -> Any:
    from llamacalc.resolve import Resolver

    return Resolver(_catalog(presets))


_TRAIN_INPUTS = frozenset(  # inputs.INPUTS, spelled out: importing it costs the one-liner (a test checks)
    {
        "model", "params", "active_params", "tokens", "gpu", "gpus", "days", "cluster", "mfu", "precision",
        "price", "pricing", "life", "power", "pue", "carbon", "flops", "recompute", "seq_len",
    }
)  # fmt: skip


def _known(given: Mapping[str, Any], known: frozenset[str] | set[str], command: str) -> None:
    from llamacalc.errors import did_you_mean

    for key in given:
        if key not in known:
            raise InputError(
                f"{command}: unknown input '{key}'{did_you_mean(key, sorted(known))}; "
                f"expected one of {', '.join(sorted(known))}"
            )
